/* cmd_train.c - `inas train`: sandwich-rule supernet training with progress,
 * a CSV log, periodic atomic checkpoints and exact resume. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/train.h"
#include "inas/util.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas train --images DIR --masks DIR -o CKPT [options]\n\n"
            "Trains the weight-sharing supernet with the sandwich rule (largest, smallest\n"
            "and two random sub-networks per step, in-place distillation) and writes a\n"
            "safetensors checkpoint.\n\n"
            "Options:\n"
            "  --images DIR, --masks DIR  training images and masks, paired by file stem\n"
            "  -o, --output CKPT          checkpoint to write (atomically)\n"
            "  --space FILE               search space YAML (default: the built-in iNAS space)\n"
            "  --steps N                  schedule length in sandwich steps (default 1000)\n"
            "  --stop-after N             stop after N steps of this run (the schedule stays --steps)\n"
            "  --batch N                  images per batch (default 8)\n"
            "  --sizes S1,S2,...          input sizes per batch (default: the space's train resolutions)\n"
            "  --lr X                     backbone learning rate (default 2e-4; head x10)\n"
            "  --warmup N                 linear warm-up steps (default steps/20)\n"
            "  --seed N                   seed of weights, sampling and data order (default 0)\n"
            "  --no-flip                  no random horizontal flips\n"
            "  --ckpt-every N             also write the checkpoint every N steps (default 100)\n"
            "  --log FILE.csv             per-step losses of the four sub-networks\n"
            "  --resume CKPT              continue a run from its checkpoint (exactly)\n"
            "  --device SEL               OpenCL device selector (default INAS_DEVICE)\n"
            "A NaN or infinite loss stops training with an error; the last checkpoint is kept.\n");
}

static int parse_sizes(const char *s, inas_train_config *c) {
    c->nsizes = 0;
    while (*s && c->nsizes < 16) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 4096 || (*end && *end != ',')) return 0;
        c->sizes[c->nsizes++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return c->nsizes > 0;
}

static int parse_long(const char *s, long *v, long min) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < min) return 0;
    *v = x;
    return 1;
}

static void on_skip(void *user, const char *path, const char *message) {
    (void)user;
    fprintf(stderr, "\ninas train: skipping %s: %s\n", path, message);
}

int cmd_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    inas_train_config cfg;
    inas_train_config_defaults(&cfg);
    const char *output = NULL, *space_file = NULL, *log_path = NULL, *resume = NULL, *device = NULL;
    long stop_after = -1, ckpt_every = 100, v;
    enum { O_IMAGES = 256, O_MASKS, O_SPACE, O_STEPS, O_STOP, O_BATCH, O_SIZES, O_LR, O_WARMUP, O_SEED, O_NOFLIP,
           O_EVERY, O_LOG, O_RESUME, O_DEVICE };
    static const struct option opts[] = {
        {"images", required_argument, 0, O_IMAGES}, {"masks", required_argument, 0, O_MASKS},
        {"output", required_argument, 0, 'o'},      {"space", required_argument, 0, O_SPACE},
        {"steps", required_argument, 0, O_STEPS},   {"stop-after", required_argument, 0, O_STOP},
        {"batch", required_argument, 0, O_BATCH},   {"sizes", required_argument, 0, O_SIZES},
        {"lr", required_argument, 0, O_LR},         {"warmup", required_argument, 0, O_WARMUP},
        {"seed", required_argument, 0, O_SEED},     {"no-flip", no_argument, 0, O_NOFLIP},
        {"ckpt-every", required_argument, 0, O_EVERY}, {"log", required_argument, 0, O_LOG},
        {"resume", required_argument, 0, O_RESUME}, {"device", required_argument, 0, O_DEVICE},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case O_IMAGES: cfg.images = optarg; break;
        case O_MASKS: cfg.masks = optarg; break;
        case 'o': output = optarg; break;
        case O_SPACE: space_file = optarg; break;
        case O_STEPS:
            if (!parse_long(optarg, &cfg.steps, 1)) return cli_usage_error("train", "--steps needs a positive integer");
            break;
        case O_STOP:
            if (!parse_long(optarg, &stop_after, 1)) return cli_usage_error("train", "--stop-after needs a positive integer");
            break;
        case O_BATCH:
            if (!parse_long(optarg, &v, 2) || v > 1024) return cli_usage_error("train", "--batch needs an integer in 2..1024");
            cfg.batch = (int)v;
            break;
        case O_SIZES:
            if (!parse_sizes(optarg, &cfg)) return cli_usage_error("train", "--sizes needs a list like 64,96");
            break;
        case O_LR: {
            char *end;
            cfg.lr = strtod(optarg, &end);
            if (*end || cfg.lr <= 0) return cli_usage_error("train", "--lr needs a positive number");
            break;
        }
        case O_WARMUP:
            if (!parse_long(optarg, &cfg.warmup, 0)) return cli_usage_error("train", "--warmup needs an integer >= 0");
            break;
        case O_SEED:
            if (!parse_long(optarg, &v, 0)) return cli_usage_error("train", "--seed needs an integer >= 0");
            cfg.seed = (uint64_t)v;
            break;
        case O_NOFLIP: cfg.flip = 0; break;
        case O_EVERY:
            if (!parse_long(optarg, &ckpt_every, 1)) return cli_usage_error("train", "--ckpt-every needs a positive integer");
            break;
        case O_LOG: log_path = optarg; break;
        case O_RESUME: resume = optarg; break;
        case O_DEVICE: device = optarg; break;
        default: return cli_usage_error("train", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!cfg.images || !cfg.masks || !output) return cli_usage_error("train", "--images, --masks and -o are required");

    inas_error err;
    inas_ctx *ctx;
    if (inas_ctx_create(&ctx, device, &err) != INAS_OK) return cli_fail("train", "%s", err.message);
    inas_trainer *tr = NULL;
    int rc = INAS_EXIT_FAILURE;
    FILE *log = NULL;
    if (resume) {
        if (inas_trainer_resume(ctx, resume, &cfg, on_skip, NULL, &tr, &err) != INAS_OK) {
            cli_fail("train", "%s", err.message);
            goto out;
        }
    } else {
        inas_space space;
        if (space_file) {
            if (inas_space_load(space_file, &space, &err) != INAS_OK) {
                cli_fail("train", "%s", err.message);
                goto out;
            }
        } else
            inas_space_default(&space);
        if (inas_trainer_create(ctx, &space, &cfg, on_skip, NULL, &tr, &err) != INAS_OK) {
            cli_fail("train", "%s", err.message);
            goto out;
        }
    }
    const inas_train_config *tc = inas_trainer_config(tr);
    if (log_path) {
        int append = resume != NULL;
        log = fopen(log_path, append ? "a" : "w");
        if (!log) {
            cli_fail("train", "%s: cannot open the log: %s", log_path, strerror(errno));
            goto out;
        }
        if (!append) fprintf(log, "step,lr,size,loss_largest,loss_smallest,loss_random1,loss_random2,images_per_s\n");
    }
    long start = inas_trainer_step_count(tr), end = tc->steps;
    if (stop_after > 0 && start + stop_after < end) end = start + stop_after;
    fprintf(stderr, "inas train: %s, %zu trainable parameters, steps %ld..%ld of %ld, batch %d\n",
            inas_ctx_device(ctx)->name, inas_supernet_num_params(inas_trainer_supernet(tr)), start + 1, end, tc->steps,
            tc->batch);
    inas_progress prog;
    /* counted in images (4 sub-networks x batch per step): the rate reads as images/s */
    uint64_t per_step = 4 * (uint64_t)tc->batch;
    inas_progress_begin(&prog, stderr, "train", (uint64_t)(end - start) * per_step);
    double t0 = inas_wall_ms(), last = t0;
    inas_step_losses sl = {0};
    for (long s = start; s < end; s++) {
        if (inas_trainer_step(tr, &sl, &err) != INAS_OK) {
            inas_progress_end(&prog);
            cli_fail("train", "%s", err.message);
            fprintf(stderr, "inas train: the last checkpoint written (if any) is kept unchanged\n");
            goto out;
        }
        double now = inas_wall_ms();
        double ips = 4.0 * tc->batch / ((now - last) / 1000.0);
        last = now;
        if (log) {
            fprintf(log, "%ld,%.6g,%d,%.6f,%.6f,%.6f,%.6f,%.1f\n", sl.step, sl.lr, sl.size, sl.loss[0], sl.loss[1],
                    sl.loss[2], sl.loss[3], ips);
            fflush(log);
        }
        snprintf(prog.label, sizeof prog.label, "step %ld loss %.4f, images", sl.step, sl.loss[0]);
        inas_progress_update(&prog, (uint64_t)(s + 1 - start) * per_step);
        if ((s + 1) % ckpt_every == 0 && s + 1 < end && inas_trainer_save(tr, output, &err) != INAS_OK) {
            inas_progress_end(&prog);
            cli_fail("train", "%s", err.message);
            goto out;
        }
    }
    inas_progress_end(&prog);
    if (inas_trainer_save(tr, output, &err) != INAS_OK) {
        cli_fail("train", "%s", err.message);
        goto out;
    }
    double secs = (inas_wall_ms() - t0) / 1000.0;
    printf("steps: %ld\nschedule: %ld\nlast_losses: {largest: %.6f, smallest: %.6f, random1: %.6f, random2: %.6f}\n"
           "seconds: %.1f\nskipped_pairs: %zu\ncheckpoint: %s\n",
           inas_trainer_step_count(tr), tc->steps, sl.loss[0], sl.loss[1], sl.loss[2], sl.loss[3], secs,
           inas_trainer_skipped(tr), output);
    rc = INAS_EXIT_OK;
out:
    if (log) fclose(log);
    inas_trainer_destroy(tr);
    inas_ctx_destroy(ctx);
    return rc;
}
