/* node.h: one synod node: the Raft core driven by real I/O (libuv loop, TCP transport, WAL
 * with fsync in the loop's thread pool, LMDB state machine) and the client servers. */
#ifndef SYN_NODE_NODE_H
#define SYN_NODE_NODE_H

#include <uv.h>

#include "node/config.h"

struct node;

/* Recovers from cfg->data_dir (creating it for a new node), binds every address, and starts
 * serving on loop. 0, or a negative SYN_E* code with a sentence in errmsg (512 bytes):
 * a corrupt data directory, an address in use, a bad configuration. */
int node_start(uv_loop_t *loop, const struct node_config *cfg, struct node **out, char *errmsg);
/* Stops serving: pending client requests get SYN_ESHUTDOWN, the disk work in progress
 * finishes, every handle closes; then done(ctx) runs and node_free() may be called. */
void node_stop(struct node *n, void (*done)(void *ctx), void *ctx);
void node_free(struct node *n);
/* True once SIGTERM or SIGINT asked the node to stop (it stops itself). */
bool node_stopping(const struct node *n);

#endif
