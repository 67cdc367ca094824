/* script.h: runs protocol interaction scripts (STYLE 14), after etcd-io/raft's datadriven
 * tests. A script is a text file of cases; each case is one or more command lines, a line
 * "----", and the output the commands must print, up to a blank line:
 *
 *     # a comment
 *     campaign 1
 *     stabilize
 *     ----
 *     > 1 becomes pre-candidate at term 0
 *     ...
 *
 * Every file starts from a fresh state. With --rewrite the expected blocks are replaced by
 * what the commands printed, so a change in behaviour is reviewed as a diff. */
#ifndef SYN_TESTS_SCRIPT_H
#define SYN_TESTS_SCRIPT_H

#include "text.h"

#define SCRIPT_ARGS_MAX 64 /* words in one command line */
#define SCRIPT_LINE_SIZE_MAX 4096

struct script_ops {
    /* A fresh state for one file. */
    void *(*start)(void);
    void (*stop)(void *state);
    /* Runs one command (argv[0] is its name) and prints its output to out; output lines end
     * in '\n' and are never blank. Returns 0, or -1 when the command itself is wrong (unknown,
     * bad arguments): then out says why and the file stops there. */
    int (*run)(void *state, int argc, char **argv, struct text *out);
};

/* The whole program: `prog [--rewrite] FILE...`. Returns the exit status: 0 when every
 * output matched (or was rewritten), 1 on a difference, 2 on a bad command or file. */
int script_main(int argc, char **argv, const struct script_ops *ops);

#endif
