/* main.c: synod's entry point: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void main_usage(FILE *out)
{
    fprintf(out,
            "synod %s: a distributed coordination store\n"
            "\n"
            "usage: synod <command> [options]\n"
            "\n"
            "commands:\n"
            "  agent      run a node (synod agent --help)\n"
            "  dev        run a local 3-node cluster until Ctrl-C (synod dev --help)\n"
            "  sim        run the deterministic cluster simulator (synod sim --help)\n"
            "  lincheck   check a recorded history for linearizability (synod lincheck --help)\n"
            "  kv         get, put, delete and list keys (synod kv --help)\n"
            "  status     the cluster as a node sees it: role, term, indexes, members, lag\n"
            "  members    list, add, promote and remove members (synod members --help)\n"
            "  leader     hand leadership to another voter (synod leader --help)\n"
            "  service    register, deregister, list and show services (synod service --help)\n"
            "  watch      follow a service's instances as they change (synod watch --help)\n"
            "  monitor    follow a node's events: failures, elections, checks, ...\n"
            "  log        append to the replicated log, show a node's copy (synod log --help)\n"
            "  lb         balance TCP connections over a service's healthy instances\n"
            "  route      where the next requests to a service would go (synod route --help)\n"
            "  version    print the version\n"
            "  help       print this help\n",
            SYN_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        main_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("synod %s\n", SYN_VERSION);
        return 0;
    }
    if (strcmp(cmd, "agent") == 0) {
        return agent_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "dev") == 0) {
        return dev_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "sim") == 0) {
        return sim_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "lincheck") == 0) {
        return lincheck_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "kv") == 0) {
        return kv_cli_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "status") == 0) {
        return status_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "members") == 0) {
        return members_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "leader") == 0) {
        return leader_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "service") == 0) {
        return service_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "watch") == 0) {
        return watch_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "monitor") == 0) {
        return monitor_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "log") == 0) {
        return log_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "lb") == 0) {
        return lb_cmd_main(argv[0], argc - 2, argv + 2);
    }
    if (strcmp(cmd, "route") == 0) {
        return route_cmd_main(argv[0], argc - 2, argv + 2);
    }
    fprintf(stderr, "synod: unknown command '%s' (try synod --help)\n", cmd);
    return 2;
}
