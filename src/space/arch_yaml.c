/* arch_yaml.c - the YAML form of an architecture: write, parse, load, save. */
#include <stdlib.h>
#include <string.h>

#include "inas/arch.h"
#include "space/yaml_util.h"

static void write_list(FILE *f, uint32_t m) {
    int first = 1;
    fputc('[', f);
    for (int j = 0; j < 32; j++)
        if (m & (1u << j)) {
            fprintf(f, "%s%d", first ? "" : ", ", j);
            first = 0;
        }
    fputc(']', f);
}

void inas_arch_write_yaml(const inas_arch *a, FILE *f, int indent, int comment) {
    int in = indent < 0 ? 0 : indent;
    if (comment) {
        size_t need = inas_arch_format_compact(a, NULL, 0);
        char *line = malloc(need + 1);
        if (line) {
            inas_arch_format_compact(a, line, need + 1);
            fprintf(f, "%*s# %s\n", in, "", line);
            free(line);
        }
    }
    fprintf(f, "%*sresolution: %d\n", in, "", a->resolution);
    fprintf(f, "%*sstem: %d\n", in, "", a->stem_width);
    fprintf(f, "%*sstages:\n", in, "");
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        const inas_arch_stage *st = &a->stages[s];
        fprintf(f, "%*s  - depth: %d  # stage %d\n", in, "", st->depth, s + 1);
        fprintf(f, "%*s    layers:\n", in, "");
        for (int l = 0; l < st->depth && l < INAS_MAX_DEPTH; l++) {
            fprintf(f, "%*s      - {width: %d, kernels: ", in, "", st->layers[l].width);
            write_list(f, st->layers[l].kernels);
            fprintf(f, "}\n");
        }
    }
    fprintf(f, "%*stransport:\n", in, "");
    for (int i = 0; i < a->num_levels && i < INAS_MAX_LEVELS; i++) {
        fprintf(f, "%*s  - {levels: ", in, "");
        write_list(f, a->transport_levels[i]);
        fprintf(f, ", kernels: ");
        write_list(f, a->transport_kernels[i]);
        fprintf(f, "}  # level %d\n", i);
    }
    fprintf(f, "%*sdecoder:\n", in, "");
    for (int i = 0; i < a->num_levels && i < INAS_MAX_LEVELS; i++) {
        fprintf(f, "%*s  - {extra: ", in, "");
        write_list(f, a->decoder_extra[i]);
        fprintf(f, ", kernels: ");
        write_list(f, a->decoder_kernels[i]);
        fprintf(f, "}  # level %d\n", i);
    }
}

static inas_status parse_arch(ydoc *d, yaml_node_t *root, inas_arch *a, inas_error *err) {
    inas_status st;
    char f[96];
    if (root->type == YAML_SCALAR_NODE) {
        st = inas_arch_parse_compact((const char *)root->data.scalar.value, a, err);
        if (st) inas_error_prefix(err, "%s:%zu:%zu", d->name, root->start_mark.line + 1, root->start_mark.column + 1);
        return st;
    }
    if ((st = ydoc_expect_map(d, root, "", err))) return st;
    static const char *const top[] = {"resolution", "stem", "stages", "transport", "decoder", NULL};
    if ((st = ydoc_check_keys(d, root, "", top, err))) return st;
    yaml_node_t *n;
    const char *req[] = {"resolution", "stem", "stages", "transport", "decoder"};
    for (int i = 0; i < 5; i++)
        if (!ydoc_get(d, root, req[i])) return ydoc_fail(d, root, req[i], err, "missing");
    if ((st = ydoc_int(d, ydoc_get(d, root, "resolution"), "resolution", 1, 8192, &a->resolution, err))) return st;
    if ((st = ydoc_int(d, ydoc_get(d, root, "stem"), "stem", 1, 4096, &a->stem_width, err))) return st;
    n = ydoc_get(d, root, "stages");
    if ((st = ydoc_expect_seq(d, n, "stages", err))) return st;
    if (ydoc_seq_len(n) != INAS_SPACE_STAGES)
        return ydoc_fail(d, n, "stages", err, "%d stages; expected %d", ydoc_seq_len(n), INAS_SPACE_STAGES);
    for (int s = 0; s < INAS_SPACE_STAGES; s++) {
        yaml_node_t *sn = ydoc_seq_at(d, n, s);
        snprintf(f, sizeof f, "stages[%d]", s);
        static const char *const keys[] = {"depth", "layers", NULL};
        if ((st = ydoc_expect_map(d, sn, f, err)) || (st = ydoc_check_keys(d, sn, f, keys, err))) return st;
        yaml_node_t *ln = ydoc_get(d, sn, "layers");
        if (!ln) return ydoc_fail(d, sn, f, err, "missing 'layers'");
        snprintf(f, sizeof f, "stages[%d].layers", s);
        if ((st = ydoc_expect_seq(d, ln, f, err))) return st;
        int depth = ydoc_seq_len(ln);
        if (depth < 1 || depth > INAS_MAX_DEPTH)
            return ydoc_fail(d, ln, f, err, "%d layers: must be 1..%d", depth, INAS_MAX_DEPTH);
        yaml_node_t *dn = ydoc_get(d, sn, "depth");
        if (dn) {
            int dv;
            snprintf(f, sizeof f, "stages[%d].depth", s);
            if ((st = ydoc_int(d, dn, f, 1, INAS_MAX_DEPTH, &dv, err))) return st;
            if (dv != depth) return ydoc_fail(d, dn, f, err, "depth %d but %d layers listed", dv, depth);
        }
        a->stages[s].depth = depth;
        for (int l = 0; l < depth; l++) {
            yaml_node_t *lyn = ydoc_seq_at(d, ln, l);
            snprintf(f, sizeof f, "stages[%d].layers[%d]", s, l);
            static const char *const lk[] = {"width", "kernels", NULL};
            if ((st = ydoc_expect_map(d, lyn, f, err)) || (st = ydoc_check_keys(d, lyn, f, lk, err))) return st;
            yaml_node_t *w = ydoc_get(d, lyn, "width"), *k = ydoc_get(d, lyn, "kernels");
            if (!w || !k) return ydoc_fail(d, lyn, f, err, "needs 'width' and 'kernels'");
            snprintf(f, sizeof f, "stages[%d].layers[%d].width", s, l);
            if ((st = ydoc_int(d, w, f, 1, 4096, &a->stages[s].layers[l].width, err))) return st;
            snprintf(f, sizeof f, "stages[%d].layers[%d].kernels", s, l);
            if ((st = ydoc_kset(d, k, f, &a->stages[s].layers[l].kernels, err))) return st;
        }
    }
    yaml_node_t *tn = ydoc_get(d, root, "transport"), *dn = ydoc_get(d, root, "decoder");
    if ((st = ydoc_expect_seq(d, tn, "transport", err)) || (st = ydoc_expect_seq(d, dn, "decoder", err))) return st;
    int L = ydoc_seq_len(tn);
    if (L < 1 || L > INAS_MAX_LEVELS) return ydoc_fail(d, tn, "transport", err, "%d levels: must be 1..%d", L, INAS_MAX_LEVELS);
    if (ydoc_seq_len(dn) != L)
        return ydoc_fail(d, dn, "decoder", err, "%d levels but transport has %d", ydoc_seq_len(dn), L);
    a->num_levels = L;
    for (int pass = 0; pass < 2; pass++) {
        yaml_node_t *seq = pass ? dn : tn;
        const char *nm = pass ? "decoder" : "transport", *lk = pass ? "extra" : "levels";
        for (int i = 0; i < L; i++) {
            yaml_node_t *e = ydoc_seq_at(d, seq, i);
            snprintf(f, sizeof f, "%s[%d]", nm, i);
            const char *const keys[] = {lk, "kernels", NULL};
            if ((st = ydoc_expect_map(d, e, f, err)) || (st = ydoc_check_keys(d, e, f, keys, err))) return st;
            yaml_node_t *ln = ydoc_get(d, e, lk), *k = ydoc_get(d, e, "kernels");
            if (!k) return ydoc_fail(d, e, f, err, "missing 'kernels'");
            uint32_t m = 0;
            if (ln) {
                snprintf(f, sizeof f, "%s[%d].%s", nm, i, lk);
                if ((st = ydoc_bits(d, ln, f, L, &m, err))) return st;
            } else if (!pass) {
                return ydoc_fail(d, e, f, err, "missing 'levels'");
            }
            snprintf(f, sizeof f, "%s[%d].kernels", nm, i);
            if (pass) {
                a->decoder_extra[i] = m;
                if ((st = ydoc_kset(d, k, f, &a->decoder_kernels[i], err))) return st;
            } else {
                a->transport_levels[i] = m;
                if ((st = ydoc_kset(d, k, f, &a->transport_kernels[i], err))) return st;
            }
        }
    }
    return INAS_OK;
}

inas_status inas_arch_parse_yaml(const char *text, size_t len, const char *name, inas_arch *out, inas_error *err) {
    if (!text || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_arch_parse_yaml: NULL argument");
    ydoc d;
    inas_status st = ydoc_load(&d, text, len, name, err);
    if (st) return st;
    inas_arch a;
    memset(&a, 0, sizeof a);
    yaml_node_t *root = ydoc_root(&d);
    if (!root) st = inas_error_set(err, INAS_ERR_FORMAT, "%s: empty document (expected an architecture)", d.name);
    else st = parse_arch(&d, root, &a, err);
    ydoc_free(&d);
    if (!st) *out = a;
    return st;
}

inas_status inas_arch_load(const char *path, const inas_space *space, inas_arch *arch, inas_error *err) {
    char *text;
    size_t len;
    inas_status st = inas_read_file(path, &text, &len, err);
    if (st) return st;
    inas_arch a;
    st = inas_arch_parse_yaml(text, len, path, &a, err);
    free(text);
    if (!st && space && (st = inas_arch_validate(&a, space, err))) inas_error_prefix(err, "%s", path);
    if (!st) *arch = a;
    return st;
}

inas_status inas_arch_save(const char *path, const inas_arch *arch, inas_error *err) {
    inas_atomic_file *f;
    inas_status st = inas_atomic_open(path, &f, err);
    if (st) return st;
    inas_arch_write_yaml(arch, inas_atomic_stream(f), 0, 1);
    return inas_atomic_commit(f, err);
}
