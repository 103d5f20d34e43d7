/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_in_ci(void) {
    const char *ci = getenv("CI");
    return ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
}

const char *tu_data_dir(void) {
    const char *d = getenv("INAS_DATA_DIR");
    struct stat st;
    if (!d || !*d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return d;
}

char *tu_mkdtemp(const char *tag) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    size_t n = strlen(tmp) + strlen(tag) + 32;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/inas-%s-XXXXXX", tmp, tag);
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void tu_rmrf(const char *path) {
    if (!path || strlen(path) < 8) return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    int rc = system(cmd);
    (void)rc;
}

int tu_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return (w == len && rc == 0) ? 0 : -1;
}

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) break;
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int tu_run_cli(const char *args, char **out) {
    const char *cli = getenv("INAS_CLI");
    if (!cli) cli = "inas";
    size_t n = strlen(cli) + strlen(args) + 32;
    char *cmd = malloc(n);
    snprintf(cmd, n, "'%s' %s 2>&1", cli, args);
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        size_t r = fread(buf + len, 1, cap - len, p);
        if (r == 0) break;
        len += r;
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out) *out = buf;
    else free(buf);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

inas_ctx *tu_ctx_fp16(void) {
    inas_error err;
    inas_device_info chosen, *all = NULL;
    size_t n = 0;
    const char *sel = getenv("INAS_DEVICE");
    int index = -1;
    if (inas_device_select(sel, &chosen, &err) == INAS_OK && chosen.fp16) index = chosen.index;
    if (index < 0 && inas_devices_list(&all, &n, &err) == INAS_OK)
        for (size_t i = 0; i < n && index < 0; i++)
            if (all[i].fp16) index = all[i].index;
    free(all);
    if (index < 0) return NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "index=%d", index);
    inas_ctx *ctx = NULL;
    cr_assert_eq(inas_ctx_create(&ctx, buf, &err), INAS_OK, "OpenCL context on the fp16 device: %s", err.message);
    return ctx;
}

inas_ctx *tu_ctx(void) {
    inas_error err;
    inas_ctx *ctx = NULL;
    cr_assert_eq(inas_ctx_create(&ctx, NULL, &err), INAS_OK, "OpenCL context: %s", err.message);
    return ctx;
}
