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

Test(cli, devices_lists_and_selects) {
    char *out = NULL;
    cr_assert_eq(tu_run_cli("devices", &out), 0, "%s", out);
    cr_assert(strstr(out, "devices:") && strstr(out, "compute_units:") && strstr(out, "opencl_c:") &&
                  strstr(out, "fp16:"),
              "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("devices --select 0", &out), 0);
    cr_assert(strstr(out, "selected: {index: 0") != NULL, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("devices --select device=no-such-device-xyzzy", &out), 1);
    cr_assert(strstr(out, "no OpenCL device matches") && strstr(out, "[0]"), "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("devices --bogus", NULL), 2);
}

Test(cli, selftest_runs_a_kernel) {
    char *out = NULL;
    cr_assert_eq(tu_run_cli("selftest --n 4097", &out), 0, "%s", out);
    cr_assert(strstr(out, "selftest: ok") != NULL, "%s", out);
    free(out);
    cr_assert_eq(tu_run_cli("selftest --device device=no-such-device-xyzzy", NULL), 1);
    cr_assert_eq(tu_run_cli("selftest --n -5", NULL), 2);
    cr_assert_eq(tu_run_cli("bench", NULL), 2);
    cr_assert_eq(tu_run_cli("bench no-such-suite", NULL), 2);
    cr_assert_eq(tu_run_cli("bench cl --help", &out), 0);
    cr_assert(strstr(out, "Usage: inas bench cl") != NULL, "%s", out);
    free(out);
}

/* In INAS_DLOPEN_OPENCL builds, a wrong INAS_OPENCL_LIBRARY is a clear error
 * naming the library; in linked builds the variable is ignored. */
Test(cli, dlopen_library_errors_name_the_library) {
    char *out = NULL;
    cr_assert_eq(tu_run_cli("version", &out), 0);
    int dl = strstr(out, "dlopen") != NULL;
    free(out);
    setenv("INAS_OPENCL_LIBRARY", "/nonexistent/libOpenCL-test.so", 1);
    int rc = tu_run_cli("devices", &out);
    unsetenv("INAS_OPENCL_LIBRARY");
    if (dl) {
        cr_assert_eq(rc, 1, "%s", out);
        cr_assert(strstr(out, "/nonexistent/libOpenCL-test.so") != NULL, "%s", out);
    } else {
        cr_assert_eq(rc, 0, "linked builds ignore INAS_OPENCL_LIBRARY: %s", out);
    }
    free(out);
}
