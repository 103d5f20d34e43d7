/* files.c - whole-file reads and atomic writes (temporary file, fsync, rename). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inas/util.h"

inas_status inas_read_file(const char *path, char **data, size_t *len, inas_error *err) {
    if (!path || !data) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_read_file: null argument");
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return inas_error_set(err, errno == ENOENT ? INAS_ERR_NOT_FOUND : INAS_ERR_IO, "%s: %s", path,
                              strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return inas_error_set(err, INAS_ERR_NO_MEMORY, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return inas_error_set(err, INAS_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    if (len) *len = n;
    return INAS_OK;
}

struct inas_atomic_file {
    FILE *stream;
    char *path;
    char *tmp;
    int failed;
};

inas_status inas_atomic_open(const char *path, inas_atomic_file **out, inas_error *err) {
    if (!path || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_atomic_open: null argument");
    *out = NULL;
    inas_atomic_file *f = calloc(1, sizeof *f);
    size_t n = strlen(path) + 16;
    if (!f || !(f->path = strdup(path)) || !(f->tmp = malloc(n))) {
        if (f) free(f->path);
        free(f);
        return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(f->tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        inas_status s = inas_error_set(err, INAS_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                                       strerror(errno));
        free(f->tmp);
        free(f->path);
        free(f);
        return s;
    }
    fchmod(fd, 0644);
    f->stream = fdopen(fd, "wb");
    if (!f->stream) {
        close(fd);
        unlink(f->tmp);
        free(f->tmp);
        free(f->path);
        free(f);
        return inas_error_set(err, INAS_ERR_IO, "%s: fdopen failed", path);
    }
    *out = f;
    return INAS_OK;
}

FILE *inas_atomic_stream(inas_atomic_file *f) { return f ? f->stream : NULL; }

inas_status inas_atomic_write(inas_atomic_file *f, const void *data, size_t len, inas_error *err) {
    if (!f) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_atomic_write: null file");
    if (len && fwrite(data, 1, len, f->stream) != len) {
        f->failed = 1;
        return inas_error_set(err, INAS_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
    }
    return INAS_OK;
}

static void atomic_free(inas_atomic_file *f) {
    free(f->tmp);
    free(f->path);
    free(f);
}

void inas_atomic_abort(inas_atomic_file *f) {
    if (!f) return;
    if (f->stream) fclose(f->stream);
    unlink(f->tmp);
    atomic_free(f);
}

inas_status inas_atomic_commit(inas_atomic_file *f, inas_error *err) {
    if (!f) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_atomic_commit: null file");
    inas_status st = INAS_OK;
    if (f->failed || ferror(f->stream)) st = inas_error_set(err, INAS_ERR_IO, "%s: an earlier write failed", f->path);
    if (st == INAS_OK && fflush(f->stream) != 0)
        st = inas_error_set(err, INAS_ERR_IO, "%s: flush failed: %s", f->path, strerror(errno));
    if (st == INAS_OK && fsync(fileno(f->stream)) != 0)
        st = inas_error_set(err, INAS_ERR_IO, "%s: fsync failed: %s", f->path, strerror(errno));
    if (fclose(f->stream) != 0 && st == INAS_OK)
        st = inas_error_set(err, INAS_ERR_IO, "%s: close failed: %s", f->path, strerror(errno));
    f->stream = NULL;
    if (st == INAS_OK && rename(f->tmp, f->path) != 0)
        st = inas_error_set(err, INAS_ERR_IO, "%s: rename from %s failed: %s", f->path, f->tmp, strerror(errno));
    if (st != INAS_OK) {
        unlink(f->tmp);
        atomic_free(f);
        return st;
    }
    /* make the rename durable */
    char *dup = strdup(f->path);
    if (dup) {
        int dfd = open(dirname(dup), O_RDONLY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dup);
    }
    atomic_free(f);
    return INAS_OK;
}

inas_status inas_write_file_atomic(const char *path, const void *data, size_t len, inas_error *err) {
    inas_atomic_file *f;
    inas_status st = inas_atomic_open(path, &f, err);
    if (st != INAS_OK) return st;
    st = inas_atomic_write(f, data, len, err);
    if (st != INAS_OK) {
        inas_atomic_abort(f);
        return st;
    }
    return inas_atomic_commit(f, err);
}
