/* fuzz_resp.c: libFuzzer target for the RESP request parser (src/api/resp.c).
 *
 * The input is a client's byte stream. One parser sees all of it at once; a second sees it
 * arrive in pieces (sizes drawn from the input itself), resuming across the pieces. Both
 * must give the same results, command by command: the same return codes, bytes consumed,
 * arguments and error sentences. Every accepted command must also come back unchanged from
 * resp_append_command() and a third parse, and stay within synod's limits.
 * `make fuzz` runs it. */
#include <stdint.h>
#include <string.h>

#include "api/resp.h"
#include "base/assert.h"
#include "base/err.h"

struct parser {
    struct resp_arg args[SYN_RESP_ARGS_MAX];
    struct syn_buf scratch;
    struct resp_command cmd;
};

static struct parser whole, pieces, again;

static void parser_init(struct parser *p)
{
    syn_buf_init(&p->scratch, SYN_RESP_INLINE_SIZE_MAX);
    resp_command_init(&p->cmd, p->args, SYN_RESP_ARGS_MAX, &p->scratch);
}

static bool same_args(const struct resp_command *a, const struct resp_command *b)
{
    if (a->arg_count != b->arg_count) {
        return false;
    }
    for (uint32_t i = 0; i < a->arg_count; i++) {
        if (a->args[i].size != b->args[i].size ||
            (a->args[i].size > 0 &&
             memcmp(a->args[i].data, b->args[i].data, a->args[i].size) != 0)) {
            return false;
        }
    }
    return true;
}

/* A complete command re-encodes to a multibulk request that parses back the same. */
static void check_reencode(const struct resp_command *cmd)
{
    struct syn_buf b;
    syn_buf_init(&b, 0);
    ASSERT(resp_append_command(&b, cmd->args, cmd->arg_count) == 0);
    size_t used = 0;
    resp_command_reset(&again.cmd);
    int rc = resp_parse(b.data, b.len, &again.cmd, &used);
    if (cmd->arg_count == 0) {
        ASSERT(rc == 0 && used == b.len && again.cmd.arg_count == 0);
    } else {
        ASSERT(rc == 0);
        ASSERT(used == b.len);
        ASSERT(same_args(cmd, &again.cmd));
    }
    syn_buf_free(&b);
}

/* Splits come from a small generator seeded by the input, so a run replays exactly. */
static size_t next_piece(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t r = *s >> 33;
    return (r & 3) == 0 ? (size_t)(r >> 2) % 4096 + 1 : (size_t)(r >> 2) % 16 + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (whole.cmd.args == NULL) {
        parser_init(&whole);
        parser_init(&pieces);
        parser_init(&again);
    }
    resp_command_reset(&whole.cmd);
    resp_command_reset(&pieces.cmd);
    uint64_t seed = size;
    for (size_t i = 0; i < size && i < 8; i++) {
        seed = seed * 31 + data[i];
    }
    size_t at = 0;
    size_t avail = 0;
    for (;;) {
        size_t used = 0;
        size_t used_pieces = 0;
        int rc = resp_parse(data + at, size - at, &whole.cmd, &used);
        int rc_pieces;
        while ((rc_pieces = resp_parse(data + at, avail - at, &pieces.cmd, &used_pieces)) ==
                   RESP_INCOMPLETE &&
               avail < size) {
            ASSERT(pieces.cmd.size_needed > avail - at);
            avail += next_piece(&seed);
            avail = avail > size ? size : avail;
        }
        ASSERT(rc == rc_pieces);
        if (rc == RESP_INCOMPLETE) {
            ASSERT(whole.cmd.size_needed > size - at);
            return 0;
        }
        if (rc < 0) {
            ASSERT(rc == SYN_EPROTO || rc == SYN_ETOOBIG);
            ASSERT(strncmp(whole.cmd.errmsg, "Protocol error: ", 16) == 0);
            ASSERT(strcmp(whole.cmd.errmsg, pieces.cmd.errmsg) == 0);
            return 0;
        }
        ASSERT(used == used_pieces);
        ASSERT(used > 0 && used <= size - at);
        ASSERT(used <= SYN_RESP_REQUEST_SIZE_MAX);
        ASSERT(whole.cmd.arg_count <= SYN_RESP_ARGS_MAX);
        ASSERT(same_args(&whole.cmd, &pieces.cmd));
        check_reencode(&whole.cmd);
        at += used;
        avail = avail < at ? at : avail;
    }
}
