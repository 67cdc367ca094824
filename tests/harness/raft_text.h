/* raft_text.h: Raft messages, entries, configurations and Readies as one-line text, for
 * interaction scripts and traces. One spelling everywhere, e.g.
 *     1->2 APPEND term=1 prev=(0,0) commit=0 entries=[1/1 NOOP]
 * where an entry is term/index followed by its type or its data. */
#ifndef SYN_TESTS_RAFT_TEXT_H
#define SYN_TESTS_RAFT_TEXT_H

#include "raft/raft.h"
#include "text.h"

#define RTEXT_ENTRIES_SHOWN 8 /* a longer list shows its first and last entries only */

/* "APPEND", "VOTE_RESP", ...; NULL for an unknown type. */
const char *rtext_msg_type(uint32_t type);
/* The type named name, or 0. */
uint32_t rtext_msg_type_parse(const char *name);

void rtext_entry(struct text *t, const struct raft_entry *e);
/* "1/1 NOOP, 1/2 "a"" with at most RTEXT_ENTRIES_SHOWN shown. */
void rtext_entries(struct text *t, const struct raft_entry *entries, uint32_t count);
/* "v1 v2 l4": members by role (v voter, l learner). */
void rtext_conf(struct text *t, const struct raft_conf *conf);
/* One line, without a newline. */
void rtext_message(struct text *t, const struct raft_message *m);
/* What a Ready asks of the shell, one item a line, each indented by two spaces. dropped
 * (may be NULL) says which messages the network will lose, for a note after each. */
void rtext_ready(struct text *t, const struct raft_ready *rd,
                 bool (*dropped)(void *ctx, const struct raft_message *m), void *ctx);

#endif
