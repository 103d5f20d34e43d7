/* commands.h - the table of `inas` sub-commands and the helpers they share.
 *
 * Each command is `int cmd_NAME(int argc, char **argv)` where argv[0] is the
 * command name; it returns the process exit code: 0 ok, 1 failure, 2 usage
 * error. Every command answers `--help` (and `-h`) with a usage text that
 * starts with "Usage: inas NAME" and exits 0. Add a command by writing its
 * cmd_*.c file in src/tools/, declaring it below and adding a row to the table
 * in commands.c. */
#ifndef INAS_TOOLS_COMMANDS_H
#define INAS_TOOLS_COMMANDS_H

#include <stdio.h>

typedef int (*inas_cmd_fn)(int argc, char **argv);

typedef struct inas_command {
    const char *name;
    inas_cmd_fn fn;
    const char *summary; /* one line for `inas help` */
} inas_command;

extern const inas_command inas_commands[]; /* terminated by a row with name NULL */
const inas_command *inas_find_command(const char *name);

/* Exit codes. */
enum { INAS_EXIT_OK = 0, INAS_EXIT_FAILURE = 1, INAS_EXIT_USAGE = 2 };

/* True when argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);
/* Prints "inas NAME: message" and "Try 'inas NAME --help'." to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "inas NAME: error: message" to stderr; returns 1. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The sub-commands. */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_ckpt(int argc, char **argv);
int cmd_recalibrate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_space(int argc, char **argv);
int cmd_arch(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_target(int argc, char **argv);
int cmd_lut(int argc, char **argv);

/* Benchmark suites (inas bench NAME), table in cmd_bench.c. */
int bench_cl(int argc, char **argv);
int bench_ops_main(int argc, char **argv);
int bench_eval(int argc, char **argv);
int bench_train(int argc, char **argv);
int bench_model(int argc, char **argv);

#endif
