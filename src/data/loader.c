/* loader.c - the training batch loader: a deterministic stream of samples
 * (per-epoch shuffles, multi-scale sizes and flips all drawn from a saved
 * state) prepared on a worker thread, double-buffered, while the caller
 * trains on the previous batch. Unreadable pairs are reported once, counted
 * and replaced by the next sample of the stream. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inas/dataset.h"

typedef struct slot {
    inas_batch batch;
    inas_loader_state start, end; /* stream state before and after this batch */
    inas_status status;
    inas_error err;
} slot;

struct inas_loader {
    const inas_pair_list *pairs;
    inas_loader_config cfg;
    int *sizes;
    int max_size;
    void (*on_skip)(void *, const char *, const char *);
    void *user;

    unsigned char *bad; /* per pair: known unreadable */
    size_t skipped;

    uint64_t *order;    /* this epoch's permutation (worker-owned) */
    uint64_t order_epoch;
    int order_valid;

    slot slots[2];
    int current;        /* slot handed to the caller, -1 none */
    inas_loader_state next_state; /* state before the batch next() returns */

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int job;            /* slot index the worker should fill, -1 none */
    int done;           /* slot index finished, -1 none */
    int quit;
};

static void make_order(inas_loader *l, uint64_t epoch, uint64_t seed) {
    size_t n = l->pairs->n;
    for (size_t i = 0; i < n; i++) l->order[i] = i;
    if (l->cfg.shuffle) {
        inas_rng base, r;
        inas_rng_seed(&base, seed);
        r = inas_rng_split(&base, epoch);
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)inas_rng_below(&r, i);
            uint64_t t = l->order[i - 1];
            l->order[i - 1] = l->order[j];
            l->order[j] = t;
        }
    }
    l->order_epoch = epoch;
    l->order_valid = 1;
}

/* Fills slot s from s->start; runs on the worker thread. */
static void produce(inas_loader *l, slot *s) {
    inas_loader_state st = s->start;
    size_t n = l->pairs->n;
    int size = l->sizes[inas_rng_below(&st.rng, (uint64_t)l->cfg.nsizes)];
    size_t img_stride = (size_t)3 * size * size, mask_stride = (size_t)size * size;
    s->batch.size = size;
    s->batch.n = 0;
    s->batch.first_index = st.epoch * n + st.position;
    s->status = INAS_OK;
    size_t failures_in_row = 0;
    while (s->batch.n < l->cfg.batch) {
        if (!l->order_valid || l->order_epoch != st.epoch) make_order(l, st.epoch, st.seed);
        size_t idx = (size_t)l->order[st.position];
        if (++st.position == n) {
            st.position = 0;
            st.epoch++;
        }
        int flip = l->cfg.flip ? (int)inas_rng_below(&st.rng, 2) : 0;
        if (l->bad[idx]) {
            if (++failures_in_row >= n) goto all_bad;
            continue;
        }
        const inas_pair *p = &l->pairs->pairs[idx];
        inas_error e;
        inas_status rc = inas_load_sample(p->a_path, p->b_path, size, flip,
                                          s->batch.images + (size_t)s->batch.n * img_stride,
                                          s->batch.masks + (size_t)s->batch.n * mask_stride, &e);
        if (rc != INAS_OK) {
            pthread_mutex_lock(&l->mu);
            l->bad[idx] = 1;
            l->skipped++;
            pthread_mutex_unlock(&l->mu);
            if (l->on_skip) l->on_skip(l->user, p->a_path, e.message);
            if (++failures_in_row >= n) goto all_bad;
            continue;
        }
        failures_in_row = 0;
        s->batch.n++;
    }
    s->end = st;
    return;
all_bad:
    s->status = inas_error_set(&s->err, INAS_ERR_FORMAT, "no readable image/mask pair left among %zu pairs", n);
    s->end = st;
}

static void *worker(void *arg) {
    inas_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (l->job < 0 && !l->quit) pthread_cond_wait(&l->cv, &l->mu);
        if (l->quit) break;
        int j = l->job;
        pthread_mutex_unlock(&l->mu);
        produce(l, &l->slots[j]);
        pthread_mutex_lock(&l->mu);
        l->job = -1;
        l->done = j;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Asks the worker to fill slot j from state st (lock held). */
static void start_job(inas_loader *l, int j, const inas_loader_state *st) {
    l->slots[j].start = *st;
    l->done = -1;
    l->job = j;
    pthread_cond_broadcast(&l->cv);
}

static void wait_idle(inas_loader *l) {
    while (l->job >= 0) pthread_cond_wait(&l->cv, &l->mu);
}

inas_status inas_loader_create(const inas_pair_list *pairs, const inas_loader_config *cfg,
                               void (*on_skip)(void *, const char *, const char *), void *user, inas_loader **out,
                               inas_error *err) {
    if (!pairs || !cfg || !out || cfg->batch <= 0 || cfg->nsizes <= 0 || !cfg->sizes)
        return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_loader_create: bad arguments");
    if (pairs->n == 0) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_loader_create: the dataset has no pairs");
    *out = NULL;
    inas_loader *l = calloc(1, sizeof *l);
    if (!l) return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory");
    l->pairs = pairs;
    l->cfg = *cfg;
    l->on_skip = on_skip;
    l->user = user;
    l->sizes = malloc((size_t)cfg->nsizes * sizeof *l->sizes);
    l->bad = calloc(pairs->n, 1);
    l->order = malloc(pairs->n * sizeof *l->order);
    if (!l->sizes || !l->bad || !l->order) goto oom;
    for (int i = 0; i < cfg->nsizes; i++) {
        if (cfg->sizes[i] <= 0 || cfg->sizes[i] > 4096) {
            free(l->sizes);
            free(l->bad);
            free(l->order);
            free(l);
            return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_loader_create: size %d out of range", cfg->sizes[i]);
        }
        l->sizes[i] = cfg->sizes[i];
        if (cfg->sizes[i] > l->max_size) l->max_size = cfg->sizes[i];
    }
    l->cfg.sizes = l->sizes;
    size_t px = (size_t)l->max_size * l->max_size * (size_t)cfg->batch;
    for (int i = 0; i < 2; i++) {
        l->slots[i].batch.images = malloc(px * 3 * sizeof(float));
        l->slots[i].batch.masks = malloc(px * sizeof(float));
        if (!l->slots[i].batch.images || !l->slots[i].batch.masks) goto oom;
    }
    l->next_state.seed = cfg->seed;
    inas_rng_seed(&l->next_state.rng, cfg->seed ^ 0x6c6f61646572ULL);
    l->current = -1;
    l->job = -1;
    l->done = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, worker, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        goto oom;
    }
    pthread_mutex_lock(&l->mu);
    start_job(l, 0, &l->next_state);
    pthread_mutex_unlock(&l->mu);
    *out = l;
    return INAS_OK;
oom:
    for (int i = 0; i < 2; i++) {
        free(l->slots[i].batch.images);
        free(l->slots[i].batch.masks);
    }
    free(l->sizes);
    free(l->bad);
    free(l->order);
    free(l);
    return inas_error_set(err, INAS_ERR_NO_MEMORY, "out of memory for the loader's batch buffers");
}

inas_status inas_loader_next(inas_loader *l, const inas_batch **out, inas_error *err) {
    if (!l || !out) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_loader_next: null argument");
    pthread_mutex_lock(&l->mu);
    wait_idle(l);
    int j = l->done;
    if (j < 0) { /* nothing in flight (after an error): produce synchronously */
        j = l->current == 0 ? 1 : 0;
        start_job(l, j, &l->next_state);
        wait_idle(l);
    }
    slot *s = &l->slots[j];
    if (s->status != INAS_OK) {
        inas_status st = inas_error_set(err, s->status, "%s", s->err.message);
        l->done = -1;
        pthread_mutex_unlock(&l->mu);
        return st;
    }
    l->current = j;
    l->next_state = s->end;
    start_job(l, 1 - j, &l->next_state); /* prefetch the following batch */
    pthread_mutex_unlock(&l->mu);
    *out = &s->batch;
    return INAS_OK;
}

void inas_loader_get_state(inas_loader *l, inas_loader_state *out) {
    pthread_mutex_lock(&l->mu);
    *out = l->next_state;
    pthread_mutex_unlock(&l->mu);
}

inas_status inas_loader_set_state(inas_loader *l, const inas_loader_state *s, inas_error *err) {
    if (!l || !s) return inas_error_set(err, INAS_ERR_INVALID_ARG, "inas_loader_set_state: null argument");
    if (s->position >= l->pairs->n)
        return inas_error_set(err, INAS_ERR_INVALID_ARG,
                              "loader state: position %llu is beyond the dataset's %zu pairs (another dataset?)",
                              (unsigned long long)s->position, l->pairs->n);
    pthread_mutex_lock(&l->mu);
    wait_idle(l);
    l->next_state = *s;
    l->current = -1;
    start_job(l, 0, &l->next_state);
    pthread_mutex_unlock(&l->mu);
    return INAS_OK;
}

size_t inas_loader_skipped(const inas_loader *l) {
    inas_loader *m = (inas_loader *)l;
    pthread_mutex_lock(&m->mu);
    size_t n = l->skipped;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void inas_loader_destroy(inas_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    wait_idle(l);
    l->quit = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    for (int i = 0; i < 2; i++) {
        free(l->slots[i].batch.images);
        free(l->slots[i].batch.masks);
    }
    free(l->sizes);
    free(l->bad);
    free(l->order);
    free(l);
}
