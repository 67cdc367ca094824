/* cli.h: synod's subcommands, dispatched by src/main.c. Each takes the arguments after its
 * name and returns the process exit code. */
#ifndef SYN_CLI_CLI_H
#define SYN_CLI_CLI_H

#define SYN_VERSION "0.1.0"

/* `synod sim`: runs the deterministic simulator. 0 all held, 1 a violation, 2 usage. */
int sim_cmd_main(const char *prog, int argc, char **argv);

/* `synod agent`: runs one node until SIGTERM/SIGINT. 0 clean stop, 1 failed, 2 usage. */
int agent_cmd_main(const char *prog, int argc, char **argv);

/* `synod dev`: runs a local cluster of agents until SIGINT/SIGTERM. 0 stopped on request,
 * 1 it did not start (or every agent exited on its own), 2 usage. */
int dev_cmd_main(const char *prog, int argc, char **argv);

/* `synod lincheck FILE`: checks a recorded history for linearizability. 0 linearizable,
 * 1 a violation, 2 undecided within the bounds, bad input or usage. */
int lincheck_cmd_main(const char *prog, int argc, char **argv);

/* The client commands: they talk to nodes over HTTP (docs/api.md). 0 done, 1 failed (not
 * found, refused, no node answered), 2 usage. */
/* `synod kv get|put|del|list`: Consul's KV API. */
int kv_cli_main(const char *prog, int argc, char **argv);
/* `synod status`: the cluster as one node sees it, with the leader's match indexes. */
int status_cmd_main(const char *prog, int argc, char **argv);
/* `synod members [list|add|promote|remove]`. */
int members_cmd_main(const char *prog, int argc, char **argv);
/* `synod leader transfer [NAME]`. */
int leader_cmd_main(const char *prog, int argc, char **argv);
/* `synod service register|deregister|list|show`: the service registry. */
int service_cmd_main(const char *prog, int argc, char **argv);
/* `synod watch service NAME`: a service's instances as they change; until Ctrl-C (0). */
int watch_cmd_main(const char *prog, int argc, char **argv);
/* `synod monitor`: a node's events as they happen; until Ctrl-C (0). */
int monitor_cmd_main(const char *prog, int argc, char **argv);
/* `synod log append|show`: the replicated log. */
int log_cmd_main(const char *prog, int argc, char **argv);

/* `synod lb`: the TCP load balancer, until SIGINT/SIGTERM. 0 stopped, 1 could not start, 2 usage. */
int lb_cmd_main(const char *prog, int argc, char **argv);
/* `synod route NAME -n COUNT`: where the next requests to a service would go. */
int route_cmd_main(const char *prog, int argc, char **argv);

#endif
