/* cmd_target.c - `inas target check FILE`: parse and validate a device
 * target file (include/inas/target.h) and print its resolved form. */
#include <stdio.h>
#include <string.h>

#include "inas/target.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: inas target check TARGET.yaml\n\n"
               "Parses a device target file (targets/*.yaml), checks every field and prints the\n"
               "resolved target as YAML (defaults filled in, the device selector derived, the adb\n"
               "serial taken from ANDROID_SERIAL when the file has none). Errors name the file,\n"
               "line, column and field. Exit 0 valid, 1 invalid, 2 usage error.\n");
}

int cmd_target(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc < 2) return cli_usage_error("target", "missing sub-command (check)");
    if (strcmp(argv[1], "check") != 0) return cli_usage_error("target", "unknown sub-command '%s'", argv[1]);
    if (argc != 3) return cli_usage_error("target", "check needs exactly one TARGET.yaml");
    inas_target t;
    inas_error err;
    if (inas_target_load(argv[2], &t, &err) != INAS_OK) return cli_fail("target", "%s", err.message);
    printf("# %s: valid\n", argv[2]);
    inas_target_write_yaml(&t, stdout);
    return INAS_EXIT_OK;
}
