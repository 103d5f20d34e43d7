/* bench_train.c - `inas bench train`: milliseconds per sub-network forward,
 * backward and per sandwich step on synthetic data, with the device time of
 * one step broken down by kernel (op kind), at the requested batch and sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/supernet.h"
#include "inas/util.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas bench train [--space FILE] [--batch N] [--res 64,320] [--runs N] [--json] [--device SEL]\n\n"
            "Times, on random inputs and targets, the largest and the smallest architecture's\n"
            "training forward and backward, and a whole sandwich step (largest, smallest, two\n"
            "random, Adam), at batch N (default 8) and each resolution (default 64 and 320),\n"
            "printing medians of --runs (default 3) and the device time per kernel of one\n"
            "largest-network forward+backward.\n");
}

typedef struct job {
    inas_supernet *net;
    inas_arch arch[4];
    int narch;
    inas_tensor x, dy;
    int backward, adam;
} job;

static int run(void *u) {
    job *j = u;
    const inas_tensor *d[INAS_MAX_LEVELS];
    for (int i = 0; i < INAS_MAX_LEVELS; i++) d[i] = &j->dy;
    if (j->backward && inas_supernet_zero_grad(j->net) != INAS_OK) return 1;
    for (int a = 0; a < j->narch; a++) {
        inas_tensor outs[INAS_MAX_LEVELS];
        if (inas_supernet_forward(j->net, &j->arch[a], &j->x, INAS_PASS_TRAIN, 0, outs) != INAS_OK) return 1;
        if (j->backward && inas_supernet_backward(j->net, d) != INAS_OK) return 1;
    }
    if (j->adam && inas_supernet_adam_step(j->net, 1e-4, 1e-3, 0.9, 0.99) != INAS_OK) return 1;
    return inas_ctx_finish(inas_supernet_ctx(j->net)) == INAS_OK ? 0 : 1;
}

static int cmp_rec(const void *a, const void *b) {
    double x = ((const inas_profile_record *)a)->ms, y = ((const inas_profile_record *)b)->ms;
    return (x < y) - (x > y);
}

int bench_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *space_file = NULL, *device = NULL;
    int batch = 8, runs = 3, json = 0, res[8] = {64, 320}, nres = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("bench train", "option '%s' needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--space") == 0) space_file = v;
        else if (strcmp(a, "--device") == 0) device = v;
        else if (strcmp(a, "--batch") == 0) batch = atoi(v);
        else if (strcmp(a, "--runs") == 0) runs = atoi(v);
        else if (strcmp(a, "--res") == 0) {
            nres = 0;
            for (const char *p = v; *p && nres < 8;) {
                char *end;
                long r = strtol(p, &end, 10);
                if (end == p || r <= 0) return cli_usage_error("bench train", "bad --res list");
                res[nres++] = (int)r;
                p = *end == ',' ? end + 1 : end;
            }
        } else
            return cli_usage_error("bench train", "unknown option '%s'", a);
    }
    if (batch < 2 || runs < 1) return cli_usage_error("bench train", "--batch >= 2 and --runs >= 1");
    inas_error err;
    inas_space space;
    if (space_file ? inas_space_load(space_file, &space, &err) != INAS_OK : (inas_space_default(&space), 0))
        return cli_fail("bench train", "%s", err.message);
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("bench train", "%s", err.message);
    inas_supernet *net;
    if (inas_supernet_create(ctx, &space, 1, &net) != INAS_OK) {
        int rc = cli_fail("bench train", "%s", inas_ctx_last_error(ctx));
        inas_ctx_destroy(ctx);
        return rc;
    }
    if (!json)
        printf("device: %s\nspace: %s, %zu trainable parameters; batch %d; medians of %d runs (ms)\n",
               inas_ctx_device(ctx)->name, space_file ? space_file : "built-in", inas_supernet_num_params(net), batch,
               runs);
    else
        printf("{\"device\": \"%s\", \"batch\": %d, \"results\": [", inas_ctx_device(ctx)->name, batch);
    int first = 1, rc = INAS_EXIT_OK;
    inas_rng r;
    inas_rng_seed(&r, 3);
    for (int ri = 0; ri < nres && rc == INAS_EXIT_OK; ri++) {
        int R = res[ri];
        job j = {.net = net};
        float *h = malloc((size_t)batch * 3 * R * R * sizeof *h);
        if (!h || inas_tensor_alloc(ctx, &j.x, batch, 3, R, R) != INAS_OK ||
            inas_tensor_alloc(ctx, &j.dy, batch, 1, R, R) != INAS_OK) {
            free(h);
            rc = cli_fail("bench train", "%s", inas_ctx_last_error(ctx));
            break;
        }
        for (size_t i = 0; i < (size_t)batch * 3 * R * R; i++) h[i] = inas_rng_float(&r) * 2 - 1;
        inas_tensor_write(ctx, &j.x, h);
        inas_tensor_fill(ctx, &j.dy, 1.0f / ((float)batch * R * R));
        free(h);
        static const char *names[] = {"largest", "smallest"};
        for (int which = 0; which < 3 && rc == INAS_EXIT_OK; which++) {
            inas_arch_sample_max(&space, &j.arch[0]);
            inas_arch_sample_min(&space, &j.arch[1]);
            inas_arch_sample_random(&space, &r, &j.arch[2]);
            inas_arch_sample_random(&space, &r, &j.arch[3]);
            for (int a = 0; a < 4; a++) j.arch[a].resolution = R;
            inas_timing tf, tb;
            const char *what = which < 2 ? names[which] : "sandwich_step";
            if (which < 2) {
                j.arch[0] = j.arch[which];
                j.narch = 1;
                j.adam = 0;
                j.backward = 0;
                if (inas_time_runs(run, &j, 1, runs, &tf) != INAS_OK) goto fail;
                j.backward = 1;
                if (inas_time_runs(run, &j, 1, runs, &tb) != INAS_OK) goto fail;
            } else {
                j.narch = 4;
                j.backward = 1;
                j.adam = 1;
                if (inas_time_runs(run, &j, 1, runs, &tb) != INAS_OK) goto fail;
                tf = tb;
            }
            if (json)
                printf("%s{\"res\": %d, \"what\": \"%s\", \"fwd_ms\": %.3f, \"fwd_bwd_ms\": %.3f}", first ? "" : ", ", R,
                       what, which < 2 ? tf.median_ms : 0.0, tb.median_ms);
            else if (which < 2)
                printf("  %dx%d %-14s forward %9.1f   forward+backward %9.1f\n", R, R, what, tf.median_ms, tb.median_ms);
            else
                printf("  %dx%d %-14s %9.1f  (4 forward+backward + Adam)\n", R, R, what, tb.median_ms);
            first = 0;
            if (which == 0 && !json) { /* where the largest network's time goes */
                j.narch = 1;
                j.backward = 1;
                j.adam = 0;
                inas_profile_begin(ctx);
                if (run(&j) != 0) goto fail;
                inas_profile_record *rec;
                size_t nrec;
                if (inas_profile_end(ctx, &rec, &nrec) != INAS_OK) goto fail;
                qsort(rec, nrec, sizeof *rec, cmp_rec);
                double total = 0;
                for (size_t i = 0; i < nrec; i++) total += rec[i].ms;
                printf("    device time by kernel (largest, forward+backward, %.1f ms in %zu kernels):\n", total, nrec);
                for (size_t i = 0; i < nrec && i < 12; i++)
                    printf("      %-28s %8.1f ms %5.1f%%  %5u launches\n", rec[i].label, rec[i].ms,
                           100 * rec[i].ms / total, rec[i].count);
                free(rec);
            }
            continue;
        fail:
            rc = cli_fail("bench train", "%dx%d %s: %s", R, R, what, inas_ctx_last_error(ctx));
        }
        inas_tensor_free(ctx, &j.x);
        inas_tensor_free(ctx, &j.dy);
        inas_pool_trim(ctx);
    }
    if (json) printf("]}\n");
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
    return rc;
}
