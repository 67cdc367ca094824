/* cli_opts.h: what every client command of the CLI shares (synod kv, status, members,
 * leader): the common options, the command's own flags and positional arguments, usage
 * errors, and the exit codes.
 *
 *   --addr HOST:PORT[,HOST:PORT...]  the nodes' HTTP addresses (default: $SYNOD_HTTP_ADDR,
 *                                    else CLI_ADDRS_DEFAULT, the ports of `synod dev`)
 *   --json                           JSON for scripts instead of text for people
 *   --timeout MS                     for each exchange with a node (default 5000)
 *   --help, -h                       the command's help
 *
 * Options may come anywhere among the arguments, as "--name VALUE" or "--name=VALUE"; "--"
 * ends them (a key may start with "--"). Other arguments that start with a single '-' ("-",
 * standard input; "-5", a value) are arguments.
 */
#ifndef SYN_CLI_CLI_OPTS_H
#define SYN_CLI_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_ADDRS_DEFAULT "127.0.0.1:8501,127.0.0.1:8502,127.0.0.1:8503"
#define CLI_ADDR_ENV "SYNOD_HTTP_ADDR"
#define CLI_ADDRS_MAX 16u            /* addresses in --addr */
#define CLI_ADDR_LIST_SIZE_MAX 1024u /* the --addr text */
#define CLI_ARGS_MAX 8u              /* positional arguments of one command */
#define CLI_TIMEOUT_MS_DEFAULT 5000u
#define CLI_TIMEOUT_MS_MAX 600000u
#define CLI_ERR_SIZE 512u

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1, /* the node said no, not found, or no node could be reached */
    CLI_EXIT_USAGE = 2,
};

/* One flag of a command: "--learner" (value NULL) sets *set; "--cas N" (value non-NULL)
 * sets *set and *value. */
struct cli_flag {
    const char *name; /* without "--" */
    bool *set;
    const char **value; /* NULL: the flag takes no value */
};

struct cli_opts {
    const char *cmd; /* "synod kv put": for messages */
    char addr_list[CLI_ADDR_LIST_SIZE_MAX];
    const char *addrs[CLI_ADDRS_MAX]; /* into addr_list */
    uint32_t addr_count;
    bool json;
    bool help;
    uint32_t timeout_ms;
    const char *args[CLI_ARGS_MAX]; /* positional arguments, in order; borrowed from argv */
    uint32_t arg_count;
};

/* Reads argv[0 .. argc) (the arguments after the command's name) into o: the common
 * options, flags[0 .. flag_count), and the positional arguments. env_addr is
 * $SYNOD_HTTP_ADDR (NULL when unset). 0, or SYN_EINVAL with err saying why (an unknown
 * option, a missing or bad value, too many arguments or addresses). */
int cli_opts_parse(struct cli_opts *o, const char *cmd, int argc, char **argv,
                   const struct cli_flag *flags, size_t flag_count, const char *env_addr, char *err,
                   size_t err_size);

/* A subcommand: "put" of "synod kv put". */
struct cli_sub {
    const char *name;
    const char *cmd;  /* "synod kv put" */
    const char *help; /* printed for --help */
};

#define CLI_GO_ON (-1) /* cli_opts_begin*(): go on with the command */

/* The start of a command without subcommands: cli_opts_parse() with $SYNOD_HTTP_ADDR, then
 * help (on stdout) for --help, or a usage error. CLI_GO_ON, or the exit code to return. */
int cli_opts_begin(struct cli_opts *o, const char *cmd, int argc, char **argv,
                   const struct cli_flag *flags, size_t flag_count, const char *help);
/* The same for a command with subcommands: o->args[0] names one of subs[0 .. sub_count)
 * (without arguments: subs[0] when default_first, else a usage error), o->cmd becomes its
 * cmd and --help prints its help; top_help when --help names no subcommand. CLI_GO_ON with
 * *index the subcommand's, or the exit code to return. */
int cli_opts_begin_sub(struct cli_opts *o, const char *cmd, int argc, char **argv,
                       const struct cli_flag *flags, size_t flag_count, const struct cli_sub *subs,
                       size_t sub_count, bool default_first, const char *top_help, size_t *index);

/* Prints "CMD: <printf text>" and "(try CMD --help)" to stderr; returns CLI_EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int cli_usage(const struct cli_opts *o, const char *fmt, ...);
/* Prints "synod: <printf text>" to stderr; returns CLI_EXIT_FAILED. */
__attribute__((format(printf, 1, 2))) int cli_fail(const char *fmt, ...);

/* Writes the printf sentence into err (err_size bytes); returns SYN_EINVAL: a usage error's
 * reason, for the caller to print with cli_usage(). */
__attribute__((format(printf, 3, 4))) int cli_err(char *err, size_t err_size, const char *fmt,
                                                  ...);
/* Parses a decimal u64 in [0, max]: false otherwise. */
bool cli_u64_parse(const char *text, uint64_t max, uint64_t *out);

#endif
