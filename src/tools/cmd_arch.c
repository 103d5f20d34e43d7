/* cmd_arch.c - `inas arch sample|check`: sample architectures of a space and
 * check architecture files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/arch.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas arch sample (--max | --min | --random) [--seed S] [--count N]\n"
            "                        [--space FILE] [--compact]\n"
            "       inas arch check FILE [--space FILE] [--yaml]\n\n"
            "sample: prints an architecture of the space as YAML (or, with --compact, as\n"
            "  one line): the largest (--max), the smallest (--min) or a uniform random one\n"
            "  (--random; --seed S, default 0, makes it reproducible; --count N prints N,\n"
            "  one YAML document or compact line each).\n"
            "check: reads an architecture (YAML, or a file holding the compact line),\n"
            "  validates it against the space and prints its compact form (--yaml: the\n"
            "  YAML form). Exits 1 with the reason when it is invalid.\n\n"
            "--space FILE uses a space YAML instead of the built-in iNAS space.\n");
}

static int load_space(const char *file, inas_space *sp) {
    inas_error err;
    inas_error_clear(&err);
    if (!file) {
        inas_space_default(sp);
        return 0;
    }
    if (inas_space_load(file, sp, &err) != INAS_OK) {
        cli_fail("arch", "%s", err.message);
        return 1;
    }
    return 0;
}

static void print_compact(const inas_arch *a) {
    char buf[8192];
    inas_arch_format_compact(a, buf, sizeof buf);
    printf("%s\n", buf);
}

static int parse_u64(const char *s, unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-') return 1;
    *out = v;
    return 0;
}

static int arch_sample(int argc, char **argv) {
    int mode = -1, compact = 0;
    unsigned long long seed = 0, count = 1;
    const char *space_file = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int m = !strcmp(a, "--max") ? INAS_SAMPLE_MAX : !strcmp(a, "--min") ? INAS_SAMPLE_MIN
                : !strcmp(a, "--random") ? INAS_SAMPLE_RANDOM : -1;
        if (m >= 0) {
            if (mode >= 0 && mode != m) return cli_usage_error("arch", "give one of --max, --min, --random");
            mode = m;
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            if (parse_u64(argv[++i], &seed)) return cli_usage_error("arch", "bad --seed '%s'", argv[i]);
        } else if (!strcmp(a, "--count") && i + 1 < argc) {
            if (parse_u64(argv[++i], &count) || count < 1 || count > 1000000)
                return cli_usage_error("arch", "bad --count '%s' (1..1000000)", argv[i]);
        } else if (!strcmp(a, "--space") && i + 1 < argc) {
            space_file = argv[++i];
        } else if (!strcmp(a, "--compact")) {
            compact = 1;
        } else {
            return cli_usage_error("arch", "unexpected argument '%s'", a);
        }
    }
    if (mode < 0) return cli_usage_error("arch", "sample needs --max, --min or --random");
    inas_space sp;
    if (load_space(space_file, &sp)) return INAS_EXIT_FAILURE;
    inas_rng rng;
    inas_rng_seed(&rng, seed);
    for (unsigned long long n = 0; n < count; n++) {
        inas_arch a;
        if (mode == INAS_SAMPLE_MAX) inas_arch_sample_max(&sp, &a);
        else if (mode == INAS_SAMPLE_MIN) inas_arch_sample_min(&sp, &a);
        else inas_arch_sample_random(&sp, &rng, &a);
        if (compact) {
            print_compact(&a);
        } else {
            if (count > 1) printf("---\n");
            inas_arch_write_yaml(&a, stdout, 0, 1);
        }
    }
    return INAS_EXIT_OK;
}

static int arch_check(int argc, char **argv) {
    const char *file = NULL, *space_file = NULL;
    int yaml = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--space") && i + 1 < argc) space_file = argv[++i];
        else if (!strcmp(argv[i], "--yaml")) yaml = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("arch", "unexpected argument '%s'", argv[i]);
        else if (!file) file = argv[i];
        else return cli_usage_error("arch", "check takes one FILE");
    }
    if (!file) return cli_usage_error("arch", "check needs a FILE");
    inas_space sp;
    if (load_space(space_file, &sp)) return INAS_EXIT_FAILURE;
    inas_arch a;
    inas_error err;
    inas_error_clear(&err);
    if (inas_arch_load(file, &sp, &a, &err) != INAS_OK) return cli_fail("arch", "%s", err.message);
    if (yaml) inas_arch_write_yaml(&a, stdout, 0, 1);
    else print_compact(&a);
    return INAS_EXIT_OK;
}

int cmd_arch(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 2) return cli_usage_error("arch", "expected a sub-command: sample or check");
    if (!strcmp(argv[1], "sample")) return arch_sample(argc, argv);
    if (!strcmp(argv[1], "check")) return arch_check(argc, argv);
    return cli_usage_error("arch", "unknown sub-command '%s'", argv[1]);
}
