/* service_register.c: `synod service register`: a Consul service definition, from a file, from
 * standard input or built from flags, PUT to /v1/agent/service/register on the first node of
 * --addr that answers: the instance belongs to that agent's node, which runs its checks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/json.h"
#include "base/err.h"
#include "base/limits.h"
#include "cli/cli_call.h"
#include "cli/cli_json.h"
#include "cli/cli_service.h"

/* The definition in file, or on standard input for "-", into body. */
static int file_read(const char *file, struct syn_buf *body)
{
    bool in = strcmp(file, "-") == 0;
    FILE *f = in ? stdin : fopen(file, "rb");
    if (f == NULL) {
        return cli_fail("%s: cannot open: %s", file, strerror(errno));
    }
    int rc = 0;
    for (;;) {
        if (syn_buf_reserve(body, 64u << 10) != 0) {
            rc = cli_fail("out of memory");
            break;
        }
        size_t n = fread(body->data + body->len, 1, body->cap - body->len, f);
        body->len += n;
        if (body->len > SYN_HTTP_BODY_SIZE_MAX) {
            rc = cli_fail("%s: more than %u bytes", file, SYN_HTTP_BODY_SIZE_MAX);
            break;
        }
        if (n == 0) {
            rc = ferror(f) ? cli_fail("%s: cannot read", file) : 0;
            break;
        }
    }
    if (!in) {
        fclose(f);
    }
    return rc;
}

/* The instance's ID as the agent will see it: ID, else Name (field names in any case, as
 * Consul reads them). "" when the text is not JSON; the agent then says what is wrong. */
static void definition_id(const struct syn_buf *body, char *out, size_t size)
{
    static const char *const keys[] = {"ID", "Id", "id", "Name", "name", "NAME"};
    struct cli_json j;
    out[0] = '\0';
    if (cli_json_parse(&j, body->data, body->len) == 0) {
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && out[0] == '\0'; i++) {
            cli_json_member_text(&j, 0, keys[i], out, size);
        }
    }
    cli_json_free(&j);
}

static int register_send(const struct cli_opts *o, const struct syn_buf *body)
{
    char id[REG_NAME_SIZE_MAX + 1];
    definition_id(body, id, sizeof(id));
    struct cli_http_request req = {.method = "PUT",
                                   .target = "/v1/agent/service/register",
                                   .body = body->data,
                                   .body_size = body->len};
    struct cli_reply r;
    cli_reply_init(&r);
    int rc = cli_call_any(o, &req, &r);
    if (rc == 0 && r.resp.status != 200) {
        rc = cli_reply_refused(&r, id[0] != '\0' ? id : "register");
    } else if (rc == 0 && o->json) {
        struct syn_buf out;
        syn_buf_init(&out, 0);
        struct json_obj j;
        json_obj_begin(&j, &out);
        json_obj_str(&j, "id", id);
        json_obj_str(&j, "agent", r.addr);
        rc = json_obj_end(&j) == 0 ? 0 : cli_fail("out of memory");
        printf("%.*s\n", (int)out.len, rc == 0 ? (const char *)out.data : "");
        syn_buf_free(&out);
    } else if (rc == 0) {
        printf("%s: registered with the agent at %s (its node runs the checks)\n",
               id[0] != '\0' ? id : "the service", r.addr);
    }
    cli_reply_free(&r);
    return rc;
}

int cli_service_register(const struct cli_opts *o, const struct cli_service_def *d,
                         const char *file)
{
    struct syn_buf body;
    syn_buf_init(&body, 0);
    int rc;
    if (file != NULL) {
        rc = file_read(file, &body);
    } else {
        char err[CLI_ERR_SIZE];
        rc = cli_service_def_json(d, &body, err, sizeof(err));
        rc = rc == SYN_EINVAL ? cli_usage(o, "%s", err) : rc != 0 ? cli_fail("out of memory") : 0;
    }
    if (rc == 0 && body.len == 0) {
        rc = cli_fail("%s: the definition is empty", file);
    }
    rc = rc == 0 ? register_send(o, &body) : rc;
    syn_buf_free(&body);
    return rc;
}
