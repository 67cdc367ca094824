/* script.c: the datadriven runner of script.h: parse a script into cases, run each case's
 * commands, compare or rewrite the expected output. */
#include "script.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct script_case {
    size_t cmd_begin; /* line numbers, 0-based: commands [cmd_begin, cmd_end) */
    size_t cmd_end;
    size_t expect_begin; /* expected output [expect_begin, expect_end) */
    size_t expect_end;
};

struct script {
    const char *path;
    char *bytes;
    char **lines;
    size_t line_count;
    struct script_case *cases;
    size_t case_count;
};

static bool blank(const char *line)
{
    return line[strspn(line, " \t\r")] == '\0';
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    struct text t = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        text_printf(&t, "%.*s", (int)n, chunk);
    }
    fclose(f);
    return t.data == NULL ? text_xcalloc(1, 1) : t.data;
}

static void split_lines(struct script *s)
{
    size_t cap = 16;
    s->lines = text_xrealloc(NULL, cap * sizeof(*s->lines));
    char *p = s->bytes;
    while (*p != '\0') {
        if (s->line_count == cap) {
            cap *= 2;
            s->lines = text_xrealloc(s->lines, cap * sizeof(*s->lines));
        }
        s->lines[s->line_count++] = p;
        char *nl = strchr(p, '\n');
        if (nl == NULL) {
            break;
        }
        *nl = '\0';
        p = nl + 1;
    }
}

/* Finds the cases; on a malformed file prints why and returns -1. */
static int parse_cases(struct script *s)
{
    s->cases = text_xcalloc(s->line_count + 1, sizeof(*s->cases));
    size_t i = 0;
    while (i < s->line_count) {
        if (blank(s->lines[i]) || s->lines[i][0] == '#') {
            i++;
            continue;
        }
        struct script_case *c = &s->cases[s->case_count++];
        c->cmd_begin = i;
        while (i < s->line_count && strcmp(s->lines[i], "----") != 0) {
            if (blank(s->lines[i])) {
                fprintf(stderr, "%s:%zu: a blank line before ----\n", s->path, i + 1);
                return -1;
            }
            i++;
        }
        if (i == s->line_count) {
            fprintf(stderr, "%s:%zu: commands without ----\n", s->path, c->cmd_begin + 1);
            return -1;
        }
        c->cmd_end = i++;
        c->expect_begin = i;
        while (i < s->line_count && !blank(s->lines[i])) {
            i++;
        }
        c->expect_end = i;
    }
    return 0;
}

static void script_free(struct script *s)
{
    free(s->bytes);
    free(s->lines);
    free(s->cases);
}

static int script_load(struct script *s, const char *path)
{
    *s = (struct script){.path = path};
    s->bytes = read_file(path);
    if (s->bytes == NULL) {
        fprintf(stderr, "%s: cannot read\n", path);
        return -1;
    }
    split_lines(s);
    return parse_cases(s);
}

/* Runs one command line; -1 when the command is wrong. */
static int run_line(const struct script_ops *ops, void *state, const char *line, struct text *out)
{
    char buf[SCRIPT_LINE_SIZE_MAX];
    if (strlen(line) >= sizeof(buf)) {
        text_printf(out, "command line too long\n");
        return -1;
    }
    strcpy(buf, line);
    char *argv[SCRIPT_ARGS_MAX];
    int argc = 0;
    for (char *tok = strtok(buf, " \t\r"); tok != NULL; tok = strtok(NULL, " \t\r")) {
        if (argc == SCRIPT_ARGS_MAX) {
            text_printf(out, "more than %d words\n", SCRIPT_ARGS_MAX);
            return -1;
        }
        argv[argc++] = tok;
    }
    return ops->run(state, argc, argv, out);
}

static void expected_text(const struct script *s, const struct script_case *c, struct text *t)
{
    for (size_t i = c->expect_begin; i < c->expect_end; i++) {
        text_printf(t, "%s\n", s->lines[i]);
    }
}

/* Reports the first line where want and got part. */
static void report_difference(const char *path, size_t line, const char *want, const char *got)
{
    size_t at = 1;
    size_t start = 0;
    for (size_t i = 0; want[i] != '\0' && want[i] == got[i]; i++) {
        if (want[i] == '\n') {
            at++;
            start = i + 1;
        }
    }
    want += start;
    got += start;
    fprintf(stderr, "%s:%zu: output differs at its line %zu\n  want: %.*s\n  got:  %.*s\n", path,
            line, at, (int)strcspn(want, "\n"), want, (int)strcspn(got, "\n"), got);
}

/* Runs one case into out. 0, or -1 when a command is wrong (already reported). */
static int run_case(const struct script *s, const struct script_case *c,
                    const struct script_ops *ops, void *state, struct text *out)
{
    for (size_t i = c->cmd_begin; i < c->cmd_end; i++) {
        if (s->lines[i][0] == '#') {
            continue;
        }
        struct text cmd_out = {0};
        int rc = run_line(ops, state, s->lines[i], &cmd_out);
        if (rc != 0) {
            fprintf(stderr, "%s:%zu: %s: %s", s->path, i + 1, s->lines[i], text_str(&cmd_out));
            text_free(&cmd_out);
            return -1;
        }
        text_printf(out, "%s", text_str(&cmd_out));
        text_free(&cmd_out);
    }
    if (out->size == 0) {
        text_printf(out, "ok\n");
    }
    const char *o = text_str(out);
    if (o[0] == '\n' || strstr(o, "\n\n") != NULL || o[out->size - 1] != '\n') {
        fprintf(stderr, "%s:%zu: output has a blank or unterminated line\n", s->path,
                c->cmd_begin + 1);
        return -1;
    }
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write\n", path);
        return -1;
    }
    return 0;
}

/* The file with every expected block replaced by outputs[i]. */
static void rewritten(const struct script *s, const struct text *outputs, struct text *t)
{
    size_t line = 0;
    for (size_t k = 0; k < s->case_count; k++) {
        const struct script_case *c = &s->cases[k];
        for (; line < c->expect_begin; line++) {
            text_printf(t, "%s\n", s->lines[line]);
        }
        text_printf(t, "%s", text_str(&outputs[k]));
        line = c->expect_end;
    }
    for (; line < s->line_count; line++) {
        text_printf(t, "%s\n", s->lines[line]);
    }
}

/* Runs every case of one file. 0 all matched, 1 some differ, 2 broken. */
static int run_file(const char *path, bool rewrite, const struct script_ops *ops)
{
    struct script s;
    if (script_load(&s, path) != 0) {
        script_free(&s);
        return 2;
    }
    struct text *outputs = text_xcalloc(s.case_count + 1, sizeof(*outputs));
    void *state = ops->start();
    int status = 0;
    for (size_t k = 0; k < s.case_count && status != 2; k++) {
        const struct script_case *c = &s.cases[k];
        if (run_case(&s, c, ops, state, &outputs[k]) != 0) {
            status = 2;
            break;
        }
        struct text want = {0};
        expected_text(&s, c, &want);
        if (strcmp(text_str(&want), text_str(&outputs[k])) != 0 && !rewrite) {
            report_difference(path, c->cmd_begin + 1, text_str(&want), text_str(&outputs[k]));
            status = 1;
        }
        text_free(&want);
    }
    ops->stop(state);
    if (rewrite && status == 0) {
        struct text t = {0};
        rewritten(&s, outputs, &t);
        struct text old = {0};
        for (size_t i = 0; i < s.line_count; i++) {
            text_printf(&old, "%s\n", s.lines[i]);
        }
        if (strcmp(text_str(&t), text_str(&old)) != 0 && write_file(path, text_str(&t)) != 0) {
            status = 2;
        }
        text_free(&old);
        text_free(&t);
    }
    for (size_t k = 0; k < s.case_count; k++) {
        text_free(&outputs[k]);
    }
    free(outputs);
    script_free(&s);
    return status;
}

int script_main(int argc, char **argv, const struct script_ops *ops)
{
    bool rewrite = false;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--rewrite") == 0) {
        rewrite = true;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--rewrite] SCRIPT...\n", argv[0]);
        return 2;
    }
    int worst = 0;
    int differ = 0;
    for (int i = first; i < argc; i++) {
        int rc = run_file(argv[i], rewrite, ops);
        differ += rc != 0;
        worst = rc > worst ? rc : worst;
    }
    printf("%d of %d scripts %s\n", argc - first - differ, argc - first,
           rewrite ? "rewritten cleanly" : "passed");
    return worst;
}
