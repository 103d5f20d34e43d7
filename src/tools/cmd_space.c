/* cmd_space.c - `inas space show`: print the search space and its size. */
#include <stdio.h>
#include <string.h>

#include "inas/space.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas space show [--space FILE]\n\n"
            "Prints the search space as YAML (the built-in iNAS space, or FILE: a space YAML\n"
            "whose fields override the defaults) followed by its size: the number of distinct\n"
            "architectures (exact as a double, and log10), and the factor of each part.\n"
            "Size = stem widths x prod over stages of sum over depths d of\n"
            "(widths x (2^kernels - 1))^d x prod over head levels of the transport and\n"
            "decoder link subsets and kernel subsets.\n");
}

int cmd_space(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 2) return cli_usage_error("space", "expected a sub-command: show");
    if (strcmp(argv[1], "show") != 0) return cli_usage_error("space", "unknown sub-command '%s'", argv[1]);
    const char *file = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--space") == 0 && i + 1 < argc) file = argv[++i];
        else if (strncmp(argv[i], "--space=", 8) == 0) file = argv[i] + 8;
        else return cli_usage_error("space", "unexpected argument '%s'", argv[i]);
    }
    inas_space sp;
    inas_error err;
    inas_error_clear(&err);
    if (file) {
        if (inas_space_load(file, &sp, &err) != INAS_OK) return cli_fail("space", "%s", err.message);
    } else {
        inas_space_default(&sp);
    }
    printf("# search space: %s\n", file ? file : "built-in default (iNAS)");
    inas_space_write_yaml(&sp, stdout);
    printf("size: %.17g\n", inas_space_size(&sp));
    printf("log10_size: %.4f\n", inas_space_log10_size(&sp));
    printf("size_factors:\n  stem: %d\n  stages: [", inas_space_stem_widths(&sp));
    for (int s = 0; s < INAS_SPACE_STAGES; s++) printf("%s%.17g", s ? ", " : "", inas_space_stage_size(&sp, s));
    double rest = inas_space_size(&sp) / inas_space_stem_widths(&sp);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) rest /= inas_space_stage_size(&sp, s);
    printf("]\n  head: %.17g\n", rest);
    return INAS_EXIT_OK;
}
