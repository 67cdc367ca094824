/* service_cmd.c: `synod service register|deregister|list|show`: the service registry through
 * the agent and catalog endpoints (docs/registry.md). Registration and deregistration go to an
 * agent (the instance is its node's); reads go to the first node that answers and are
 * linearizable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/cli_call.h"
#include "cli/cli_health.h"
#include "cli/cli_service.h"

#define SERVICE_OPTIONS                                                                            \
    "  --addr LIST    the nodes' HTTP addresses, tried in order (default: $SYNOD_HTTP_ADDR,\n"     \
    "                 else " CLI_ADDRS_DEFAULT ")\n"                                               \
    "  --json         JSON for scripts\n"                                                          \
    "  --timeout MS   for each request (default 5000)\n"                                           \
    "  --help         this text\n"

static const char service_help[] =
    "usage: synod service register FILE|- [options]\n"
    "       synod service register --name NAME [--id ID] [--port N] [--check-http URL] ...\n"
    "       synod service deregister ID [options]\n"
    "       synod service list [options]\n"
    "       synod service show NAME [options]\n"
    "\n"
    "Registers service instances with an agent, which runs their health checks, removes them,\n"
    "and shows the replicated catalog: every node answers the same.\n"
    "synod service register --help (and deregister, list, show) tells more about each.\n"
    "\n" SERVICE_OPTIONS "\n"
    "exit status: 0 done, 1 refused, not found or no node answered, 2 usage error\n";

static const char register_help[] =
    "usage: synod service register FILE|- [options]\n"
    "       synod service register --name NAME [--id ID] [--port N] [--address A] [--tag T]...\n"
    "              [--meta K=V]... [--check-http URL | --check-tcp HOST:PORT | --check-ttl D |\n"
    "              --check-pid PID | --check-pidfile FILE | --check-exec 'CMD']\n"
    "              [--interval D] [--timeout D] [--deregister-after D] [options]\n"
    "\n"
    "Registers an instance with the agent of the first node of --addr that answers (PUT\n"
    "/v1/agent/service/register): it belongs to that agent's node, which runs its checks. The\n"
    "definition is Consul's JSON (docs/registry.md), from FILE or standard input (-), or built\n"
    "from the flags. Registering an ID again replaces the instance and keeps its checks'\n"
    "statuses. Durations are Go's: 500ms, 10s, 1m30s.\n"
    "\n"
    "  --name NAME          the service (required with flags)\n"
    "  --id ID              the instance, unique on its node (default: NAME)\n"
    "  --port N             its port\n"
    "  --address A          its address (default: the node's host)\n"
    "  --tag T              a tag; repeat for more (at most 32)\n"
    "  --meta K=V           a metadata key and value; repeat for more (at most 32)\n"
    "  --check-http URL     passing while GET URL answers 2xx\n"
    "  --check-tcp H:P      passing while a connection to H:P is accepted\n"
    "  --check-ttl D        passing while the service reports (PUT /v1/agent/check/pass/...)\n"
    "                       at least every D\n"
    "  --check-pid PID      passing while process PID lives\n"
    "  --check-pidfile F    passing while the process whose PID is in F lives\n"
    "  --check-exec 'CMD'   sh -c CMD: exit 0 passing, 1 warning, else critical\n"
    "  --interval D         between probes (default 10s)\n"
    "  --timeout D          for a probe (default 10s). A --timeout with a unit (1s, 500ms)\n"
    "                       is the check's; a bare number is the CLI's, in milliseconds\n"
    "  --deregister-after D remove the instance once the check was critical for D\n"
    "\n" SERVICE_OPTIONS;

static const char deregister_help[] =
    "usage: synod service deregister ID [options]\n"
    "\n"
    "Removes instance ID. It is removed by the agent it was registered with: each address of\n"
    "--addr is asked in turn until one of them has it.\n"
    "\n" SERVICE_OPTIONS;

static const char list_help[] =
    "usage: synod service list [options]\n"
    "\n"
    "Prints every service: its tags, how many instances it has and how many of them pass every\n"
    "check (and run on a node that is not failed). --json: [{\"name\", \"tags\", \"instances\",\n"
    "\"passing\"}].\n"
    "\n" SERVICE_OPTIONS;

static const char show_help[] =
    "usage: synod service show NAME [options]\n"
    "\n"
    "Prints each instance of NAME: its node, ID, address and port, status (the worst of its\n"
    "checks), and every check with its status and output (its first line). The node's own\n"
    "health is the check serfHealth. --json prints the node's answer (GET\n"
    "/v1/health/service/NAME, Consul's shape).\n"
    "\n" SERVICE_OPTIONS "\n"
    "exit status: 0 shown, 1 no instance of NAME is registered (or it failed), 2 usage\n";

static void out_write(const struct syn_buf *b)
{
    if (b->len > 0) {
        fwrite(b->data, 1, b->len, stdout);
    }
}

/* GET prefix + name (percent-encoded) from the first node that answers, expecting 200. */
static int get_named(const struct cli_opts *o, const char *prefix, const char *name,
                     struct cli_reply *r)
{
    struct syn_buf target;
    syn_buf_init(&target, 0);
    int rc = syn_buf_append(&target, prefix, strlen(prefix));
    rc = rc == 0 ? cli_http_query_append(&target, (const uint8_t *)name, strlen(name)) : rc;
    rc = rc == 0 ? syn_buf_append(&target, "", 1) : rc;
    if (rc != 0) {
        syn_buf_free(&target);
        return cli_fail("out of memory");
    }
    struct cli_http_request req = {.method = "GET", .target = (const char *)target.data};
    rc = cli_call_any(o, &req, r);
    rc = rc == 0 && r->resp.status != 200 ? cli_reply_refused(r, name[0] != '\0' ? name : prefix)
                                          : rc;
    syn_buf_free(&target);
    return rc;
}

static int service_show(const struct cli_opts *o, const char *name)
{
    struct cli_reply r;
    cli_reply_init(&r);
    struct cli_health h = {0};
    int rc = get_named(o, "/v1/health/service/", name, &r);
    if (rc == 0 && cli_health_parse(r.resp.body, r.resp.body_size, &h) != 0) {
        rc = cli_fail("%s: the node's answer is malformed", r.addr);
    } else if (rc == 0 && h.count == 0) {
        rc = cli_fail("%s: no such service (no instance is registered)", name);
    } else if (rc == 0 && o->json) {
        fwrite(r.resp.body, 1, r.resp.body_size, stdout);
    } else if (rc == 0) {
        struct syn_buf out;
        syn_buf_init(&out, 0);
        rc = cli_health_show_text(&h, name, &out) == 0 ? 0 : cli_fail("out of memory");
        out_write(&out);
        syn_buf_free(&out);
    }
    cli_health_free(&h);
    cli_reply_free(&r);
    return rc;
}

/* Each service's instances and how many pass, from its health. */
static int list_count(const struct cli_opts *o, struct cli_service_list *l, struct cli_reply *r)
{
    for (uint32_t i = 0; i < l->count; i++) {
        struct cli_health h = {0};
        int rc = get_named(o, "/v1/health/service/", l->rows[i].name, r);
        if (rc == 0 && cli_health_parse(r->resp.body, r->resp.body_size, &h) != 0) {
            rc = cli_fail("%s: the node's answer is malformed", r->addr);
        }
        if (rc != 0) {
            cli_health_free(&h);
            return rc;
        }
        l->rows[i].instances = h.count;
        l->rows[i].passing = cli_health_passing(&h);
        cli_health_free(&h);
    }
    return 0;
}

static int service_list(const struct cli_opts *o)
{
    struct cli_reply r;
    cli_reply_init(&r);
    struct cli_service_list l = {0};
    int rc = get_named(o, "/v1/catalog/services", "", &r);
    if (rc == 0 && cli_service_list_parse(r.resp.body, r.resp.body_size, &l) != 0) {
        rc = cli_fail("%s: the node's answer is malformed", r.addr);
    }
    rc = rc == 0 ? list_count(o, &l, &r) : rc;
    struct syn_buf out;
    syn_buf_init(&out, 0);
    if (rc == 0 &&
        (o->json ? cli_service_list_json(&l, &out) : cli_service_list_text(&l, &out)) != 0) {
        rc = cli_fail("out of memory");
    }
    out_write(&out);
    syn_buf_free(&out);
    cli_service_list_free(&l);
    cli_reply_free(&r);
    return rc;
}

/* PUT /v1/agent/service/deregister/ID on each node in turn until one has it. */
static int service_deregister(const struct cli_opts *o, const char *id)
{
    struct syn_buf target;
    syn_buf_init(&target, 0);
    const char *prefix = "/v1/agent/service/deregister/";
    int rc = syn_buf_append(&target, prefix, strlen(prefix));
    rc = rc == 0 ? cli_http_query_append(&target, (const uint8_t *)id, strlen(id)) : rc;
    rc = rc == 0 ? syn_buf_append(&target, "", 1) : rc;
    struct cli_http_request req = {.method = "PUT", .target = (const char *)target.data};
    struct cli_reply r;
    cli_reply_init(&r);
    bool answered = false;
    for (uint32_t i = 0; i < o->addr_count && rc == 0; i++) {
        char err[CLI_HTTP_ERR_SIZE];
        if (cli_call_one(o, i, &req, &r, err, sizeof(err)) != 0) {
            fprintf(stderr, "synod: cannot reach %s: %s\n", o->addrs[i], err);
            continue;
        }
        answered = true;
        if (r.resp.status == 200) {
            printf(o->json ? "{\"deregistered\":true,\"agent\":\"%s\"}\n"
                           : "%s: deregistered by the agent at %s\n",
                   o->json ? r.addr : id, r.addr);
            break;
        }
        if (r.resp.status != 404) {
            rc = cli_reply_refused(&r, id);
        } else if (i + 1 == o->addr_count) {
            rc = cli_fail("%s: no agent of --addr has an instance with this ID", id);
        }
    }
    rc = rc == 0 && !answered ? cli_fail("%s: no node could be reached", id) : rc;
    cli_reply_free(&r);
    syn_buf_free(&target);
    return rc;
}

static const struct cli_sub service_subs[] = {
    {"register", "synod service register", register_help},
    {"deregister", "synod service deregister", deregister_help},
    {"list", "synod service list", list_help},
    {"show", "synod service show", show_help},
};

/* The flags of register, which only register takes. */
struct service_flags {
    struct cli_service_def def;
    bool set[13];
};

static int service_run(const struct cli_opts *o, size_t sub, const struct service_flags *f)
{
    bool any_def = f->def.tag_count > 0 || f->def.meta_count > 0;
    for (size_t i = 0; i < sizeof(f->set) / sizeof(f->set[0]); i++) {
        any_def = any_def || f->set[i];
    }
    if (sub != 0 && any_def) {
        return cli_usage(o, "the definition's flags are options of synod service register");
    }
    uint32_t want = sub == 2 ? 0 : sub == 0 && any_def ? 0 : 1;
    if (o->arg_count - 1 != want) {
        return cli_usage(o,
                         sub == 0 && any_def ? "a FILE and flags do not go together"
                         : sub == 0          ? "expected FILE (or - for standard input), or --name"
                         : sub == 1          ? "expected ID"
                         : sub == 3          ? "expected NAME"
                                             : "unexpected argument '%s'",
                         o->args[o->arg_count - 1]);
    }
    switch (sub) {
    case 0:
        return cli_service_register(o, &f->def, any_def ? NULL : o->args[1]);
    case 1:
        return service_deregister(o, o->args[1]);
    case 2:
        return service_list(o);
    default:
        return service_show(o, o->args[1]);
    }
}

int service_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct service_flags f = {0};
    struct cli_service_def *d = &f.def;
    const struct cli_flag flags[] = {
        {"name", &f.set[0], &d->name},
        {"id", &f.set[1], &d->id},
        {"port", &f.set[2], &d->port},
        {"address", &f.set[3], &d->address},
        {"check-http", &f.set[4], &d->check_http},
        {"check-tcp", &f.set[5], &d->check_tcp},
        {"check-ttl", &f.set[6], &d->check_ttl},
        {"check-pid", &f.set[7], &d->check_pid},
        {"check-pidfile", &f.set[8], &d->check_pidfile},
        {"check-exec", &f.set[9], &d->check_exec},
        {"interval", &f.set[10], &d->interval},
        {"deregister-after", &f.set[11], &d->deregister_after},
    };
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    if (rest == NULL) {
        return cli_fail("out of memory");
    }
    int rest_count = 0;
    char err[CLI_ERR_SIZE];
    int rc = cli_service_take_repeated(argc, argv, d, rest, &rest_count, err, sizeof(err));
    struct cli_opts o;
    size_t sub = 0;
    if (rc != 0) {
        o = (struct cli_opts){.cmd = "synod service register"};
        rc = cli_usage(&o, "%s", err);
    } else {
        rc = cli_opts_begin_sub(&o, "synod service", rest_count, rest, flags,
                                sizeof(flags) / sizeof(flags[0]), service_subs,
                                sizeof(service_subs) / sizeof(service_subs[0]), false, service_help,
                                &sub);
    }
    rc = rc == CLI_GO_ON ? service_run(&o, sub, &f) : rc;
    free(rest);
    return rc;
}
