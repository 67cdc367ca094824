/* cli_opts.c: the client commands' arguments (cli_opts.h). */
#include "cli/cli_opts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int cli_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return SYN_EINVAL;
}

bool cli_u64_parse(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (text == NULL || *text == '\0') {
        return false;
    }
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > (max - (uint64_t)(*p - '0')) / 10u) {
            return false;
        }
        v = v * 10u + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

/* Splits text (a comma-separated list) into o->addrs. */
static int addrs_set(struct cli_opts *o, const char *text, char *err, size_t err_size)
{
    if (strlen(text) >= sizeof(o->addr_list)) {
        return cli_err(err, err_size, "--addr: the list is too long");
    }
    snprintf(o->addr_list, sizeof(o->addr_list), "%s", text);
    o->addr_count = 0;
    char *save = NULL;
    for (char *a = strtok_r(o->addr_list, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save)) {
        if (o->addr_count == CLI_ADDRS_MAX) {
            return cli_err(err, err_size, "--addr: more than %u addresses", CLI_ADDRS_MAX);
        }
        o->addrs[o->addr_count++] = a;
    }
    return o->addr_count > 0 ? 0 : cli_err(err, err_size, "--addr: no address given");
}

/* The value of option name: after '=' in arg, or the next argument. */
static int value_take(const char *name, const char *eq, int argc, char **argv, int *i,
                      const char **value, char *err, size_t err_size)
{
    if (eq != NULL) {
        *value = eq + 1;
    } else if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        return cli_err(err, err_size, "--%s needs a value", name);
    }
    return 0;
}

/* One "--name[=value]" argument at argv[*i]. */
static int option_read(struct cli_opts *o, int argc, char **argv, int *i,
                       const struct cli_flag *flags, size_t flag_count, char *err, size_t err_size)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const char *value = NULL;
    int rc;
#define IS(word) (n == strlen(word) && memcmp(arg, word, n) == 0)
    if (IS("help")) {
        o->help = true;
    } else if (IS("json")) {
        o->json = true;
    } else if (IS("addr")) {
        rc = value_take("addr", eq, argc, argv, i, &value, err, err_size);
        return rc != 0 ? rc : addrs_set(o, value, err, err_size);
    } else if (IS("timeout")) {
        uint64_t ms;
        rc = value_take("timeout", eq, argc, argv, i, &value, err, err_size);
        if (rc == 0 && (!cli_u64_parse(value, CLI_TIMEOUT_MS_MAX, &ms) || ms == 0)) {
            rc = cli_err(err, err_size, "--timeout: expected milliseconds, 1 to %u",
                         CLI_TIMEOUT_MS_MAX);
        }
        o->timeout_ms = rc == 0 ? (uint32_t)ms : o->timeout_ms;
        return rc;
    } else {
        for (size_t f = 0; f < flag_count; f++) {
            if (!IS(flags[f].name)) {
                continue;
            }
            *flags[f].set = true;
            if (flags[f].value == NULL) {
                return eq == NULL ? 0
                                  : cli_err(err, err_size, "--%s takes no value", flags[f].name);
            }
            return value_take(flags[f].name, eq, argc, argv, i, flags[f].value, err, err_size);
        }
        return cli_err(err, err_size, "unknown option '%.*s'", (int)n + 2, argv[*i]);
    }
#undef IS
    return eq == NULL ? 0 : cli_err(err, err_size, "--%.*s takes no value", (int)n, arg);
}

int cli_opts_parse(struct cli_opts *o, const char *cmd, int argc, char **argv,
                   const struct cli_flag *flags, size_t flag_count, const char *env_addr, char *err,
                   size_t err_size)
{
    *o = (struct cli_opts){.cmd = cmd, .timeout_ms = CLI_TIMEOUT_MS_DEFAULT};
    int rc = addrs_set(o, env_addr != NULL && env_addr[0] != '\0' ? env_addr : CLI_ADDRS_DEFAULT,
                       err, err_size);
    bool options = true;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = false;
        } else if (options && (strcmp(a, "-h") == 0)) {
            o->help = true;
        } else if (options && strncmp(a, "--", 2) == 0) {
            rc = option_read(o, argc, argv, &i, flags, flag_count, err, err_size);
        } else if (o->arg_count == CLI_ARGS_MAX) {
            rc = cli_err(err, err_size, "too many arguments");
        } else {
            o->args[o->arg_count++] = a;
        }
    }
    return rc;
}

int cli_opts_begin(struct cli_opts *o, const char *cmd, int argc, char **argv,
                   const struct cli_flag *flags, size_t flag_count, const char *help)
{
    struct cli_sub sub = {.name = "", .cmd = cmd, .help = help};
    size_t index;
    return cli_opts_begin_sub(o, cmd, argc, argv, flags, flag_count, &sub, 0, true, help, &index);
}

int cli_opts_begin_sub(struct cli_opts *o, const char *cmd, int argc, char **argv,
                       const struct cli_flag *flags, size_t flag_count, const struct cli_sub *subs,
                       size_t sub_count, bool default_first, const char *top_help, size_t *index)
{
    char err[CLI_ERR_SIZE];
    int rc = cli_opts_parse(o, cmd, argc, argv, flags, flag_count, getenv(CLI_ADDR_ENV), err,
                            sizeof(err));
    const char *help = top_help;
    bool found = sub_count == 0 || (o->arg_count == 0 && default_first);
    *index = 0;
    for (size_t i = 0; i < sub_count && !found && o->arg_count > 0; i++) {
        found = strcmp(o->args[0], subs[i].name) == 0;
        *index = i;
    }
    if (found && sub_count > 0) {
        o->cmd = subs[*index].cmd;
        help = subs[*index].help;
    }
    if (rc != 0) {
        return cli_usage(o, "%s", err);
    }
    if (o->help) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (!found && o->arg_count == 0) {
        return cli_usage(o, "expected a subcommand");
    }
    return found ? CLI_GO_ON : cli_usage(o, "unknown subcommand '%s'", o->args[0]);
}

int cli_usage(const struct cli_opts *o, const char *fmt, ...)
{
    fprintf(stderr, "%s: ", o->cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(try %s --help)\n", o->cmd);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    fprintf(stderr, "synod: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_FAILED;
}
