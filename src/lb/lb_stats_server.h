/* lb_stats_server.h: synod lb's stats endpoint on --stats-addr: a small HTTP/1.1 server on
 * the balancer's loop that answers GET /stats (JSON) and GET /metrics (Prometheus text), one
 * request per connection. At most SYN_LB_STATS_CONNECTIONS_MAX clients at once (others are
 * closed at once), a request head of at most LB_STATS_REQUEST_SIZE_MAX bytes, and
 * LB_STATS_TIMEOUT_MS for the whole exchange: the endpoint cannot hold the proxy's memory.
 */
#ifndef SYN_LB_LB_STATS_SERVER_H
#define SYN_LB_LB_STATS_SERVER_H

#include <stdbool.h>

#include <uv.h>

#include "base/buf.h"

#define LB_STATS_REQUEST_SIZE_MAX (8u << 10)
#define LB_STATS_TIMEOUT_MS 5000u

/* Appends the document (prometheus: the text format, else JSON) to out: 0 or an error. */
typedef int (*lb_stats_render_fn)(void *ctx, bool prometheus, struct syn_buf *out);

struct lb_stats_server;

/* Listens on sa. 0, or SYN_EIO with err (LB_ERR_SIZE bytes) saying why. */
int lb_stats_server_start(uv_loop_t *loop, const struct sockaddr_storage *sa,
                          lb_stats_render_fn render, void *ctx, struct lb_stats_server **out,
                          char *err);
/* Closes the listener and every client; freed once their handles are closed. */
void lb_stats_server_close(struct lb_stats_server *s);

#endif
