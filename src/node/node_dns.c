/* node_dns.c: the agent's DNS server (--dns-addr; src/dns) answering from this node's copy
 * of the replicated registry: NAME.service.D gives the healthy instances (every check
 * passing, node not failed: reg_instance_healthy(), the same rule as ?passing), NODE.node.D
 * a member's address. Answers are served locally, like Consul's default DNS (stale reads):
 * a node that has lost the leader answers from what it has. docs/dns.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "dns/dns_server.h"
#include "kv/kv_registry.h"
#include "log/log.h"
#include "node/node_internal.h"

/* What the last answer handed to the DNS server: its strings live here until the next. */
struct node_dns {
    struct node *n;
    struct dns_source source;
    struct dns_server *server;
    struct dns_instance *out;
    uint32_t max;
    uint32_t count;
    bool found; /* the service exists, healthy or not */
    const char *name;
    const char *tag;
    struct {
        char node[REG_NAME_SIZE_MAX + 1];
        char address[REG_ADDRESS_SIZE_MAX + 1];
        char node_address[REG_ADDRESS_SIZE_MAX + 1];
    } strings[SYN_DNS_INSTANCES_MAX];
    struct reg_node_table nodes;
};

/* A member's host, from the Raft configuration (its peer address without the port). */
static bool member_host(const struct node *n, const char *name, char *out, size_t size)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    for (uint32_t i = 0; i < st.conf.member_count; i++) {
        char member[REG_NAME_SIZE_MAX + 1];
        node_member_name(&st.conf.members[i], member, sizeof(member));
        if (strcasecmp(member, name) != 0) {
            continue;
        }
        node_member_host(&st.conf.members[i], out, size);
        return true;
    }
    return false;
}

static bool has_tag(const struct reg_instance *in, const char *tag)
{
    for (uint16_t i = 0; i < in->tag_count; i++) {
        if (strcasecmp(in->tags[i], tag) == 0) {
            return true;
        }
    }
    return false;
}

static int collect_instance(void *ctx, const struct reg_instance *in)
{
    struct node_dns *d = ctx;
    if (strcasecmp(in->name, d->name) != 0) {
        return 0;
    }
    d->found = true;
    const struct reg_node *node = reg_node_table_find(&d->nodes, in->node);
    uint8_t health = node != NULL ? node->health : REG_NODE_ALIVE;
    if ((d->tag != NULL && !has_tag(in, d->tag)) || !reg_instance_healthy(in, health) ||
        d->count == d->max || d->count == SYN_DNS_INSTANCES_MAX) {
        return 0;
    }
    uint32_t i = d->count++;
    snprintf(d->strings[i].node, sizeof(d->strings[i].node), "%s", in->node);
    d->strings[i].node_address[0] = '\0';
    if (node != NULL && node->address[0] != '\0') {
        snprintf(d->strings[i].node_address, sizeof(d->strings[i].node_address), "%s",
                 node->address);
    } else {
        member_host(d->n, in->node, d->strings[i].node_address,
                    sizeof(d->strings[i].node_address));
    }
    snprintf(d->strings[i].address, sizeof(d->strings[i].address), "%s",
             in->address[0] != '\0' ? in->address : d->strings[i].node_address);
    d->out[i] = (struct dns_instance){
        .node = d->strings[i].node,
        .address = d->strings[i].address,
        .node_address = d->strings[i].node_address[0] != '\0' ? d->strings[i].node_address : NULL,
        .port = in->port,
        .weight = (uint16_t)(in->weight_passing > UINT16_MAX ? UINT16_MAX : in->weight_passing),
    };
    return 0;
}

static int src_service(void *ctx, const char *name, const char *tag, struct dns_instance *out,
                       uint32_t max, uint32_t *count)
{
    struct node_dns *d = ctx;
    d->out = out;
    d->max = max;
    d->count = 0;
    d->found = false;
    d->name = name;
    d->tag = tag;
    d->nodes.count = 0;
    int rc = kv_reg_nodes(d->n->kv, reg_node_table_add, &d->nodes);
    if (rc == 0) {
        rc = kv_reg_instances(d->n->kv, collect_instance, d);
    }
    *count = d->count;
    if (rc != 0) {
        return rc < 0 ? rc : SYN_EIO;
    }
    return d->found ? 0 : SYN_ENOENT;
}

static int src_node(void *ctx, const char *name, char *addr, size_t size)
{
    struct node_dns *d = ctx;
    struct reg_node node;
    if (kv_reg_node_get(d->n->kv, name, &node) == 0 && node.address[0] != '\0') {
        snprintf(addr, size, "%s", node.address);
        return 0;
    }
    return member_host(d->n, name, addr, size) ? 0 : SYN_ENOENT;
}

int node_dns_start(struct node *n)
{
    if (n->cfg.dns_addr[0] == '\0') {
        return 0;
    }
    struct node_dns *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return SYN_ENOMEM;
    }
    d->n = n;
    d->source = (struct dns_source){.ctx = d, .service = src_service, .node = src_node};
    struct dns_server_options opts = {
        .domain = n->cfg.dns_domain[0] != '\0' ? n->cfg.dns_domain : NULL,
        .ttl_s = n->cfg.dns_ttl_s,
    };
    char err[DNS_SERVER_ERRMSG_SIZE] = "";
    int rc = dns_server_start(n->loop, n->cfg.dns_addr, &opts, &d->source, &d->server, err);
    if (rc != 0) {
        snprintf(n->errmsg, sizeof(n->errmsg), "DNS address %s: %s", n->cfg.dns_addr, err);
        free(d);
        return rc;
    }
    n->dns = d;
    LOG_INFO("node", "DNS on %s (domain %s)", n->cfg.dns_addr,
             n->cfg.dns_domain[0] != '\0' ? n->cfg.dns_domain : "synod");
    return 0;
}

static void on_dns_closed(void *ctx)
{
    struct node_dns *d = ctx;
    struct node *n = d->n;
    free(d);
    node_closed_one(n);
}

void node_dns_close(struct node *n)
{
    struct node_dns *d = n->dns;
    if (d == NULL) {
        return;
    }
    n->dns = NULL;
    n->closing++;
    dns_server_close(d->server, on_dns_closed, d);
}
