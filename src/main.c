/* vigil: real-time anomaly detection for metric streams.
 * This file only dispatches to the subcommands (src/cmd_*.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "streams/broker.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"demo",   vg_cmd_demo,   "embedded broker + synthetic metrics + the detector, together"},
    {"run",    vg_cmd_run,    "the stream processor: Kafka in, incidents out"},
    {"replay", vg_cmd_replay, "score CSV files through the whole pipeline, as fast as it goes"},
    {"config", vg_cmd_config, "check a config; show which rule applies to a series"},
    {"broker", vg_broker_main, "an embedded Kafka broker on 127.0.0.1, for demos and tests"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vigil <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'vigil <command> --help' describes one command.\n");
}

int vg_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "vigil %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'vigil %s --help')\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("vigil %s\n", VIGIL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vigil: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
