/* lincheck_cmd.c: `synod lincheck FILE`: reads a recorded history (lincheck_history.h), runs
 * the linearizability checker on it (check/lin.h) and tells the verdict in the file's own
 * words: the key, the line of the op that fits no order, and the key's ops around it. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/lincheck_history.h"

#define LINCHECK_EXCERPT_MAX 16u      /* ops shown around a violation */
#define LINCHECK_EXCERPT_BEFORE 4u    /* ... of which completed before the op was invoked */
#define LINCHECK_LINE_SHOWN_MAX 160u  /* bytes of one history line shown */
#define LINCHECK_NAME_SHOWN_SIZE 96u  /* a name shown in a sentence, NUL included */
#define LINCHECK_SENTENCE_SIZE 1024u

struct lincheck_cmd {
    const char *path;
    bool json;
    struct lin_limits limits;
};

/* What was read, parsed and found. */
struct lincheck_run {
    uint8_t *data; /* the file */
    size_t size;
    struct lincheck_history h;
    struct lin_result result;
    char sentence[LINCHECK_SENTENCE_SIZE]; /* the verdict in the file's words */
    size_t excerpt[LINCHECK_EXCERPT_MAX];  /* op indexes, by invoke time */
    uint32_t excerpt_count;
};

static const char lincheck_help[] =
    "usage: synod lincheck [--json] [--steps N] [--memo-mb N] FILE\n"
    "\n"
    "Checks that a recorded history of reads, writes and compare-and-swaps on registers (keys)\n"
    "is linearizable (Wing & Gong's search with Lowe's memo, src/check/lin.h). FILE holds one\n"
    "op per line (- reads standard input):\n"
    "\n"
    "  CLIENT KEY read  VALUE          INVOKE COMPLETE OUTCOME\n"
    "  CLIENT KEY write VALUE          INVOKE COMPLETE OUTCOME\n"
    "  CLIENT KEY cas   EXPECTED NEW   INVOKE COMPLETE OUTCOME [swapped|kept]\n"
    "\n"
    "OUTCOME is ok, fail (certainly had no effect) or unknown (may have taken effect, once,\n"
    "any time after INVOKE). VALUE - means absent; %XX escapes a byte; # starts a comment.\n"
    "Times are integers from one clock (e.g. monotonic ns). See docs/linearizability.md.\n"
    "\n"
    "  --json        print the verdict as one JSON object\n"
    "  --steps N     search steps allowed per key (default 10000000)\n"
    "  --memo-mb N   memory for one key's memo, MiB (default 256)\n"
    "  --help        this text\n"
    "\n"
    "exit status: 0 linearizable, 1 a violation, 2 undecided within the bounds, unreadable or\n"
    "malformed input, or a usage error\n";

static int lincheck_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int lincheck_usage(const char *fmt, ...)
{
    fprintf(stderr, "synod lincheck: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(try synod lincheck --help)\n");
    return 2;
}

static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v == 0 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* 0 to run, 1 after --help, 2 after a usage error (printed). */
static int lincheck_parse_args(int argc, char **argv, struct lincheck_cmd *cmd)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(lincheck_help, stdout);
            return 1;
        } else if (strcmp(a, "--json") == 0) {
            cmd->json = true;
        } else if (strcmp(a, "--steps") == 0) {
            if (!parse_count(next, UINT64_MAX, &v)) {
                return lincheck_usage("--steps needs a positive count");
            }
            cmd->limits.steps_per_key_max = v;
            i++;
        } else if (strcmp(a, "--memo-mb") == 0) {
            if (!parse_count(next, SIZE_MAX >> 20, &v)) {
                return lincheck_usage("--memo-mb needs a positive number of MiB");
            }
            cmd->limits.memo_bytes_max = (size_t)v << 20;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            return lincheck_usage("unknown option '%s'", a);
        } else if (cmd->path != NULL) {
            return lincheck_usage("one FILE only ('%s' and '%s')", cmd->path, a);
        } else {
            cmd->path = a;
        }
    }
    if (cmd->path == NULL) {
        return lincheck_usage("no history FILE");
    }
    return 0;
}

/* Reads the whole file (stdin for "-"), at most LINCHECK_FILE_SIZE_MAX bytes. */
static int lincheck_read(const char *path, uint8_t **data_out, size_t *size_out, char *err,
                         size_t err_size)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return SYN_EIO;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    size_t cap = 0;
    int rc = 0;
    /* Room for one byte past the bound, so that a file over it is told from one at it. */
    const size_t room_max = LINCHECK_FILE_SIZE_MAX + 1;
    for (;;) {
        if (size == room_max) {
            snprintf(err, err_size, "%s: larger than %llu bytes", path,
                     (unsigned long long)LINCHECK_FILE_SIZE_MAX);
            rc = SYN_ETOOBIG;
            break;
        }
        if (size == cap) {
            cap = cap == 0 ? (64u << 10) : cap * 2 < room_max ? cap * 2 : room_max;
            uint8_t *grown = realloc(data, cap);
            if (grown == NULL) {
                snprintf(err, err_size, "%s: out of memory", path);
                rc = SYN_ENOMEM;
                break;
            }
            data = grown;
        }
        size_t got = fread(data + size, 1, cap - size, f);
        size += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, err_size, "cannot read %s", path);
                rc = SYN_EIO;
            }
            break;
        }
    }
    if (!is_stdin) {
        fclose(f);
    }
    if (rc != 0) {
        free(data);
        return rc;
    }
    *data_out = data;
    *size_out = size;
    return 0;
}

/* ---- Telling the verdict ---------------------------------------------------------------- */

/* Appends to out[0..size) at *len, cutting what does not fit. */
__attribute__((format(printf, 4, 5))) static void text_add(char *out, size_t size, size_t *len,
                                                          const char *fmt, ...)
{
    if (*len + 1 >= size) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
    }
}

/* "line 12 (client c2: read -> v9, [1500, 2500])" */
static void describe_op(const struct lincheck_run *run, size_t index, char *out, size_t size,
                        size_t *len)
{
    const struct lincheck_history *h = &run->h;
    const struct lin_op *op = &h->ops[index];
    char client[LINCHECK_NAME_SHOWN_SIZE];
    char value[LINCHECK_NAME_SHOWN_SIZE];
    char expected[LINCHECK_NAME_SHOWN_SIZE];
    lincheck_name_format(&h->clients, op->client, client, sizeof(client));
    lincheck_name_format(&h->values, op->value, value, sizeof(value));
    lincheck_name_format(&h->values, op->expected, expected, sizeof(expected));
    text_add(out, size, len, "line %" PRIu32 " (client %s: ", h->lines[index], client);
    if (op->kind == LIN_READ) {
        text_add(out, size, len, "read -> %s", value);
    } else if (op->kind == LIN_WRITE) {
        text_add(out, size, len, "write %s", value);
    } else {
        text_add(out, size, len, "cas %s -> %s%s", expected, value,
                 op->outcome != LIN_OK ? "" : op->cas_ok ? " swapped" : " kept");
    }
    if (op->outcome == LIN_OK) {
        text_add(out, size, len, ", [%" PRIu64 ", %" PRIu64 "])", op->invoke_time,
                 op->complete_time);
    } else {
        text_add(out, size, len, ", [%" PRIu64 ", ?], outcome unknown)", op->invoke_time);
    }
}

/* The ops the checker looks at: not failed, and not an unknown read. */
static bool op_counts(const struct lin_op *op)
{
    return op->outcome == LIN_OK || (op->outcome == LIN_UNKNOWN && op->kind != LIN_READ);
}

struct scored {
    uint64_t score;
    size_t index;
};

static int scored_cmp(const void *a, const void *b)
{
    const struct scored *x = a;
    const struct scored *y = b;
    if (x->score != y->score) {
        return x->score < y->score ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Picks the excerpt around run->result.op_index: the key's ops whose intervals overlap it
 * (nearest invocations first) and the few that completed last before it was invoked, in
 * invoke-time order. */
static int pick_excerpt(struct lincheck_run *run)
{
    const struct lincheck_history *h = &run->h;
    size_t bad = run->result.op_index;
    const struct lin_op *x = &h->ops[bad];
    uint64_t start = x->invoke_time;
    uint64_t end = x->outcome == LIN_OK ? x->complete_time : UINT64_MAX;
    struct scored *near = malloc(h->op_count * sizeof(*near));
    struct scored *before = malloc(h->op_count * sizeof(*before));
    if (near == NULL || before == NULL) {
        free(near);
        free(before);
        return SYN_ENOMEM;
    }
    size_t near_count = 0;
    size_t before_count = 0;
    for (size_t i = 0; i < h->op_count; i++) {
        const struct lin_op *y = &h->ops[i];
        if (i == bad || y->key != x->key || !op_counts(y)) {
            continue;
        }
        if (y->outcome == LIN_OK && y->complete_time < start) {
            before[before_count++] = (struct scored){.score = UINT64_MAX - y->complete_time,
                                                     .index = i};
        } else if (y->invoke_time <= end) {
            uint64_t d = y->invoke_time > start ? y->invoke_time - start : start - y->invoke_time;
            near[near_count++] = (struct scored){.score = d, .index = i};
        }
    }
    qsort(near, near_count, sizeof(*near), scored_cmp);
    qsort(before, before_count, sizeof(*before), scored_cmp);
    size_t take_before = before_count < LINCHECK_EXCERPT_BEFORE ? before_count
                                                                 : LINCHECK_EXCERPT_BEFORE;
    size_t room = LINCHECK_EXCERPT_MAX - 1 - take_before;
    size_t take_near = near_count < room ? near_count : room;
    struct scored chosen[LINCHECK_EXCERPT_MAX];
    size_t n = 0;
    chosen[n++] = (struct scored){.score = x->invoke_time, .index = bad};
    for (size_t i = 0; i < take_before; i++) {
        chosen[n++] = (struct scored){.score = h->ops[before[i].index].invoke_time,
                                      .index = before[i].index};
    }
    for (size_t i = 0; i < take_near; i++) {
        chosen[n++] = (struct scored){.score = h->ops[near[i].index].invoke_time,
                                      .index = near[i].index};
    }
    free(near);
    free(before);
    qsort(chosen, n, sizeof(*chosen), scored_cmp);
    for (size_t i = 0; i < n; i++) {
        run->excerpt[i] = chosen[i].index;
    }
    run->excerpt_count = (uint32_t)n;
    return 0;
}

/* The sentence for the verdict, in the file's names. */
static void tell_verdict(struct lincheck_run *run)
{
    const struct lin_result *r = &run->result;
    char key[LINCHECK_NAME_SHOWN_SIZE];
    size_t len = 0;
    char *out = run->sentence;
    size_t size = sizeof(run->sentence);
    if (r->verdict == LIN_RESULT_VIOLATION) {
        lincheck_name_format(&run->h.keys, r->key, key, sizeof(key));
        text_add(out, size, &len, "key %s is not linearizable: the op on ", key);
        describe_op(run, r->op_index, out, size, &len);
        text_add(out, size, &len, " fits no order of the key's ops that respects real time");
    } else if (r->verdict == LIN_RESULT_UNKNOWN) {
        lincheck_name_format(&run->h.keys, r->key, key, sizeof(key));
        text_add(out, size, &len,
                 "undecided: the search on key %s stopped at a bound before an answer (raise "
                 "--steps or --memo-mb)",
                 key);
    } else {
        text_add(out, size, &len, "linearizable");
    }
}

/* The line an op came from, as written (cut to LINCHECK_LINE_SHOWN_MAX bytes). */
static size_t line_text(const struct lincheck_run *run, size_t index, const uint8_t **text)
{
    size_t at = run->h.line_offsets[index];
    const uint8_t *nl = memchr(run->data + at, '\n', run->size - at);
    size_t len = nl != NULL ? (size_t)(nl - (run->data + at)) : run->size - at;
    if (len > 0 && run->data[at + len - 1] == '\r') {
        len--;
    }
    *text = run->data + at;
    return len < LINCHECK_LINE_SHOWN_MAX ? len : LINCHECK_LINE_SHOWN_MAX;
}

static void json_string(FILE *out, const uint8_t *s, size_t size)
{
    fputc('"', out);
    for (size_t i = 0; i < size; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            fprintf(out, "\\%c", c);
        } else if (c < 0x20 || c >= 0x7f) {
            fprintf(out, "\\u%04x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

static void json_cstring(FILE *out, const char *s)
{
    json_string(out, (const uint8_t *)s, strlen(s));
}

static void print_json(const struct lincheck_cmd *cmd, const struct lincheck_run *run)
{
    const struct lincheck_history *h = &run->h;
    const struct lin_result *r = &run->result;
    printf("{\"verdict\":");
    json_cstring(stdout, lin_verdict_name(r->verdict));
    printf(",\"file\":");
    json_cstring(stdout, cmd->path);
    printf(",\"ops\":%zu,\"keys\":%zu,\"clients\":%zu,\"unknown\":%" PRIu64 ",\"failed\":%" PRIu64
           ",\"steps\":%" PRIu64 ",\"message\":",
           h->op_count, h->keys.count, h->clients.count, h->unknown_count, h->fail_count,
           r->steps);
    json_cstring(stdout, run->sentence);
    printf(",\"checker_message\":");
    json_cstring(stdout, r->message);
    if (r->verdict != LIN_RESULT_OK) {
        char key[LINCHECK_NAME_SHOWN_SIZE];
        printf(",\"key\":");
        json_cstring(stdout, lincheck_name_format(&h->keys, r->key, key, sizeof(key)));
    }
    if (r->verdict == LIN_RESULT_VIOLATION) {
        printf(",\"line\":%" PRIu32 ",\"excerpt\":[", h->lines[r->op_index]);
        for (uint32_t i = 0; i < run->excerpt_count; i++) {
            const uint8_t *text = NULL;
            size_t len = line_text(run, run->excerpt[i], &text);
            printf("%s{\"line\":%" PRIu32 ",\"text\":", i == 0 ? "" : ",",
                   h->lines[run->excerpt[i]]);
            json_string(stdout, text, len);
            printf("}");
        }
        printf("]");
    }
    printf("}\n");
}

static void print_text(const struct lincheck_cmd *cmd, const struct lincheck_run *run)
{
    const struct lincheck_history *h = &run->h;
    const struct lin_result *r = &run->result;
    printf("%s: %zu op%s on %zu key%s from %zu client%s (%" PRIu64 " unknown, %" PRIu64
           " failed), %" PRIu64 " search steps\n",
           cmd->path, h->op_count, h->op_count == 1 ? "" : "s", h->keys.count,
           h->keys.count == 1 ? "" : "s", h->clients.count, h->clients.count == 1 ? "" : "s",
           h->unknown_count, h->fail_count, r->steps);
    printf("verdict: %s: %s\n", lin_verdict_name(r->verdict), run->sentence);
    if (r->verdict != LIN_RESULT_VIOLATION) {
        return;
    }
    printf("checker (ids, not names): %s\n", r->message);
    printf("the key's ops around it, by invoke time ('>' marks it):\n");
    for (uint32_t i = 0; i < run->excerpt_count; i++) {
        const uint8_t *text = NULL;
        size_t len = line_text(run, run->excerpt[i], &text);
        printf("%c %6" PRIu32 ": %.*s\n", run->excerpt[i] == r->op_index ? '>' : ' ',
               h->lines[run->excerpt[i]], (int)len, (const char *)text);
    }
}

/* Bad input: exit 2, with the file and line. */
static int report_error(const struct lincheck_cmd *cmd, uint32_t line, const char *message)
{
    if (cmd->json) {
        printf("{\"verdict\":\"error\",\"file\":");
        json_cstring(stdout, cmd->path);
        printf(",\"line\":%" PRIu32 ",\"message\":", line);
        json_cstring(stdout, message);
        printf("}\n");
    } else if (line > 0) {
        fprintf(stderr, "synod lincheck: %s:%" PRIu32 ": %s\n", cmd->path, line, message);
    } else {
        fprintf(stderr, "synod lincheck: %s: %s\n", cmd->path, message);
    }
    return 2;
}

static int lincheck_run(const struct lincheck_cmd *cmd, struct lincheck_run *run)
{
    char err[LINCHECK_ERRMSG_SIZE + 64] = "";
    int rc = lincheck_read(cmd->path, &run->data, &run->size, err, sizeof(err));
    if (rc != 0) {
        return report_error(cmd, 0, err);
    }
    rc = lincheck_history_parse(run->data, run->size, &run->h);
    if (rc != 0) {
        return report_error(cmd, run->h.error_line, run->h.errmsg);
    }
    rc = lin_check_with_limits(run->h.ops, run->h.op_count, &cmd->limits, &run->result);
    if (rc == 0 && run->result.verdict == LIN_RESULT_VIOLATION) {
        rc = pick_excerpt(run);
    }
    if (rc != 0) {
        return report_error(cmd, 0, rc == SYN_ENOMEM ? "out of memory" : run->result.message);
    }
    tell_verdict(run);
    if (cmd->json) {
        print_json(cmd, run);
    } else {
        print_text(cmd, run);
    }
    int verdict = run->result.verdict;
    return verdict == LIN_RESULT_OK ? 0 : verdict == LIN_RESULT_VIOLATION ? 1 : 2;
}

int lincheck_cmd_main(const char *prog, int argc, char **argv)
{
    (void)prog;
    struct lincheck_cmd cmd = {0};
    int rc = lincheck_parse_args(argc, argv, &cmd);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    struct lincheck_run *run = calloc(1, sizeof(*run));
    if (run == NULL) {
        return report_error(&cmd, 0, "out of memory");
    }
    rc = lincheck_run(&cmd, run);
    fflush(stdout);
    lincheck_history_free(&run->h);
    free(run->data);
    free(run);
    return rc;
}
