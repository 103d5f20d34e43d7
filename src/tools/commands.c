/* commands.c - the sub-command table of the `inas` program and shared CLI helpers. */
#include "tools/commands.h"

#include <stdarg.h>
#include <string.h>

const inas_command inas_commands[] = {
    {"help", cmd_help, "show the commands, or one command's usage"},
    {"version", cmd_version, "print the version of inas and of the OpenCL build"},
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"selftest", cmd_selftest, "build and run a small kernel on a device and check the result"},
    {"eval", cmd_eval, "SOD metrics of predictions against masks (PySODMetrics conventions)"},
    {"space", cmd_space, "show the search space and its size: inas space show [--space FILE]"},
    {"arch", cmd_arch, "sample or check architectures: inas arch sample|check ..."},
    {"data", cmd_data, "write a synthetic salient-object dataset: inas data synth --out DIR"},
    {"train", cmd_train, "train the weight-sharing supernet (sandwich rule, in-place distillation)"},
    {"recalibrate", cmd_recalibrate, "recalibrate BatchNorm statistics of an architecture in a checkpoint"},
    {"ckpt", cmd_ckpt, "inspect a checkpoint: inas ckpt info FILE"},
    {"export", cmd_export, "export an architecture from a supernet: BN folded, SMSUs merged, no retraining"},
    {"infer", cmd_infer, "run an exported model on images: saliency PNGs"},
    {"model", cmd_model, "inspect an exported model: inas model info MODEL_DIR"},
    {"target", cmd_target, "check a device target file: inas target check TARGET.yaml"},
    {"lut", cmd_lut, "latency lookup tables: inas lut keys|probe|predict|validate ..."},
    {"search", cmd_search, "LGS evolutionary search: the latency/quality Pareto front for a target"},
    {"bench", cmd_bench, "benchmarks: inas bench ops|cl|eval|train|model ..."},
    {NULL, NULL, NULL},
};

const inas_command *inas_find_command(const char *name) {
    for (const inas_command *c = inas_commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "inas %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'inas %s --help'.\n", cmd);
    va_end(ap);
    return INAS_EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "inas %s: error: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return INAS_EXIT_FAILURE;
}
