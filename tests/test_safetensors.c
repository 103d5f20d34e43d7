/* test_safetensors.c - the safetensors reader against a file written by the
 * Python safetensors package, writer round trips, and rejection of truncated,
 * corrupted and malformed files with messages naming the file. */
#include <stdlib.h>
#include <string.h>

#include "inas/safetensors.h"
#include "inas/util.h"
#include "testutil.h"

static char *scratch;
static void mk(void) { scratch = tu_mkdtemp("st"); }
static void rm(void) {
    tu_rmrf(scratch);
    free(scratch);
}
TestSuite(safetensors, .init = mk, .fini = rm);

static void ref_path(char *buf, size_t len) {
    const char *src = getenv("INAS_SOURCE_DIR");
    snprintf(buf, len, "%s/tests/data/reference.safetensors", src ? src : ".");
}

Test(safetensors, reads_file_written_by_python_safetensors) {
    char path[1024];
    ref_path(path, sizeof path);
    inas_st_file *f;
    inas_error err;
    cr_assert_eq(inas_st_open(path, &f, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_st_count(f), 5);
    cr_assert_str_eq(inas_st_meta(f, "format"), "pt");
    cr_assert_str_eq(inas_st_meta(f, "note"), "inas test vector");
    const inas_st_tensor *w = inas_st_find(f, "stem.conv.weight");
    cr_assert_not_null(w);
    cr_assert_eq(w->dtype, INAS_DTYPE_F32);
    cr_assert_eq(w->ndim, 4);
    cr_assert(w->shape[0] == 2 && w->shape[1] == 3 && w->shape[2] == 3 && w->shape[3] == 3);
    float v[54];
    memcpy(v, w->data, sizeof v);
    for (int i = 0; i < 54; i++) cr_assert_eq(v[i], i * 0.5f - 3.0f);
    const inas_st_tensor *nb = inas_st_find(f, "stem.bn.num_batches_tracked");
    cr_assert_eq(nb->dtype, INAS_DTYPE_I64);
    cr_assert_eq(nb->ndim, 0, "a scalar has shape []");
    int64_t n;
    memcpy(&n, nb->data, 8);
    cr_assert_eq(n, 7);
    const inas_st_tensor *h = inas_st_find(f, "misc.half");
    cr_assert_eq(h->dtype, INAS_DTYPE_F16);
    uint16_t hv[2];
    memcpy(hv, h->data, 4);
    cr_assert_eq(hv[0], 0x3C00);
    cr_assert_eq(hv[1], 0xB800);
    cr_assert_null(inas_st_find(f, "missing"));
    inas_st_close(f);
}

Test(safetensors, writer_round_trip) {
    char path[600];
    snprintf(path, sizeof path, "%s/w.safetensors", scratch);
    inas_st_writer *w;
    inas_error err;
    cr_assert_eq(inas_st_writer_create(&w, &err), INAS_OK);
    float a[6] = {1, 2, 3, 4, 5, 6};
    int64_t sa[2] = {2, 3};
    int64_t step = 1234;
    cr_assert_eq(inas_st_writer_add(w, "backbone.stage1.0.conv.weight", INAS_DTYPE_F32, 2, sa, a, &err), INAS_OK);
    cr_assert_eq(inas_st_writer_add(w, "step", INAS_DTYPE_I64, 0, NULL, &step, &err), INAS_OK);
    cr_assert_eq(inas_st_writer_add(w, "step", INAS_DTYPE_I64, 0, NULL, &step, &err), INAS_ERR_INVALID_ARG);
    cr_assert_eq(inas_st_writer_meta(w, "space", "{\"stages\": 7}\nline \"two\"", &err), INAS_OK);
    cr_assert_eq(inas_st_writer_meta(w, "inas.crc32", "x", &err), INAS_ERR_INVALID_ARG);
    cr_assert_eq(inas_st_writer_save(w, path, &err), INAS_OK, "%s", err.message);
    inas_st_writer_destroy(w);
    size_t len;
    char *bytes;
    cr_assert_eq(inas_read_file(path, &bytes, &len, &err), INAS_OK);
    uint64_t hl = 0;
    memcpy(&hl, bytes, 8);
    cr_assert_eq((8 + hl) % 8, 0, "data aligned to 8 bytes");
    free(bytes);
    inas_st_file *f;
    cr_assert_eq(inas_st_open(path, &f, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_st_count(f), 2);
    const inas_st_tensor *t = inas_st_find(f, "backbone.stage1.0.conv.weight");
    cr_assert_eq(memcmp(t->data, a, sizeof a), 0);
    cr_assert_str_eq(inas_st_meta(f, "space"), "{\"stages\": 7}\nline \"two\"", "escapes round trip");
    cr_assert_not_null(inas_st_meta(f, "inas.crc32"));
    inas_st_close(f);
}

/* A valid file written by inas, for the corruption tests. */
static char *make_file(size_t *len) {
    char path[600];
    snprintf(path, sizeof path, "%s/good.safetensors", scratch);
    inas_st_writer *w;
    inas_st_writer_create(&w, NULL);
    float a[64];
    for (int i = 0; i < 64; i++) a[i] = (float)i;
    int64_t s[1] = {64};
    inas_st_writer_add(w, "a", INAS_DTYPE_F32, 1, s, a, NULL);
    inas_st_writer_add(w, "b", INAS_DTYPE_F32, 1, s, a, NULL);
    cr_assert_eq(inas_st_writer_save(w, path, NULL), INAS_OK);
    inas_st_writer_destroy(w);
    char *bytes;
    cr_assert_eq(inas_read_file(path, &bytes, len, NULL), INAS_OK);
    return bytes;
}

static inas_status open_bytes(const char *bytes, size_t len, inas_error *err, char *path, size_t plen) {
    snprintf(path, plen, "%s/bad.safetensors", scratch);
    cr_assert_eq(tu_write_file(path, bytes, len), 0);
    inas_st_file *f = NULL;
    inas_status st = inas_st_open(path, &f, err);
    inas_st_close(f);
    return st;
}

Test(safetensors, every_truncation_is_rejected) {
    size_t len;
    char *good = make_file(&len);
    char path[600];
    inas_error err;
    for (size_t cut = 0; cut < len; cut++) {
        cr_assert_eq(open_bytes(good, cut, &err, path, sizeof path), INAS_ERR_FORMAT, "truncated to %zu bytes", cut);
        cr_assert(strstr(err.message, "bad.safetensors") != NULL, "names the file: %s", err.message);
    }
    cr_assert_eq(open_bytes(good, len, &err, path, sizeof path), INAS_OK);
    free(good);
}

Test(safetensors, corrupted_bytes_are_detected) {
    size_t len;
    char *good = make_file(&len);
    char path[600];
    inas_error err;
    /* a flipped bit in tensor data: CRC mismatch naming the tensor */
    good[len - 3] ^= 0x10;
    cr_assert_eq(open_bytes(good, len, &err, path, sizeof path), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "\"b\"") && strstr(err.message, "corrupted"), "%s", err.message);
    good[len - 3] ^= 0x10;
    /* every single-byte corruption of the header is rejected or harmless (never a crash) */
    uint64_t hl;
    memcpy(&hl, good, 8);
    int rejected = 0;
    for (size_t i = 8; i < 8 + hl; i++) {
        char keep = good[i];
        good[i] = (char)(keep ^ 0x5A);
        if (open_bytes(good, len, &err, path, sizeof path) != INAS_OK) rejected++;
        good[i] = keep;
    }
    cr_assert_gt(rejected, (int)(hl * 8 / 10), "most header corruptions are detected (%d of %llu)", rejected,
                 (unsigned long long)hl);
    /* garbage */
    const char *junk = "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": [1, 2], }";
    cr_assert_eq(open_bytes(junk, 8 + 16, &err, path, sizeof path), INAS_ERR_FORMAT);
    cr_assert_eq(open_bytes("hello", 5, &err, path, sizeof path), INAS_ERR_FORMAT);
    free(good);
}

static inas_status open_header(const char *header, inas_error *err, size_t data_bytes) {
    size_t hl = strlen(header), len = 8 + hl + data_bytes;
    char *b = calloc(1, len);
    for (int i = 0; i < 8; i++) b[i] = (char)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, header, hl);
    char path[600];
    inas_status st = open_bytes(b, len, err, path, sizeof path);
    free(b);
    return st;
}

Test(safetensors, malformed_headers_name_the_problem) {
    inas_error err;
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", &err, 8), INAS_OK,
                 "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", &err, 8), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "\"x\"") && strstr(err.message, "do not match"), "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", &err, 8), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "Q7") != NULL, "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                             "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                             &err, 12),
                 INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "overlap") != NULL, "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", &err, 12), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "hole") != NULL, "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                             "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                             &err, 16),
                 INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "twice") != NULL, "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", &err, 8), INAS_ERR_FORMAT);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} extra", &err, 8), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "trailing") != NULL, "%s", err.message);
    cr_assert_eq(open_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", &err, 12), INAS_ERR_FORMAT);
    cr_assert(strstr(err.message, "after the last tensor") != NULL, "%s", err.message);
    cr_assert_eq(open_header("{}", &err, 0), INAS_OK, "an empty file is valid");
    inas_st_file *f;
    cr_assert_eq(inas_st_open("/nonexistent/x.safetensors", &f, &err), INAS_ERR_NOT_FOUND);
}
