/* inas.c - main() of the `inas` command-line tool: global flags and dispatch
 * to the sub-commands listed in commands.c. */
#include "tools/commands.h"

#include <stdio.h>
#include <string.h>

#include "inas/inas.h"

static void main_usage(FILE *f) {
    fprintf(f,
            "Usage: inas COMMAND [options]\n"
            "       inas --version | --help\n\n"
            "Device-aware integral neural architecture search for salient object detection.\n\n"
            "Commands:\n");
    for (const inas_command *c = inas_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f,
            "\n'inas COMMAND --help' shows a command's options.\n"
            "Environment: INAS_DEVICE selects the OpenCL device (e.g. 'cpu', 'gpu:1',\n"
            "'platform=NVIDIA,index=0'); INAS_LOG sets the log level (error|warn|info|debug).\n"
            "Exit codes: 0 ok, 1 failure, 2 usage error.\n");
}

int cmd_help(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("Usage: inas help [COMMAND]\n\nWithout COMMAND, lists the commands; with one, shows its usage.\n");
        return INAS_EXIT_OK;
    }
    if (argc < 2) {
        main_usage(stdout);
        return INAS_EXIT_OK;
    }
    if (argc > 2) return cli_usage_error("help", "expected at most one COMMAND");
    const inas_command *c = inas_find_command(argv[1]);
    if (!c) return cli_usage_error("help", "unknown command '%s'", argv[1]);
    char *sub[] = {argv[1], "--help", NULL};
    return c->fn(2, sub);
}

int cmd_version(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        printf("Usage: inas version\n\nPrints the inas version and how it reaches OpenCL.\n");
        return INAS_EXIT_OK;
    }
    if (argc > 1) return cli_usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("inas %s\n", inas_version());
    printf("opencl: %s\n", inas_build_info());
    return INAS_EXIT_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        main_usage(stderr);
        return INAS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        main_usage(stdout);
        return INAS_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        char *sub[] = {"version", NULL};
        return cmd_version(1, sub);
    }
    if (cmd[0] == '-') return cli_usage_error("", "unknown option '%s'", cmd) ;
    const inas_command *c = inas_find_command(cmd);
    if (!c) {
        fprintf(stderr, "inas: unknown command '%s'\nTry 'inas help'.\n", cmd);
        return INAS_EXIT_USAGE;
    }
    return c->fn(argc - 1, argv + 1);
}
