/* agent_cmd.c: `synod agent`: runs one node until SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "base/err.h"
#include "cli/cli.h"
#include "log/log.h"
#include "node/config.h"
#include "node/node.h"

int agent_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct node_config cfg;
    char err[512] = "";
    int rc = node_config_parse(&cfg, argc, argv, err, sizeof(err));
    if (rc == 1) {
        fputs(node_config_usage, stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "synod agent: %s\n", err);
        return 2;
    }
    syn_log_setup((enum syn_log_level)cfg.log_level, cfg.name, cfg.log_json);
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct node *node = NULL;
    rc = node_start(&loop, &cfg, &node, err);
    if (rc != 0) {
        LOG_ERROR("agent", "cannot start: %s", err);
        uv_run(&loop, UV_RUN_DEFAULT); /* let what started close */
        uv_loop_close(&loop);
        return 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    node_free(node);
    rc = uv_loop_close(&loop);
    if (rc != 0) {
        LOG_WARN("agent", "handles still open at exit: %s", uv_strerror(rc));
    }
    return 0;
}
