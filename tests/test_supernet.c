/* test_supernet.c - the whole supernet against the plain-C reference
 * (tests/support/ref_net.c): forward of the largest, smallest and random
 * architectures in training and eval mode, parameter gradients against
 * central finite differences of the reference, and the sharing rules
 * (untouched parameters and untouched slices get exactly zero gradient). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "inas/supernet.h"
#include "inas/util.h"
#include "ref_net.h"
#include "testutil.h"

static inas_ctx *ctx;
static inas_supernet *net;
static inas_space space;

static void setup(void) {
    ctx = tu_ctx();
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/space-small.yaml", getenv("INAS_SOURCE_DIR"));
    inas_error err;
    cr_assert_eq(inas_space_load(path, &space, &err), INAS_OK, "%s", err.message);
    cr_assert_eq(inas_supernet_create(ctx, &space, 7, &net), INAS_OK, "%s", inas_ctx_last_error(ctx));
}
static void teardown(void) {
    inas_supernet_destroy(net);
    inas_ctx_destroy(ctx);
}
TestSuite(supernet, .init = setup, .fini = teardown, .timeout = 300);

/* Random weights and statistics everywhere (tests/support/ref_net.c). */
static void randomize(uint64_t seed) { ref_net_randomize(net, seed); }

static void make_input(int n, int R, float *xf, double *xd, uint64_t seed) {
    tu_rand_floats(xf, (size_t)n * 3 * R * R, seed, -2.0f, 2.0f);
    tu_to_double(xf, xd, (size_t)n * 3 * R * R);
}

static void check_forward(const inas_arch *arch, int n, int R, int train, const char *what) {
    size_t px = (size_t)n * R * R;
    float *xf = malloc(px * 3 * sizeof *xf);
    double *xd = malloc(px * 3 * sizeof *xd), *want = malloc(px * space.num_levels * sizeof *want);
    make_input(n, R, xf, xd, 11);
    inas_tensor x, out[INAS_MAX_LEVELS];
    cr_assert_eq(inas_tensor_alloc(ctx, &x, n, 3, R, R), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &x, xf), INAS_OK);
    ref_net *ref = ref_net_load(net); /* before the forward: training mode updates running stats */
    cr_assert_eq(inas_supernet_forward(net, arch, &x, train ? INAS_PASS_TRAIN : INAS_PASS_EVAL, 0, out), INAS_OK, "%s: %s",
                 what, inas_ctx_last_error(ctx));
    ref_net_forward(ref, arch, xd, n, R, train, want);
    float *got = malloc(px * sizeof *got);
    for (int i = 0; i < space.num_levels; i++) {
        cr_assert_eq(out[i].shape[0], n);
        cr_assert_eq(out[i].shape[1], 1);
        cr_assert_eq(out[i].shape[2], R);
        cr_assert_eq(inas_tensor_read(ctx, &out[i], got), INAS_OK);
        char label[128];
        snprintf(label, sizeof label, "%s, %s mode, output %d", what, train ? "train" : "eval", i);
        /* float32 through ~25 layers vs double: 2e-4 absolute on probabilities */
        tu_assert_close(got, want + (size_t)i * px, px, 2e-4, 0, label);
    }
    ref_net_free(ref);
    inas_tensor_free(ctx, &x);
    free(xf);
    free(xd);
    free(want);
    free(got);
}

Test(supernet, forward_matches_reference) {
    randomize(1);
    inas_rng r;
    inas_rng_seed(&r, 5);
    inas_arch a;
    for (int which = 0; which < 4; which++) {
        const char *what = which == 0 ? "largest" : which == 1 ? "smallest" : "random";
        if (which == 0) inas_arch_sample_max(&space, &a);
        else if (which == 1) inas_arch_sample_min(&space, &a);
        else inas_arch_sample_random(&space, &r, &a);
        check_forward(&a, 2, 64, 1, what);
        check_forward(&a, 2, 64, 0, what);
    }
}

typedef struct fd_job {
    ref_net *ref;
    const inas_arch *arch;
    const double *x, *w; /* input and loss weights */
    int n, R, nl;
    double *param;       /* the reference parameter being perturbed */
    size_t index;
    double *out;
} fd_job;

/* L = sum_i sum(out_i * w_i), as a function of one parameter entry. */
static double loss_of(const double *p, size_t np, void *user) {
    (void)np;
    fd_job *j = user;
    j->param[j->index] = p[0];
    ref_net_forward(j->ref, j->arch, j->x, j->n, j->R, 1, j->out);
    double s = 0;
    size_t total = (size_t)j->nl * j->n * j->R * j->R;
    for (size_t i = 0; i < total; i++) s += j->out[i] * j->w[i];
    return s;
}

Test(supernet, parameter_gradients_match_finite_differences) {
    randomize(2);
    inas_arch a;
    inas_arch_sample_max(&space, &a);
    const int n = 2, R = 64, nl = space.num_levels;
    size_t px = (size_t)n * R * R;
    float *xf = malloc(px * 3 * sizeof *xf), *wf = malloc(px * nl * sizeof *wf);
    double *xd = malloc(px * 3 * sizeof *xd), *wd = malloc(px * nl * sizeof *wd), *out = malloc(px * nl * sizeof *out);
    make_input(n, R, xf, xd, 12);
    tu_rand_floats(wf, px * nl, 13, -1.0f, 1.0f);
    tu_to_double(wf, wd, px * nl);
    ref_net *ref = ref_net_load(net);
    inas_tensor x, outs[INAS_MAX_LEVELS], dys[INAS_MAX_LEVELS];
    const inas_tensor *dptr[INAS_MAX_LEVELS];
    cr_assert_eq(inas_tensor_alloc(ctx, &x, n, 3, R, R), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &x, xf), INAS_OK);
    cr_assert_eq(inas_supernet_zero_grad(net), INAS_OK);
    cr_assert_eq(inas_supernet_forward(net, &a, &x, INAS_PASS_TRAIN, 0, outs), INAS_OK, "%s", inas_ctx_last_error(ctx));
    for (int i = 0; i < nl; i++) {
        cr_assert_eq(inas_tensor_alloc(ctx, &dys[i], n, 1, R, R), INAS_OK);
        cr_assert_eq(inas_tensor_write(ctx, &dys[i], wf + (size_t)i * px), INAS_OK);
        dptr[i] = &dys[i];
    }
    cr_assert_eq(inas_supernet_backward(net, dptr), INAS_OK, "%s", inas_ctx_last_error(ctx));
    /* a sample of parameters across every kind of module */
    struct {
        const char *name;
        size_t index;
    } probe[] = {
        {"stem.conv.weight", 4},
        {"backbone.stage2.0.smsu.weight", 4},
        {"backbone.stage2.0.expand.bn.weight", 0},
        {"stem.bn.weight", 1},
        {"backbone.stage1.0.smsu.weight", 4}, /* centre tap of channel 0 (3x3) */
        {"backbone.stage1.0.se.reduce.bias", 0},
        {"backbone.stage2.0.expand.conv.weight", 3},
        {"backbone.stage2.1.smsu.bn3.bias", 2},
        {"backbone.stage3.0.smsu.transform5", 12 * 25 + 7},
        {"backbone.stage3.0.smsu.transform3", 4 * 9 + 4},
        {"backbone.stage3.0.shortcut.conv.weight", 1},
        {"backbone.stage4.1.project.bn.weight", 0},
        {"backbone.stage6.0.se.expand.weight", 2},
        {"head.transport0.branch3.conv.weight", 0},
        {"head.transport3.branch0.bn.weight", 1},
        {"head.transport2.smsu2.weight", 12},
        {"head.decoder0.branch1.conv.weight", 5},
        {"head.decoder1.smsu.transform5", 0},
        {"head.decoder4.bn.bias", 0},
        {"head.output0.weight", 3},
        {"head.output4.weight", 0},
    };
    fd_job job = {ref, &a, xd, wd, n, R, nl, NULL, 0, out};
    for (size_t k = 0; k < sizeof probe / sizeof *probe; k++) {
        size_t numel;
        job.param = ref_net_param(ref, probe[k].name, &numel);
        cr_assert_not_null(job.param, "%s", probe[k].name);
        job.index = probe[k].index;
        double p = job.param[job.index], fd;
        /* a small step in double: the network has kinks (ReLU, hardsigmoid, max
         * pool) that larger steps cross, which spoils the differences */
        tu_fd_grad(loss_of, &job, &p, 1, 1e-6 * fmax(1.0, fabs(p)), &fd);
        job.param[job.index] = p;
        float *g = malloc(numel * sizeof *g);
        cr_assert_eq(inas_supernet_read_param(net, probe[k].name, 1, g, NULL), INAS_OK);
        double got = g[job.index];
        free(g);
        /* float32 backward through the network vs double differences */
        cr_assert(fabs(got - fd) <= 1e-3 + 2e-3 * fabs(fd), "%s[%zu]: backward %.6g, finite differences %.6g",
                  probe[k].name, probe[k].index, got, fd);
        cr_assert(fabs(fd) > 1e-6, "%s[%zu]: probe has no influence (fd %g): pick another", probe[k].name,
                  probe[k].index, fd);
    }
    for (int i = 0; i < nl; i++) inas_tensor_free(ctx, &dys[i]);
    inas_tensor_free(ctx, &x);
    ref_net_free(ref);
    free(xf);
    free(wf);
    free(xd);
    free(wd);
    free(out);
}

static double abs_sum(const char *name, size_t from, size_t count_max) {
    size_t n;
    cr_assert_eq(inas_supernet_read_param(net, name, 1, NULL, &n), INAS_OK, "%s", name);
    float *g = malloc(n * sizeof *g);
    cr_assert_eq(inas_supernet_read_param(net, name, 1, g, NULL), INAS_OK);
    double s = 0;
    for (size_t i = from; i < n && i < from + count_max; i++) s += fabs(g[i]);
    free(g);
    return s;
}

Test(supernet, smallest_arch_touches_only_its_parameters) {
    randomize(3);
    inas_arch a;
    inas_arch_sample_min(&space, &a);
    const int n = 2, R = 64;
    float *xf = malloc((size_t)n * 3 * R * R * sizeof *xf);
    double *xd = malloc((size_t)n * 3 * R * R * sizeof *xd);
    make_input(n, R, xf, xd, 14);
    inas_tensor x, outs[INAS_MAX_LEVELS], dy;
    cr_assert_eq(inas_tensor_alloc(ctx, &x, n, 3, R, R), INAS_OK);
    cr_assert_eq(inas_tensor_write(ctx, &x, xf), INAS_OK);
    cr_assert_eq(inas_tensor_alloc(ctx, &dy, n, 1, R, R), INAS_OK);
    cr_assert_eq(inas_tensor_fill(ctx, &dy, 0.01f), INAS_OK);
    const inas_tensor *dptr[INAS_MAX_LEVELS];
    for (int i = 0; i < space.num_levels; i++) dptr[i] = &dy;
    cr_assert_eq(inas_supernet_zero_grad(net), INAS_OK);
    cr_assert_eq(inas_supernet_forward(net, &a, &x, INAS_PASS_TRAIN, 0, outs), INAS_OK, "%s", inas_ctx_last_error(ctx));
    cr_assert_eq(inas_supernet_backward(net, dptr), INAS_OK, "%s", inas_ctx_last_error(ctx));
    /* untouched: deeper layers, other kernels' transforms and BNs, unused fusion branches */
    const char *zero[] = {
        "backbone.stage2.1.expand.conv.weight", "backbone.stage3.1.smsu.weight", "backbone.stage3.0.smsu.transform5",
        "backbone.stage3.0.smsu.bn5.weight",    "head.transport0.branch1.conv.weight", "head.transport4.branch0.bn.bias",
        "head.decoder0.branch2.conv.weight",    "head.decoder1.smsu.transform5",
    };
    for (size_t i = 0; i < sizeof zero / sizeof *zero; i++)
        cr_assert_eq(abs_sum(zero[i], 0, (size_t)-1), 0.0, "%s should receive no gradient", zero[i]);
    /* touched */
    const char *used[] = {"stem.conv.weight", "backbone.stage3.0.smsu.transform3", "backbone.stage7.0.project.conv.weight",
                          "head.transport0.conv1.weight", "head.decoder0.branch1.conv.weight", "head.output2.weight"};
    for (size_t i = 0; i < sizeof used / sizeof *used; i++)
        cr_assert_gt(abs_sum(used[i], 0, (size_t)-1), 0.0, "%s should receive a gradient", used[i]);
    /* slices: the stem uses the first 8 of 12 output channels: rows 8..11 stay zero */
    cr_assert_eq(a.stem_width, 8);
    cr_assert_eq(abs_sum("stem.conv.weight", 8 * 27, 4 * 27), 0.0, "stem rows beyond the width");
    cr_assert_gt(abs_sum("stem.conv.weight", 0, 8 * 27), 0.0);
    /* the 3x3 branch of a 5x5 shared depthwise weight touches only the centre */
    int shape[4];
    cr_assert_eq(inas_supernet_param_shape(net, "backbone.stage3.0.smsu.weight", shape), 4);
    cr_assert_eq(shape[2], 5);
    size_t n3;
    cr_assert_eq(inas_supernet_read_param(net, "backbone.stage3.0.smsu.weight", 1, NULL, &n3), INAS_OK);
    float *g = malloc(n3 * sizeof *g);
    cr_assert_eq(inas_supernet_read_param(net, "backbone.stage3.0.smsu.weight", 1, g, NULL), INAS_OK);
    int mid = space.stages[2].expand * a.stages[1].layers[0].width;
    double border = 0, centre = 0;
    for (int c = 0; c < shape[0]; c++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) {
                double v = fabs(g[(c * 5 + i) * 5 + j]);
                int in_crop = i >= 1 && i <= 3 && j >= 1 && j <= 3 && c < mid;
                if (in_crop) centre += v;
                else border += v;
            }
    cr_assert_eq(border, 0.0, "outside the centre 3x3 crop of the first %d channels", mid);
    cr_assert_gt(centre, 0.0);
    free(g);
    inas_tensor_free(ctx, &dy);
    inas_tensor_free(ctx, &x);
    free(xf);
    free(xd);
}
