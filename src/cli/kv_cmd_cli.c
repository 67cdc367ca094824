/* kv_cmd_cli.c: `synod kv get|put|del|list`: the key-value store through the node's Consul
 * KV API (GET, PUT and DELETE /v1/kv/KEY; docs/api.md). Reads go to the first node that
 * answers: every node serves linearizable reads (--stale: its own store, maybe behind). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "cli/cli_call.h"
#include "cli/cli_kv.h"

#define KV_OPTIONS                                                                                 \
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"     \
    "                 else " CLI_ADDRS_DEFAULT ")\n"                                               \
    "  --json         print the node's JSON answer (Consul's shape)\n"                             \
    "  --timeout MS   for each request (default 5000)\n"                                           \
    "  --help         this text\n"

static const char kv_help[] =
    "usage: synod kv get KEY [--stale]\n"
    "       synod kv put KEY VALUE|- [--flags N] [--cas N]\n"
    "       synod kv del KEY [--recurse] [--cas N]\n"
    "       synod kv list [PREFIX] [--values] [--stale]\n"
    "\n"
    "Reads and writes the replicated key-value store through Consul's KV API on a node\n"
    "(/v1/kv/KEY). Keys are any bytes but NUL, up to 16 KiB; values up to 512 KiB.\n"
    "synod kv get --help (and put, del, list) tells more about each.\n"
    "\n" KV_OPTIONS "\n"
    "exit status: 0 done, 1 not found, refused or no node answered, 2 usage error\n";

static const char get_help[] =
    "usage: synod kv get KEY [--stale] [options]\n"
    "\n"
    "Prints the value of KEY and a newline. The read is linearizable: it reflects every write\n"
    "that completed before it, whichever node is asked.\n"
    "\n"
    "  --stale        read the node's own store: faster, works without a leader, may be "
    "behind\n" KV_OPTIONS "\n"
    "exit status: 0 printed, 1 KEY not found (\"synod: KEY: not found\") or failed, 2 usage\n";

static const char put_help[] =
    "usage: synod kv put KEY VALUE [--flags N] [--cas N] [options]\n"
    "       synod kv put KEY - ...        (the value from standard input, up to 512 KiB)\n"
    "\n"
    "Sets KEY to VALUE once a majority of the cluster stored it.\n"
    "\n"
    "  --flags N      an opaque 64-bit number kept with the value (Consul's flags)\n"
    "  --cas N        check-and-set: write only if KEY's ModifyIndex is N (0: only if KEY\n"
    "                 does not exist); exit 1 when it is not\n" KV_OPTIONS;

static const char del_help[] =
    "usage: synod kv del KEY [--recurse] [--cas N] [options]\n"
    "\n"
    "Deletes KEY (deleting a key that does not exist succeeds).\n"
    "\n"
    "  --recurse      delete every key that starts with KEY\n"
    "  --cas N        delete only if KEY's ModifyIndex is N; exit 1 when it is not\n" KV_OPTIONS;

static const char list_help[] =
    "usage: synod kv list [PREFIX] [--values] [--stale] [options]\n"
    "\n"
    "Prints the keys that start with PREFIX (all keys without it), one a line, in order; with\n"
    "--values, a table of each key, its flags and its value. Bytes a terminal cannot show are\n"
    "escaped (\\n, \\t, \\xNN; a backslash as \\\\). Nothing is printed when no key matches.\n"
    "\n"
    "  --values       show values (one request: Consul's ?recurse)\n"
    "  --stale        read the node's own store (may be behind)\n" KV_OPTIONS;

struct kv_args {
    bool stale, recurse, values, has_flags, has_cas;
    const char *flags;
    const char *cas;
};

/* Sends method target with body to any node; the answer in r. */
static int kv_call(const struct cli_opts *o, const char *method, const struct syn_buf *target,
                   const void *body, size_t body_size, struct cli_reply *r)
{
    struct cli_http_request req = {.method = method,
                                   .target = (const char *)target->data,
                                   .body = body,
                                   .body_size = body_size};
    return cli_call_any(o, &req, r);
}

/* An answer that is neither success nor "not found": the node's sentence, exit 1. */
static int kv_refused(const struct cli_reply *r, const char *key)
{
    char text[CLI_ERR_SIZE];
    cli_reply_error(r, text, sizeof(text));
    return cli_fail("%s: %s (HTTP %u from %s)", key, text, r->resp.status, r->addr);
}

static void out_write(const void *data, size_t size)
{
    if (size > 0) {
        fwrite(data, 1, size, stdout);
    }
}

/* A node's JSON for --json, ending with a newline. */
static void json_write(const struct cli_reply *r)
{
    out_write(r->resp.body, r->resp.body_size);
    if (r->resp.body_size == 0 || r->resp.body[r->resp.body_size - 1] != '\n') {
        putchar('\n');
    }
}

static int kv_get(const struct cli_opts *o, const struct kv_args *a, const char *key,
                  struct syn_buf *target, struct cli_reply *r)
{
    const char *params[2];
    uint32_t n = 0;
    if (!o->json) {
        params[n++] = "raw";
    }
    if (a->stale) {
        params[n++] = "stale";
    }
    if (cli_kv_target(target, key, params, n) != 0) {
        return cli_fail("out of memory");
    }
    int rc = kv_call(o, "GET", target, NULL, 0, r);
    if (rc != 0) {
        return rc;
    }
    if (r->resp.status == 404) {
        return cli_fail("%s: not found", key);
    }
    if (r->resp.status != 200) {
        return kv_refused(r, key);
    }
    if (o->json) {
        json_write(r);
    } else {
        out_write(r->resp.body, r->resp.body_size);
        putchar('\n');
    }
    return CLI_EXIT_OK;
}

/* The value to put: the argument, or standard input for "-". */
static int value_read(const char *arg, struct syn_buf *value)
{
    if (strcmp(arg, "-") != 0) {
        return syn_buf_append(value, arg, strlen(arg)) == 0 ? 0 : cli_fail("out of memory");
    }
    for (;;) {
        if (syn_buf_reserve(value, 64u << 10) != 0) {
            return cli_fail("out of memory");
        }
        size_t n = fread(value->data + value->len, 1, value->cap - value->len, stdin);
        value->len += n;
        if (value->len > SYN_VALUE_SIZE_MAX) {
            return cli_fail("the value on standard input is over %u bytes (the limit)",
                            SYN_VALUE_SIZE_MAX);
        }
        if (n == 0) {
            return ferror(stdin) ? cli_fail("cannot read standard input") : 0;
        }
    }
}

/* A PUT's or DELETE's answer: true, or false (a check-and-set that did not match). done
 * and not_done say what happened to key. */
static int kv_written(const struct cli_opts *o, const struct cli_reply *r, const char *key,
                      const char *done, const char *not_done)
{
    if (r->resp.status != 200) {
        return kv_refused(r, key);
    }
    int result = cli_kv_result(r->resp.body, r->resp.body_size);
    if (o->json) {
        json_write(r);
    }
    if (result < 0) {
        return cli_fail("%s: the node's answer is neither true nor false", key);
    }
    if (result == 0) {
        return cli_fail("%s: %s: its ModifyIndex is not the --cas index", key, not_done);
    }
    if (!o->json) {
        printf("%s: %s\n", key, done);
    }
    return CLI_EXIT_OK;
}

/* "name=value" for a numeric flag, checked. */
static bool number_param(const char *name, const char *text, char *out, size_t size)
{
    uint64_t v;
    if (!cli_u64_parse(text, UINT64_MAX, &v)) {
        return false;
    }
    snprintf(out, size, "%s=%s", name, text);
    return true;
}

static int kv_put(const struct cli_opts *o, const struct kv_args *a, const char *key,
                  const char *arg, struct syn_buf *target, struct cli_reply *r)
{
    char flags[40], cas[40];
    const char *params[2];
    uint32_t n = 0;
    if (a->has_flags && !number_param("flags", a->flags, flags, sizeof(flags))) {
        return cli_usage(o, "--flags: expected a number, 0 to 2^64-1");
    }
    if (a->has_cas && !number_param("cas", a->cas, cas, sizeof(cas))) {
        return cli_usage(o, "--cas: expected an index, 0 to 2^64-1");
    }
    params[n] = flags;
    n += a->has_flags ? 1u : 0u;
    params[n] = cas;
    n += a->has_cas ? 1u : 0u;
    struct syn_buf value;
    syn_buf_init(&value, 0);
    int rc = value_read(arg, &value);
    if (rc == 0 && cli_kv_target(target, key, params, n) != 0) {
        rc = cli_fail("out of memory");
    }
    rc = rc == 0 ? kv_call(o, "PUT", target, value.data != NULL ? value.data : (const void *)"",
                           value.len, r)
                 : rc;
    syn_buf_free(&value);
    return rc == 0 ? kv_written(o, r, key, "written", "not written") : rc;
}

static int kv_del(const struct cli_opts *o, const struct kv_args *a, const char *key,
                  struct syn_buf *target, struct cli_reply *r)
{
    char cas[40];
    const char *params[2];
    uint32_t n = 0;
    if (a->has_cas && !number_param("cas", a->cas, cas, sizeof(cas))) {
        return cli_usage(o, "--cas: expected an index, 0 to 2^64-1");
    }
    if (a->has_cas && a->recurse) {
        return cli_usage(o, "--cas and --recurse do not go together");
    }
    if (a->recurse) {
        params[n++] = "recurse";
    }
    if (a->has_cas) {
        params[n++] = cas;
    }
    if (cli_kv_target(target, key, params, n) != 0) {
        return cli_fail("out of memory");
    }
    int rc = kv_call(o, "DELETE", target, NULL, 0, r);
    return rc == 0
               ? kv_written(o, r, key, a->recurse ? "deleted, with every key under it" : "deleted",
                            "not deleted")
               : rc;
}

static int kv_list(const struct cli_opts *o, const struct kv_args *a, const char *prefix,
                   struct syn_buf *target, struct cli_reply *r)
{
    const char *params[2] = {a->values ? "recurse" : "keys", "stale"};
    if (cli_kv_target(target, prefix, params, a->stale ? 2u : 1u) != 0) {
        return cli_fail("out of memory");
    }
    int rc = kv_call(o, "GET", target, NULL, 0, r);
    if (rc != 0) {
        return rc;
    }
    if (r->resp.status == 404) { /* Consul's answer when no key matches */
        if (o->json) {
            printf("[]\n");
        }
        return CLI_EXIT_OK;
    }
    if (r->resp.status != 200) {
        return kv_refused(r, prefix[0] != '\0' ? prefix : "(all keys)");
    }
    if (o->json) {
        json_write(r);
        return CLI_EXIT_OK;
    }
    struct syn_buf out;
    syn_buf_init(&out, 0);
    rc = a->values ? cli_kv_entries_text(r->resp.body, r->resp.body_size, &out)
                   : cli_kv_keys_text(r->resp.body, r->resp.body_size, &out);
    out_write(out.data, out.len);
    syn_buf_free(&out);
    return rc == 0 ? CLI_EXIT_OK : cli_fail("%s: the node's listing is malformed", r->addr);
}

static const struct cli_sub kv_subs[] = {
    {"get", "synod kv get", get_help},
    {"put", "synod kv put", put_help},
    {"del", "synod kv del", del_help},
    {"list", "synod kv list", list_help},
};
static const uint32_t kv_args_min[] = {1, 2, 1, 0}; /* arguments after the subcommand */
static const uint32_t kv_args_max[] = {1, 2, 1, 1};
static const char *const kv_args_text[] = {"KEY", "KEY and VALUE (or - for standard input)", "KEY",
                                           "at most a PREFIX"};

static int kv_run(const struct cli_opts *o, size_t sub, const struct kv_args *a)
{
    const char *key = o->arg_count > 1 ? o->args[1] : "";
    if (sub != 3 && key[0] == '\0') {
        return cli_usage(o, "KEY must not be empty");
    }
    struct syn_buf target;
    syn_buf_init(&target, 0);
    struct cli_reply r;
    cli_reply_init(&r);
    int rc = sub == 0   ? kv_get(o, a, key, &target, &r)
             : sub == 1 ? kv_put(o, a, key, o->args[2], &target, &r)
             : sub == 2 ? kv_del(o, a, key, &target, &r)
                        : kv_list(o, a, key, &target, &r);
    cli_reply_free(&r);
    syn_buf_free(&target);
    return rc;
}

int kv_cli_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct kv_args a = {0};
    const struct cli_flag flags[] = {
        {"stale", &a.stale, NULL},   {"recurse", &a.recurse, NULL},
        {"values", &a.values, NULL}, {"flags", &a.has_flags, &a.flags},
        {"cas", &a.has_cas, &a.cas},
    };
    /* which subcommands (bits: get, put, del, list) take each flag */
    static const uint32_t flag_subs[] = {1u << 0 | 1u << 3, 1u << 2, 1u << 3, 1u << 1,
                                         1u << 1 | 1u << 2};
    struct cli_opts o;
    size_t i;
    int rc = cli_opts_begin_sub(&o, "synod kv", argc, argv, flags, sizeof(flags) / sizeof(flags[0]),
                                kv_subs, sizeof(kv_subs) / sizeof(kv_subs[0]), false, kv_help, &i);
    if (rc != CLI_GO_ON) {
        return rc;
    }
    uint32_t n = o.arg_count - 1;
    if (n < kv_args_min[i] || n > kv_args_max[i]) {
        return cli_usage(&o, "expected %s", kv_args_text[i]);
    }
    for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
        if (*flags[f].set && !(flag_subs[f] & (1u << i))) {
            return cli_usage(&o, "--%s is not an option of %s", flags[f].name, o.cmd);
        }
    }
    return kv_run(&o, i, &a);
}
