/* adb.c - the adb transport of the latency probe (DESIGN.md §5): the
 * ordinary `adb` client runs as a subprocess to push the standalone
 * inas-probe binary, the space and a chunk of block keys to the device, run
 * it there (pinned with taskset when the target says so) and pull its
 * results, which are merged into the LUT and saved after every chunk, so a
 * device lost mid-run keeps every finished entry. adb failures (no device,
 * lost device, a failing command) are reported with adb's own output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inas/lut.h"
#include "inas/util.h"
#include "latency/latency_internal.h"

typedef struct adb_ctx {
    const char *adb;
    const inas_target *t;
    char out[8192]; /* output of the last command */
} adb_ctx;

/* Runs argv (NULL-terminated) capturing stdout+stderr into a->out; returns
 * the exit status (127: could not start, -1: killed). */
static int run(adb_ctx *a, char *const *argv) {
    a->out[0] = '\0';
    int fd[2];
    if (pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    char buf[1024];
    ssize_t r;
    while ((r = read(fd[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
        if (r <= 0) continue;
        size_t take = (size_t)r < sizeof a->out - 1 - len ? (size_t)r : sizeof a->out - 1 - len;
        memcpy(a->out + len, buf, take);
        len += take;
    }
    a->out[len] = '\0';
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    while (len && (a->out[len - 1] == '\n' || a->out[len - 1] == '\r')) a->out[--len] = '\0';
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* adb [-s SERIAL] ARGS... */
static int adb(adb_ctx *a, const char *a1, const char *a2, const char *a3) {
    char *argv[8];
    int n = 0;
    argv[n++] = (char *)a->adb;
    if (a->t->adb.serial[0]) {
        argv[n++] = "-s";
        argv[n++] = (char *)a->t->adb.serial;
    }
    argv[n++] = (char *)a1;
    if (a2) argv[n++] = (char *)a2;
    if (a3) argv[n++] = (char *)a3;
    argv[n] = NULL;
    return run(a, argv);
}

static inas_status adb_fail(adb_ctx *a, inas_error *err, const char *what, int rc) {
    const char *dev = a->t->adb.serial[0] ? a->t->adb.serial : "(default device)";
    if (rc == 127)
        return inas_error_set(err, INAS_ERR_EXTERNAL, "adb: cannot run '%s' (install the Android platform tools or "
                                                      "set INAS_ADB): %s", a->adb, a->out);
    return inas_error_set(err, INAS_ERR_EXTERNAL, "adb %s on %s failed (exit %d): %s", what, dev, rc,
                          a->out[0] ? a->out : "(no output)");
}

/* Single-quotes s for the device shell. */
static void quote(char *dst, size_t len, const char *s) {
    size_t n = 0;
    if (len < 3) return;
    dst[n++] = '\'';
    for (; *s && n + 5 < len; s++) {
        if (*s == '\'') {
            memcpy(dst + n, "'\\''", 4);
            n += 4;
        } else dst[n++] = *s;
    }
    dst[n++] = '\'';
    dst[n] = '\0';
}

/* Parses the probe's results file into the LUT; *got counts the entries. */
static inas_status merge(const char *path, inas_lut *lut, size_t *got, inas_error *err) {
    char *text;
    size_t len;
    inas_status st = inas_read_file(path, &text, &len, err);
    if (st) return st;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && st == INAS_OK; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (!strncmp(line, "# device: ", 10)) {
            snprintf(lut->device, sizeof lut->device, "%s", line + 10);
            continue;
        }
        if (!strncmp(line, "# driver: ", 10)) {
            snprintf(lut->driver, sizeof lut->driver, "%s", line + 10);
            continue;
        }
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        inas_block_key k;
        if (!t1 || !t2) {
            /* a line cut by a lost connection: ignore a last partial line */
            continue;
        }
        *t1 = *t2 = '\0';
        char *e1, *e2;
        double ms = strtod(t1 + 1, &e1), sp = strtod(t2 + 1, &e2);
        if (*e1 || *e2 || inas_block_key_parse(line, &k, NULL) != INAS_OK)
            st = inas_error_set(err, INAS_ERR_FORMAT, "%s:%d: malformed probe result", path, lineno);
        else if (inas_lut_set(lut, line, ms, sp) != INAS_OK)
            st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory (LUT)");
        else (*got)++;
    }
    free(text);
    return st;
}

inas_status inas_lut_probe_adb(const inas_target *t, const inas_space *sp, const char *path,
                               const inas_probe_opts *opts, inas_probe_result *res, inas_error *err) {
    inas_probe_opts o = {0};
    if (opts) o = *opts;
    inas_probe_result r = {0};
    if (t->transport != INAS_TRANSPORT_ADB)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "%s: transport is not adb", t->name);
    adb_ctx a = {0};
    a.t = t;
    a.adb = o.adb && *o.adb ? o.adb : (getenv("INAS_ADB") ? getenv("INAS_ADB") : "adb");
    const inas_target_probe *pr = &t->probe;
    inas_block_key *keys = NULL;
    size_t nk = 0;
    inas_status st = inas_lut_enumerate(sp, pr->resolution, &keys, &nk, err);
    if (st) return st;
    inas_lut lut;
    inas_lut_init(&lut);
    char tmpdir[] = "/tmp/inas-adb-XXXXXX", lk[1100], lr[1100], ls[1100];
    int have_tmp = 0, rc;
    FILE *f;
    if ((st = lat_lut_start(path, sp, t, o.resume, &lut, err))) goto done;

    /* the device must be there before anything is pushed */
    rc = adb(&a, "get-state", NULL, NULL);
    if (rc != 0 || strcmp(a.out, "device") != 0) {
        st = rc == 0 ? inas_error_set(err, INAS_ERR_EXTERNAL, "adb: device %s is '%s', not ready",
                                      t->adb.serial[0] ? t->adb.serial : "(default)", a.out)
                     : adb_fail(&a, err, "get-state (no device?)", rc);
        goto done;
    }
    if (!mkdtemp(tmpdir)) {
        st = inas_error_set(err, INAS_ERR_IO, "cannot create a temporary directory: %s", strerror(errno));
        goto done;
    }
    have_tmp = 1;
    snprintf(lk, sizeof lk, "%s/keys.txt", tmpdir);
    snprintf(lr, sizeof lr, "%s/results.txt", tmpdir);
    snprintf(ls, sizeof ls, "%s/space.yaml", tmpdir);
    if (!(f = fopen(ls, "w"))) {
        st = inas_error_set(err, INAS_ERR_IO, "cannot write %s", ls);
        goto done;
    }
    inas_space_write_yaml(sp, f);
    fclose(f);
    char rdir[1100], rq[1200], remote[1300];
    snprintf(rdir, sizeof rdir, "%s", t->adb.remote_dir);
    quote(rq, sizeof rq, rdir);
    snprintf(remote, sizeof remote, "mkdir -p %s", rq);
    if ((rc = adb(&a, "shell", remote, NULL)) != 0) {
        st = adb_fail(&a, err, "shell mkdir", rc);
        goto done;
    }
    snprintf(remote, sizeof remote, "%s/inas-probe", rdir);
    if ((rc = adb(&a, "push", t->adb.probe_binary, remote)) != 0) {
        st = adb_fail(&a, err, "push of the probe binary", rc);
        goto done;
    }
    snprintf(remote, sizeof remote, "%s/space.yaml", rdir);
    if ((rc = adb(&a, "push", ls, remote)) != 0) {
        st = adb_fail(&a, err, "push of the space", rc);
        goto done;
    }
    /* the work list: the overhead and every key not yet in the LUT */
    size_t todo_n = 0;
    char (*todo)[INAS_BLOCK_KEY_MAX] = malloc((nk + 1) * sizeof *todo);
    if (!todo) {
        st = inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    r.keys = nk + 1;
    if (!inas_lut_find(&lut, "overhead")) snprintf(todo[todo_n++], INAS_BLOCK_KEY_MAX, "overhead");
    else r.kept++;
    for (size_t i = 0; i < nk; i++) {
        char txt[INAS_BLOCK_KEY_MAX];
        inas_block_key_format(&keys[i], txt, sizeof txt);
        if (inas_lut_find(&lut, txt)) r.kept++;
        else snprintf(todo[todo_n++], INAS_BLOCK_KEY_MAX, "%s", txt);
    }
    size_t chunk = o.chunk > 0 ? (size_t)o.chunk : 32;
    inas_progress bar;
    if (o.progress) inas_progress_begin(&bar, o.progress, "probe (adb)", r.keys);
    char lib_dir[600] = "";
    snprintf(lib_dir, sizeof lib_dir, "%s", t->adb.opencl_library);
    if (strrchr(lib_dir, '/')) *strrchr(lib_dir, '/') = '\0';
    for (size_t start = 0; start < todo_n && st == INAS_OK; start += chunk) {
        if (o.stop_after > 0 && (int)r.measured >= o.stop_after) {
            st = inas_error_set(err, INAS_ERR_EXTERNAL, "probe interrupted after %zu measured keys (stop_after)",
                                r.measured);
            break;
        }
        size_t end = start + chunk < todo_n ? start + chunk : todo_n;
        if (!(f = fopen(lk, "w"))) {
            st = inas_error_set(err, INAS_ERR_IO, "cannot write %s", lk);
            break;
        }
        for (size_t i = start; i < end; i++) fprintf(f, "%s\n", todo[i]);
        fclose(f);
        snprintf(remote, sizeof remote, "%s/keys.txt", rdir);
        if ((rc = adb(&a, "push", lk, remote)) != 0) {
            st = adb_fail(&a, err, "push of the key list", rc);
            break;
        }
        char cmd[4096], q1[700], q2[700];
        quote(q1, sizeof q1, t->adb.opencl_library);
        quote(q2, sizeof q2, lib_dir);
        char pin[64] = "";
        if (t->adb.taskset[0]) snprintf(pin, sizeof pin, "taskset %s ", t->adb.taskset);
        char sel[512], qs[600];
        inas_target_selector(t, sel, sizeof sel);
        quote(qs, sizeof qs, sel);
        snprintf(cmd, sizeof cmd,
                 "cd %s && rm -f results.txt && INAS_OPENCL_LIBRARY=%s LD_LIBRARY_PATH=%s %s./inas-probe --keys keys.txt "
                 "--out results.txt --space space.yaml --resolution %d --batch %d --warmup %d --runs %d --statistic %s "
                 "--cooldown-ms %d --precision %s --device %s; echo \"inas-probe-exit=$?\"",
                 rq, q1, q2, pin, pr->resolution, pr->batch, pr->warmup, pr->runs, inas_statistic_name(pr->statistic),
                 pr->cooldown_ms, inas_precision_name(t->opencl.precision), qs);
        rc = adb(&a, "shell", cmd, NULL);
        char shell_out[sizeof a.out];
        snprintf(shell_out, sizeof shell_out, "%s", a.out);
        int probe_ok = rc == 0 && strstr(a.out, "inas-probe-exit=0") != NULL;
        /* pull whatever finished, even when the run failed */
        snprintf(remote, sizeof remote, "%s/results.txt", rdir);
        unlink(lr);
        int prc = adb(&a, "pull", remote, lr);
        size_t got = 0;
        if (prc == 0) {
            inas_error e2;
            if (merge(lr, &lut, &got, &e2) != INAS_OK) {
                st = inas_error_set(err, e2.code, "%s", e2.message);
                break;
            }
            r.measured += got;
            if (got) {
                inas_error e3;
                if (inas_lut_save(&lut, path, &e3)) {
                    st = inas_error_set(err, e3.code, "%s", e3.message);
                    break;
                }
            }
        }
        if (o.progress) inas_progress_update(&bar, r.measured + r.kept);
        if (!probe_ok) {
            if (rc != 0) {
                snprintf(a.out, sizeof a.out, "%s", shell_out);
                st = adb_fail(&a, err, "shell (device lost?)", rc);
            } else
                st = inas_error_set(err, INAS_ERR_EXTERNAL, "inas-probe failed on the device: %s", shell_out);
        } else if (prc != 0) {
            st = adb_fail(&a, err, "pull of the results", prc);
        }
    }
    if (o.progress) inas_progress_end(&bar);
    free(todo);
    if (st == INAS_OK) {
        inas_error e3;
        st = inas_lut_save(&lut, path, &e3);
        if (st) inas_error_set(err, e3.code, "%s", e3.message);
    }
done:
    if (have_tmp) {
        unlink(lk);
        unlink(lr);
        unlink(ls);
        rmdir(tmpdir);
    }
    if (res) *res = r;
    inas_lut_free(&lut);
    free(keys);
    return st;
}
