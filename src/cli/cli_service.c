/* cli_service.c: service definitions from flags, and the services listing (cli_service.h). */
#include "cli/cli_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "base/err.h"
#include "cli/cli_json.h"
#include "cli/cli_opts.h"
#include "cli/cli_out.h"

/* Whether argv[*i] is "--NAME" or "--NAME=V"; the value in *value, the next argument taken
 * for the first form. */
static int repeated_take(const char *name, int argc, char **argv, int *i, const char **value,
                         char *err, size_t err_size)
{
    const char *a = argv[*i] + 2;
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '=')) {
        return 0;
    }
    if (a[n] == '=') {
        *value = a + n + 1;
    } else if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        return cli_err(err, err_size, "--%s needs a value", name);
    }
    return 1;
}

int cli_service_take_repeated(int argc, char **argv, struct cli_service_def *d, char **rest,
                              int *rest_count, char *err, size_t err_size)
{
    bool options = true;
    *rest_count = 0;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        int tag = 0, meta = 0;
        options = options && strcmp(argv[i], "--") != 0;
        if (options && strncmp(argv[i], "--", 2) == 0) {
            int at = i;
            tag = repeated_take("tag", argc, argv, &i, &v, err, err_size);
            meta = tag == 0 ? repeated_take("meta", argc, argv, &i, &v, err, err_size) : 0;
            const char *timeout = NULL;
            int t = tag == 0 && meta == 0
                        ? repeated_take("timeout", argc, argv, &i, &timeout, err, err_size)
                        : 0;
            if (t == 1 && timeout[strspn(timeout, "0123456789")] == '\0') {
                i = at; /* a bare number: the CLI's own --timeout, in milliseconds */
            } else if (t == 1) {
                d->timeout = timeout; /* a duration with a unit: the check's */
                continue;
            } else if (t < 0) {
                return SYN_EINVAL;
            }
        }
        if (tag < 0 || meta < 0) {
            return SYN_EINVAL;
        }
        if (tag == 1 && d->tag_count == REG_TAGS_MAX) {
            return cli_err(err, err_size, "--tag: at most %u tags", REG_TAGS_MAX);
        }
        if (meta == 1 && d->meta_count == REG_META_MAX) {
            return cli_err(err, err_size, "--meta: at most %u keys", REG_META_MAX);
        }
        if (tag == 1) {
            d->tags[d->tag_count++] = v;
        } else if (meta == 1) {
            d->meta[d->meta_count++] = v;
        } else {
            rest[(*rest_count)++] = argv[i];
        }
    }
    return 0;
}

/* The check's kind and target: exactly one of the --check-* flags, or none. */
static int check_pick(const struct cli_service_def *d, const char **kind, const char **target,
                      char *err, size_t err_size)
{
    const char *targets[] = {d->check_http, d->check_tcp,     d->check_ttl,
                             d->check_pid,  d->check_pidfile, d->check_exec};
    static const char *const kinds[] = {"HTTP", "TCP", "TTL", "PID", "PIDFile", "Script"};
    *kind = NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (targets[i] != NULL && *kind != NULL) {
            return cli_err(err, err_size,
                           "give one --check-* option (an instance registered so "
                           "has one check; a JSON definition may have several)");
        }
        if (targets[i] != NULL) {
            *kind = kinds[i];
            *target = targets[i];
        }
    }
    bool options = d->interval != NULL || d->timeout != NULL || d->deregister_after != NULL;
    if (*kind == NULL && options) {
        return cli_err(err, err_size, "--interval, --timeout and --deregister-after need a check");
    }
    if (*kind != NULL && strcmp(*kind, "TTL") == 0 && (d->interval != NULL || d->timeout != NULL)) {
        return cli_err(err, err_size,
                       "a TTL check has no --interval or --timeout: the service "
                       "reports within its TTL");
    }
    return 0;
}

static void tags_write(struct json_obj *o, const struct cli_service_def *d)
{
    if (d->tag_count == 0 || !json_obj_key(o, "Tags")) {
        return;
    }
    o->rc = syn_buf_append(o->b, "[", 1);
    for (uint32_t i = 0; i < d->tag_count && o->rc == 0; i++) {
        o->rc = i > 0 ? syn_buf_append(o->b, ",", 1) : 0;
        o->rc = o->rc == 0 ? json_append_cstring(o->b, d->tags[i]) : o->rc;
    }
    o->rc = o->rc == 0 ? syn_buf_append(o->b, "]", 1) : o->rc;
}

static int meta_write(struct json_obj *o, const struct cli_service_def *d, char *err,
                      size_t err_size)
{
    if (d->meta_count == 0 || !json_obj_key(o, "Meta")) {
        return 0;
    }
    struct json_obj m;
    json_obj_begin(&m, o->b);
    for (uint32_t i = 0; i < d->meta_count; i++) {
        const char *eq = strchr(d->meta[i], '=');
        if (eq == NULL || eq == d->meta[i] || eq - d->meta[i] > (long)REG_NAME_SIZE_MAX) {
            return cli_err(err, err_size, "--meta '%s': expected KEY=VALUE, a key of 1 to %u bytes",
                           d->meta[i], REG_NAME_SIZE_MAX);
        }
        char key[REG_NAME_SIZE_MAX + 1];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - d->meta[i]), d->meta[i]);
        json_obj_str(&m, key, eq + 1);
    }
    o->rc = json_obj_end(&m);
    return 0;
}

static int check_write(struct json_obj *o, const struct cli_service_def *d, const char *kind,
                       const char *target, char *err, size_t err_size)
{
    uint64_t pid = 0;
    if (strcmp(kind, "PID") == 0 && (!cli_u64_parse(target, INT32_MAX, &pid) || pid == 0)) {
        return cli_err(err, err_size, "--check-pid: expected a process id, 1 to %d", INT32_MAX);
    }
    if (!json_obj_key(o, "Check")) {
        return 0;
    }
    struct json_obj c;
    json_obj_begin(&c, o->b);
    if (pid != 0) {
        json_obj_u64(&c, kind, pid);
    } else {
        json_obj_str(&c, kind, target);
    }
    const char *names[] = {"Interval", "Timeout", "DeregisterCriticalServiceAfter"};
    const char *values[] = {d->interval, d->timeout, d->deregister_after};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] != NULL) {
            json_obj_str(&c, names[i], values[i]);
        }
    }
    o->rc = json_obj_end(&c);
    return 0;
}

int cli_service_def_json(const struct cli_service_def *d, struct syn_buf *out, char *err,
                         size_t err_size)
{
    uint64_t port = 0;
    const char *kind = NULL, *target = NULL;
    if (d->name == NULL || d->name[0] == '\0') {
        return cli_err(err, err_size, "--name is required");
    }
    if (d->port != NULL && !cli_u64_parse(d->port, 65535, &port)) {
        return cli_err(err, err_size, "--port: expected a number, 0 to 65535");
    }
    int rc = check_pick(d, &kind, &target, err, err_size);
    if (rc != 0) {
        return rc;
    }
    size_t start = out->len;
    struct json_obj o;
    json_obj_begin(&o, out);
    json_obj_str(&o, "Name", d->name);
    const char *strs[] = {"ID", d->id, "Address", d->address};
    for (size_t i = 0; i < 4; i += 2) {
        if (strs[i + 1] != NULL) {
            json_obj_str(&o, strs[i], strs[i + 1]);
        }
    }
    if (d->port != NULL) {
        json_obj_u64(&o, "Port", port);
    }
    tags_write(&o, d);
    rc = meta_write(&o, d, err, err_size);
    if (rc == 0 && kind != NULL) {
        rc = check_write(&o, d, kind, target, err, err_size);
    }
    rc = rc == 0 ? json_obj_end(&o) : rc;
    rc = rc == 0 ? syn_buf_append(out, "\n", 1) : rc;
    if (rc != 0) {
        out->len = start;
    }
    return rc;
}

/* ---- The listing --------------------------------------------------------------------- */

void cli_service_list_free(struct cli_service_list *l)
{
    for (uint32_t i = 0; i < l->count; i++) {
        syn_buf_free(&l->rows[i].tags);
        syn_buf_free(&l->rows[i].tags_json);
    }
    free(l->rows);
    *l = (struct cli_service_list){0};
}

/* One service's tags (a JSON array of strings) into row. */
static int row_tags(const struct cli_json *j, uint32_t arr, struct cli_service_row *row)
{
    if (cli_json_type(j, arr) != CLI_JSON_ARRAY) {
        return SYN_EBADMSG;
    }
    struct syn_buf tag;
    syn_buf_init(&tag, 0);
    int rc = syn_buf_append(&row->tags_json, "[", 1);
    for (uint32_t t = cli_json_first(j, arr); t != CLI_JSON_NONE && rc == 0;
         t = cli_json_next(j, arr, t)) {
        syn_buf_reset(&tag);
        rc = cli_json_string(j, t, &tag) == 0 ? 0 : SYN_EBADMSG;
        bool first = row->tags_json.len == 1;
        rc = rc == 0 && !first ? syn_buf_append(&row->tags, ",", 1) : rc;
        rc = rc == 0 && !first ? syn_buf_append(&row->tags_json, ",", 1) : rc;
        rc = rc == 0 ? cli_out_escape(&row->tags, tag.data, tag.len) : rc;
        rc = rc == 0 ? json_append_string(&row->tags_json, tag.data, tag.len) : rc;
    }
    rc = rc == 0 ? syn_buf_append(&row->tags_json, "]", 1) : rc;
    rc = rc == 0 ? syn_buf_append(&row->tags, "", 1) : rc; /* a C string for the table */
    syn_buf_free(&tag);
    return rc;
}

int cli_service_list_parse(const uint8_t *body, size_t size, struct cli_service_list *l)
{
    *l = (struct cli_service_list){0};
    struct cli_json j;
    void *items = NULL;
    int rc = cli_json_parse_items(&j, body, size, CLI_JSON_OBJECT, sizeof(*l->rows), &items);
    l->rows = items;
    uint32_t members = rc == 0 ? j.toks[0].count : 0;
    uint32_t k = 1; /* the first key */
    for (uint32_t i = 0; i < members && rc == 0; i++) {
        struct cli_service_row *row = &l->rows[l->count++];
        syn_buf_init(&row->tags, 0);
        syn_buf_init(&row->tags_json, 0);
        uint32_t value = j.toks[k].next;
        rc = cli_json_cstring(&j, k, row->name, sizeof(row->name)) ? 0 : SYN_EBADMSG;
        rc = rc == 0 ? row_tags(&j, value, row) : rc;
        k = j.toks[value].next;
    }
    cli_json_free(&j);
    return rc;
}

int cli_service_list_text(const struct cli_service_list *l, struct syn_buf *out)
{
    struct cli_table t;
    cli_table_init(&t, 4);
    cli_table_add(&t, "SERVICE");
    cli_table_add(&t, "TAGS");
    cli_table_add(&t, "INSTANCES");
    cli_table_add(&t, "PASSING");
    for (uint32_t i = 0; i < l->count; i++) {
        const struct cli_service_row *r = &l->rows[i];
        struct syn_buf name;
        syn_buf_init(&name, 0);
        int rc = cli_out_escape(&name, (const uint8_t *)r->name, strlen(r->name));
        rc = rc == 0 ? syn_buf_append(&name, "", 1) : rc;
        cli_table_add(&t, "%s", rc == 0 ? (const char *)name.data : "?");
        cli_table_add(&t, "%s", (const char *)r->tags.data);
        cli_table_add(&t, "%u", r->instances);
        cli_table_add(&t, "%u", r->passing);
        syn_buf_free(&name);
    }
    int rc = cli_table_format(&t, out);
    cli_table_free(&t);
    return rc;
}

int cli_service_list_json(const struct cli_service_list *l, struct syn_buf *out)
{
    int rc = syn_buf_append(out, "[", 1);
    for (uint32_t i = 0; i < l->count && rc == 0; i++) {
        const struct cli_service_row *r = &l->rows[i];
        struct json_obj o;
        rc = i > 0 ? syn_buf_append(out, ",", 1) : 0;
        json_obj_begin(&o, out);
        json_obj_str(&o, "name", r->name);
        if (json_obj_key(&o, "tags")) {
            o.rc = syn_buf_append(out, r->tags_json.data, r->tags_json.len);
        }
        json_obj_u64(&o, "instances", r->instances);
        json_obj_u64(&o, "passing", r->passing);
        rc = rc == 0 ? json_obj_end(&o) : rc;
    }
    return rc == 0 ? syn_buf_append(out, "]\n", 2) : rc;
}
