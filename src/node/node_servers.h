/* node_servers.h: the node's client-facing servers (RESP, HTTP), started and closed with it. */
#ifndef SYN_NODE_SERVERS_H
#define SYN_NODE_SERVERS_H

struct node;

/* Binds the RESP and HTTP addresses. 0 or an error with the node's errmsg set. */
int node_servers_start(struct node *n);
/* Closes both; each counts in n->closing until its close callback. */
void node_servers_close(struct node *n);

#endif
