/* test_core.c - status records, atomic file writes (crash mid-write, abort,
 * failed commit), whole-file reads, CRC32, the RNG and the progress bar. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inas/util.h"
#include "testutil.h"

Test(status, error_record_helpers) {
    inas_error e;
    inas_error_clear(&e);
    cr_assert_eq(e.code, INAS_OK);
    cr_assert_eq(inas_error_set(&e, INAS_ERR_FORMAT, "line %d: bad", 7), INAS_ERR_FORMAT);
    cr_assert_str_eq(e.message, "line 7: bad");
    cr_assert_eq(inas_error_prefix(&e, "%s", "model.yaml"), INAS_ERR_FORMAT);
    cr_assert_str_eq(e.message, "model.yaml: line 7: bad");
    cr_assert_str_eq(inas_status_name(INAS_ERR_BUILD), "INAS_ERR_BUILD");
    cr_assert_eq(inas_error_set(NULL, INAS_ERR_IO, "x"), INAS_ERR_IO, "NULL record is allowed");
    /* very long prefixes and messages are truncated, not overflowed */
    char big[6000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    inas_error_set(&e, INAS_ERR_IO, "%s", big);
    inas_error_prefix(&e, "%s", big);
    cr_assert_lt(strlen(e.message), sizeof e.message);
}

static char *scratch;
static void mk(void) { scratch = tu_mkdtemp("core"); }
static void rm(void) {
    tu_rmrf(scratch);
    free(scratch);
}
TestSuite(atomic, .init = mk, .fini = rm);

static int count_entries(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

Test(atomic, write_replaces_contents) {
    char path[512];
    snprintf(path, sizeof path, "%s/f.txt", scratch);
    inas_error e;
    cr_assert_eq(inas_write_file_atomic(path, "old", 3, &e), INAS_OK, "%s", e.message);
    cr_assert_eq(inas_write_file_atomic(path, "new contents", 12, &e), INAS_OK, "%s", e.message);
    char *got;
    size_t len;
    cr_assert_eq(inas_read_file(path, &got, &len, &e), INAS_OK);
    cr_assert_eq(len, 12);
    cr_assert_str_eq(got, "new contents");
    free(got);
    cr_assert_eq(count_entries(scratch), 1, "no temporary file left");
}

Test(atomic, crash_mid_write_leaves_old_file) {
    char path[512];
    snprintf(path, sizeof path, "%s/ckpt.bin", scratch);
    inas_error e;
    cr_assert_eq(inas_write_file_atomic(path, "OLD-CONTENTS", 12, &e), INAS_OK);
    pid_t pid = fork();
    if (pid == 0) { /* the child dies half-way through writing a new version */
        inas_atomic_file *f;
        if (inas_atomic_open(path, &f, NULL) != INAS_OK) _exit(3);
        char block[4096];
        memset(block, 'N', sizeof block);
        for (int i = 0; i < 64; i++) inas_atomic_write(f, block, sizeof block, NULL);
        fflush(inas_atomic_stream(f));
        _exit(9); /* no commit */
    }
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 9);
    char *got;
    size_t len;
    cr_assert_eq(inas_read_file(path, &got, &len, &e), INAS_OK);
    cr_assert_str_eq(got, "OLD-CONTENTS", "the old file is intact after the crash");
    free(got);
}

Test(atomic, abort_keeps_old_and_removes_temporary) {
    char path[512];
    snprintf(path, sizeof path, "%s/a.yaml", scratch);
    cr_assert_eq(inas_write_file_atomic(path, "v1", 2, NULL), INAS_OK);
    inas_atomic_file *f;
    cr_assert_eq(inas_atomic_open(path, &f, NULL), INAS_OK);
    fprintf(inas_atomic_stream(f), "v2 partial");
    inas_atomic_abort(f);
    char *got;
    cr_assert_eq(inas_read_file(path, &got, NULL, NULL), INAS_OK);
    cr_assert_str_eq(got, "v1");
    free(got);
    cr_assert_eq(count_entries(scratch), 1);
}

Test(atomic, failed_commit_reports_and_cleans_up) {
    /* the target is a non-empty directory: rename must fail */
    char path[512], inner[600];
    snprintf(path, sizeof path, "%s/target", scratch);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    cr_assert_eq(tu_write_file(inner, "k", 1), 0);
    inas_error e;
    cr_assert_eq(inas_write_file_atomic(path, "data", 4, &e), INAS_ERR_IO);
    cr_assert(strstr(e.message, path) != NULL, "names the file: %s", e.message);
    cr_assert_eq(count_entries(scratch), 1, "temporary removed");
    /* a directory that does not exist */
    snprintf(path, sizeof path, "%s/no/such/dir/file", scratch);
    cr_assert_eq(inas_write_file_atomic(path, "x", 1, &e), INAS_ERR_IO);
    cr_assert(strstr(e.message, "no/such/dir/file") != NULL, "%s", e.message);
}

Test(files, read_missing_file_is_not_found) {
    inas_error e;
    char *d;
    cr_assert_eq(inas_read_file("/nonexistent/inas/file", &d, NULL, &e), INAS_ERR_NOT_FOUND);
    cr_assert(strstr(e.message, "/nonexistent/inas/file") != NULL);
}

Test(crc32, known_vectors_and_chaining) {
    cr_assert_eq(inas_crc32(0, "123456789", 9), 0xCBF43926u);
    cr_assert_eq(inas_crc32(0, "", 0), 0u);
    cr_assert_eq(inas_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
    uint32_t c = inas_crc32(0, "12345", 5);
    cr_assert_eq(inas_crc32(c, "6789", 4), 0xCBF43926u, "chained pieces equal one pass");
}

Test(rng, same_seed_same_sequence) {
    inas_rng a, b, c;
    inas_rng_seed(&a, 1234);
    inas_rng_seed(&b, 1234);
    inas_rng_seed(&c, 1235);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = inas_rng_u64(&a);
        cr_assert_eq(x, inas_rng_u64(&b));
        differ += x != inas_rng_u64(&c);
    }
    cr_assert_gt(differ, 990, "another seed gives another sequence");
    /* xoshiro256** reference: state {1,2,3,4} gives 11520 then 0 then 1509978240 */
    inas_rng r = {{1, 2, 3, 4}};
    cr_assert_eq(inas_rng_u64(&r), 11520u);
    cr_assert_eq(inas_rng_u64(&r), 0u);
    cr_assert_eq(inas_rng_u64(&r), 1509978240u);
}

Test(rng, split_streams_are_deterministic_and_distinct) {
    inas_rng p;
    inas_rng_seed(&p, 99);
    inas_rng s1 = inas_rng_split(&p, 1), s1b = inas_rng_split(&p, 1), s2 = inas_rng_split(&p, 2);
    int same12 = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = inas_rng_u64(&s1);
        cr_assert_eq(x, inas_rng_u64(&s1b));
        same12 += x == inas_rng_u64(&s2);
    }
    cr_assert_eq(same12, 0);
    inas_rng q;
    inas_rng_seed(&q, 99);
    cr_assert_eq(inas_rng_u64(&p), inas_rng_u64(&q), "splitting does not advance the parent");
}

Test(rng, distributions_in_range_and_roughly_uniform) {
    inas_rng r;
    inas_rng_seed(&r, 5);
    int hist[10] = {0};
    double sum = 0, sq = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        float f = inas_rng_float(&r);
        cr_assert(f >= 0.0f && f < 1.0f);
        double d = inas_rng_double(&r);
        cr_assert(d >= 0.0 && d < 1.0);
        uint64_t k = inas_rng_below(&r, 10);
        cr_assert_lt(k, 10u);
        hist[k]++;
        double g = inas_rng_normal(&r);
        sum += g;
        sq += g * g;
    }
    for (int k = 0; k < 10; k++) cr_assert(hist[k] > 9500 && hist[k] < 10500, "bin %d: %d", k, hist[k]);
    cr_assert_lt(fabs(sum / n), 0.02);
    cr_assert_lt(fabs(sq / n - 1.0), 0.03);
}

Test(progress, format_and_silence_off_terminal) {
    inas_progress p;
    FILE *f = tmpfile();
    inas_progress_begin(&p, f, "train", 100);
    cr_assert_eq(p.enabled, 0, "a file is not a terminal: silent");
    p.start_ms -= 10000; /* pretend 10 s have passed */
    inas_progress_update(&p, 40);
    char line[256];
    inas_progress_format(&p, p.start_ms + 10000, line, sizeof line);
    cr_assert(strstr(line, "train") != NULL);
    cr_assert(strstr(line, "40/100") != NULL, "%s", line);
    cr_assert(strstr(line, "4.0/s") != NULL, "%s", line);
    cr_assert(strstr(line, "ETA 15s") != NULL, "%s", line);
    inas_progress_end(&p);
    cr_assert_eq(ftell(f), 0, "nothing written when not a terminal");
    inas_progress_force(&p, 1);
    inas_progress_end(&p);
    cr_assert_gt(ftell(f), 0, "forced drawing writes");
    fclose(f);
}
