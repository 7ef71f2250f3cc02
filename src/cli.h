/* The subcommands of the vigil binary: each is one function taking the
 * arguments after its name, returning the process exit status
 * (0 ok, 1 failure, 2 usage error). */
#ifndef VG_SRC_CLI_H
#define VG_SRC_CLI_H

int vg_cmd_replay(int argc, char **argv);

/* Prints "vigil <cmd>: <msg>" to stderr; returns 2 (usage) for chaining. */
int vg_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
