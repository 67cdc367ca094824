/* cli.h: synod's subcommands, dispatched by src/main.c. Each takes the arguments after its
 * name and returns the process exit code. */
#ifndef SYN_CLI_CLI_H
#define SYN_CLI_CLI_H

#define SYN_VERSION "0.1.0"

/* `synod sim`: runs the deterministic simulator. 0 all held, 1 a violation, 2 usage. */
int sim_cmd_main(const char *prog, int argc, char **argv);

/* `synod agent`: runs one node until SIGTERM/SIGINT. 0 clean stop, 1 failed, 2 usage. */
int agent_cmd_main(const char *prog, int argc, char **argv);

/* `synod lincheck FILE`: checks a recorded history for linearizability. 0 linearizable,
 * 1 a violation, 2 undecided within the bounds, bad input or usage. */
int lincheck_cmd_main(const char *prog, int argc, char **argv);

#endif
