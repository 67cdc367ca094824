/* dev_report.h: what `synod dev` prints once its cluster is ready: the endpoints, and how to
 * talk to the cluster and how to break it; as text for people, or one JSON object (--json)
 * for scripts. The first line of the text, and the JSON's "ready" member, say it is ready. */
#ifndef SYN_CLI_DEV_REPORT_H
#define SYN_CLI_DEV_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "cli/dev_agents.h"
#include "cli/dev_plan.h"

/* Prints the report to out and flushes it. prog is how the user ran synod ("build/synod"),
 * for the example commands; leader is a node index. 0, or SYN_ENOMEM (JSON only). */
int dev_report_print(FILE *out, const struct dev_agents *agents, const char *prog, uint32_t leader,
                     uint64_t elapsed_ms);

#endif
