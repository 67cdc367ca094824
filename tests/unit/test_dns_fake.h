/* test_dns_fake.h: a struct dns_source over tables, for the DNS tests (test_dns.c,
 * test_dns_server.c): rows of (service, tags, node, address, node address, port) and nodes
 * with addresses; names and tags compared without case, as the source contract asks. It
 * remembers the last name and tag asked for, and can be told to fail. */
#ifndef SYN_TESTS_DNS_FAKE_H
#define SYN_TESTS_DNS_FAKE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "dns/dns_answer.h"

struct fake_row {
    const char *service;
    const char *tags; /* ",a,b," */
    const char *node;
    const char *address;
    const char *node_address;
    uint16_t port;
};

struct fake_node {
    const char *name;
    const char *address;
};

struct fake {
    const struct fake_row *rows;
    uint32_t row_count;
    const struct fake_node *nodes;
    uint32_t node_count;
    int fail; /* returned by every call when not 0 */
    char last_name[64];
    char last_tag[64];
};

static inline bool has_tag(const char *tags, const char *tag)
{
    char want[80];
    snprintf(want, sizeof(want), ",%s,", tag);
    for (const char *p = tags; *p != '\0'; p++) {
        if (strncasecmp(p, want, strlen(want)) == 0) {
            return true;
        }
    }
    return false;
}

static inline int fake_service(void *ctx, const char *name, const char *tag,
                               struct dns_instance *out, uint32_t max, uint32_t *count)
{
    struct fake *f = ctx;
    snprintf(f->last_name, sizeof(f->last_name), "%s", name);
    snprintf(f->last_tag, sizeof(f->last_tag), "%s", tag == NULL ? "(none)" : tag);
    if (f->fail != 0) {
        return f->fail;
    }
    bool known = false;
    *count = 0;
    for (uint32_t i = 0; i < f->row_count; i++) {
        const struct fake_row *r = &f->rows[i];
        if (strcasecmp(r->service, name) != 0) {
            continue;
        }
        known = true;
        if ((tag != NULL && !has_tag(r->tags, tag)) || *count == max) {
            continue;
        }
        out[(*count)++] = (struct dns_instance){.node = r->node,
                                                .address = r->address,
                                                .node_address = r->node_address,
                                                .port = r->port};
    }
    return known ? 0 : SYN_ENOENT;
}

static inline int fake_node(void *ctx, const char *name, char *addr, size_t size)
{
    struct fake *f = ctx;
    if (f->fail != 0) {
        return f->fail;
    }
    for (uint32_t i = 0; i < f->node_count; i++) {
        if (strcasecmp(f->nodes[i].name, name) == 0) {
            snprintf(addr, size, "%s", f->nodes[i].address);
            return 0;
        }
    }
    return SYN_ENOENT;
}

#endif
