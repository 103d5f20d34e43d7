/* test_cli_basic.c - exit codes of the `inas` program and --help of every command. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

Test(cli, version_prints_version) {
    char *out = NULL;
    cr_assert_eq(tu_run_cli("--version", &out), 0);
    cr_assert(strstr(out, "inas 0.") != NULL, "got: %s", out);
    free(out);
}

Test(cli, no_command_is_usage_error) {
    cr_assert_eq(tu_run_cli("", NULL), 2);
    cr_assert_eq(tu_run_cli("no-such-command", NULL), 2);
    cr_assert_eq(tu_run_cli("--no-such-flag", NULL), 2);
    cr_assert_eq(tu_run_cli("help no-such-command", NULL), 2);
}

/* Every command listed by `inas help` answers --help with exit 0 and a usage
 * line naming it, and `inas help NAME` shows the same. */
Test(cli, every_command_has_help) {
    char *list = NULL;
    cr_assert_eq(tu_run_cli("help", &list), 0);
    char *p = strstr(list, "Commands:\n");
    cr_assert_not_null(p);
    p += strlen("Commands:\n");
    int n = 0;
    while (strncmp(p, "  ", 2) == 0) {
        char name[64];
        cr_assert_eq(sscanf(p, " %63s", name), 1);
        char args[128], *out = NULL;
        snprintf(args, sizeof args, "%s --help", name);
        cr_assert_eq(tu_run_cli(args, &out), 0, "inas %s --help failed: %s", name, out);
        char want[96];
        snprintf(want, sizeof want, "Usage: inas %s", name);
        cr_assert(strstr(out, want) != NULL, "inas %s --help printed: %s", name, out);
        free(out);
        snprintf(args, sizeof args, "help %s", name);
        cr_assert_eq(tu_run_cli(args, NULL), 0, "inas help %s", name);
        n++;
        p = strchr(p, '\n');
        cr_assert_not_null(p);
        p++;
    }
    cr_assert_geq(n, 3, "expected several commands, parsed %d", n);
    free(list);
}
