/* testutil.h - helpers shared by the Criterion tests: shared data lookup (skip
 * or fail when absent), scratch directories, running the `inas` CLI, and an
 * OpenCL context on the device named by INAS_DEVICE. */
#ifndef INAS_TESTUTIL_H
#define INAS_TESTUTIL_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>

/* Directory of ../shared/data (env INAS_DATA_DIR), or NULL when it does not
 * exist. */
const char *tu_data_dir(void);

/* Path of a sub-path of the shared data into buf; when the data is missing the
 * current test is skipped with a message, or fails when CI=true. */
#define TU_REQUIRE_DATA(buf, sub)                                                      \
    do {                                                                               \
        const char *tu_d_ = tu_data_dir();                                             \
        if (!tu_d_) {                                                                  \
            if (tu_in_ci()) cr_assert_fail("shared data missing (INAS_DATA_DIR) and CI=true"); \
            cr_skip_test("shared data not found (INAS_DATA_DIR); skipping");           \
        }                                                                              \
        snprintf((buf), sizeof(buf), "%s/%s", tu_d_, (sub));                           \
    } while (0)

int tu_in_ci(void);

/* Makes a fresh scratch directory under $TMPDIR (or /tmp) and returns its path
 * (static storage per call site is not needed: the string is malloc'd). */
char *tu_mkdtemp(const char *tag);
/* rm -rf of a scratch directory made by tu_mkdtemp. */
void tu_rmrf(const char *path);
/* Writes a file with the given bytes; returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file (malloc'd, NUL-terminated); *len gets its size. NULL on failure. */
char *tu_read_file(const char *path, size_t *len);

/* Runs `$INAS_CLI args...` through the shell with stdout and stderr captured
 * into *out (malloc'd, may be NULL); returns the exit code (or -1). `args` is
 * a shell fragment, e.g. "devices --help". */
int tu_run_cli(const char *args, char **out);

#include "inas/runtime.h"
/* A context on INAS_DEVICE (or the default device); asserts on failure. */
inas_ctx *tu_ctx(void);
/* A context on a device with cl_khr_fp16: INAS_DEVICE's device when it has
 * it, else the first such device of any platform; NULL when there is none
 * (the caller skips with a message naming what was not tested). */
inas_ctx *tu_ctx_fp16(void);

#endif
