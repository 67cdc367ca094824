/* node_servers.c: starts and closes the node's client servers: RESP (Redis protocol) and
 * HTTP, both serving the node through struct service, and DNS (node_dns.c). */
#include "node/node_servers.h"

#include <stdio.h>

#include "api/http_server.h"
#include "api/resp_server.h"
#include "cli/cli.h"
#include "node/node_internal.h"

int node_servers_start(struct node *n)
{
    char err[RESP_SERVER_ERRMSG_SIZE > HTTP_SERVER_ERRMSG_SIZE ? RESP_SERVER_ERRMSG_SIZE
                                                               : HTTP_SERVER_ERRMSG_SIZE] = "";
    struct resp_server_options ro = {.version = SYN_VERSION};
    int rc = resp_server_start(n->loop, n->cfg.resp_addr, &n->service, &ro, &n->resp, err);
    if (rc != 0) {
        snprintf(n->errmsg, sizeof(n->errmsg), "RESP address %s: %s", n->cfg.resp_addr, err);
        return rc;
    }
    struct http_server_options ho = {.version = SYN_VERSION};
    rc = http_server_start(n->loop, n->cfg.http_addr, &n->service, &ho, &n->http, err);
    if (rc != 0) {
        snprintf(n->errmsg, sizeof(n->errmsg), "HTTP address %s: %s", n->cfg.http_addr, err);
        return rc;
    }
    return node_dns_start(n);
}

static void on_server_closed(void *ctx)
{
    node_closed_one(ctx);
}

void node_servers_close(struct node *n)
{
    if (n->resp != NULL) {
        n->closing++;
        resp_server_close(n->resp, on_server_closed, n);
        n->resp = NULL;
    }
    if (n->http != NULL) {
        n->closing++;
        http_server_close(n->http, on_server_closed, n);
        n->http = NULL;
    }
    node_dns_close(n);
}
