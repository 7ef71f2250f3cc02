/* The subcommands of the vigil binary: each is one function taking the
 * arguments after its name, returning the process exit status
 * (0 ok, 1 failure, 2 usage error). */
#ifndef VG_SRC_CLI_H
#define VG_SRC_CLI_H

#include <signal.h>

int vg_cmd_replay(int argc, char **argv);
int vg_cmd_run(int argc, char **argv);
int vg_cmd_demo(int argc, char **argv);
int vg_cmd_config(int argc, char **argv);

/* Makes SIGTERM and SIGINT set *flag (which it points at a static flag);
 * ignores SIGPIPE. */
void vg_cli_catch_stop_signals(volatile sig_atomic_t **flag);

/* Prints "vigil <cmd>: <msg>" to stderr; returns 2 (usage) for chaining. */
int vg_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
