/* http_reg_json.c: Consul's service definition (the body of PUT /v1/agent/service/register,
 * and the files given to `synod agent --service-file`) into a struct reg_instance. Pure over
 * its bytes: jansson parses, this checks every field's type and size and says what is wrong.
 * docs/registry.md lists the fields. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/http_reg_json.h"
#include "base/err.h"

#define CHECK_INTERVAL_MS_DEFAULT 10000u
#define CHECK_TIMEOUT_MS_DEFAULT 10000u

struct parse {
    char *err;
    size_t err_size;
    bool failed;
};

/* Member key of obj, its name compared without regard to case: Consul's Go decoder matches
 * field names that way, and clients send "name", "Name" or "NAME" (python-consul: lower). */
static json_t *obj_get(json_t *obj, const char *key)
{
    if (!json_is_object(obj)) {
        return NULL;
    }
    json_t *exact = json_object_get(obj, key);
    if (exact != NULL) {
        return exact;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcasecmp(k, key) == 0) {
            return v;
        }
    }
    return NULL;
}

__attribute__((format(printf, 2, 3))) static bool fail(struct parse *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->err_size, fmt, ap);
        va_end(ap);
        p->failed = true;
    }
    return false;
}

int http_duration_parse(const char *text, uint64_t *ms_out)
{
    /* Go's time.ParseDuration for what service definitions use: "10s", "1m30s", "500ms",
     * "1h"; a bare number of seconds too. */
    uint64_t total = 0;
    const char *p = text;
    if (*p == '\0') {
        return SYN_EINVAL;
    }
    while (*p != '\0') {
        uint64_t n = 0;
        const char *digits = p;
        while (*p >= '0' && *p <= '9' && n < UINT64_MAX / 100) {
            n = n * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (p == digits) {
            return SYN_EINVAL;
        }
        uint64_t scale = 1000;
        if (strncmp(p, "ms", 2) == 0) {
            scale = 1;
            p += 2;
        } else if (*p == 's') {
            p++;
        } else if (*p == 'm') {
            scale = 60000;
            p++;
        } else if (*p == 'h') {
            scale = 3600000;
            p++;
        } else if (*p != '\0') {
            return SYN_EINVAL;
        }
        if (n > (UINT64_MAX / 2 - total) / scale) {
            return SYN_EINVAL;
        }
        total += n * scale;
    }
    *ms_out = total;
    return 0;
}

/* A string member into out (size bytes with the NUL); absent leaves out as it is. */
static bool get_str(struct parse *p, json_t *obj, const char *key, char *out, size_t size)
{
    json_t *v = obj_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v)) {
        return fail(p, "%s must be a string", key);
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= size || memchr(s, '\0', n) != NULL) {
        return fail(p, "%s is too long (or holds a NUL)", key);
    }
    memcpy(out, s, n + 1);
    return true;
}

static bool get_duration(struct parse *p, json_t *obj, const char *key, uint64_t *ms)
{
    char text[64] = "";
    if (!get_str(p, obj, key, text, sizeof(text))) {
        return false;
    }
    if (text[0] != '\0' && http_duration_parse(text, ms) != 0) {
        return fail(p, "%s is not a duration such as 10s, 500ms or 1m30s", key);
    }
    return true;
}

static bool get_uint(struct parse *p, json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = obj_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max) {
        return fail(p, "%s must be a non-negative integer in range", key);
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* Args ["cmd", "a b"] as one sh -c line, each word single-quoted. */
static bool args_join(struct parse *p, json_t *args, char *out, size_t size)
{
    if (!json_is_array(args) || json_array_size(args) == 0) {
        return fail(p, "%s must be a non-empty array of strings", "Args");
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(args); i++) {
        json_t *a = json_array_get(args, i);
        if (!json_is_string(a)) {
            return fail(p, "%s must be a non-empty array of strings", "Args");
        }
        const char *s = json_string_value(a);
        if (used + 3 >= size) {
            return fail(p, "%s is too long", "Args");
        }
        used += (size_t)snprintf(out + used, size - used, "%s'", i > 0 ? " " : "");
        for (; *s != '\0'; s++) {
            const char *piece = *s == '\'' ? "'\\''" : NULL;
            size_t n = piece != NULL ? 4 : 1;
            if (used + n + 2 >= size) {
                return fail(p, "%s is too long", "Args");
            }
            memcpy(out + used, piece != NULL ? piece : s, n);
            used += n;
        }
        out[used++] = '\'';
        out[used] = '\0';
    }
    return true;
}

/* The check's type and target from whichever of TTL, HTTP, TCP, Args/Script, PID, PIDFile
 * it has (exactly one). */
static bool check_kind(struct parse *p, json_t *obj, struct reg_check *c)
{
    uint64_t ms = 0;
    uint64_t pid = 0;
    int kinds = 0;
    if (obj_get(obj, "TTL") != NULL) {
        kinds++;
        c->type = REG_CHECK_TTL;
        if (!get_duration(p, obj, "TTL", &ms) || ms == 0 || ms > UINT32_MAX) {
            return fail(p, "%s must be a positive duration", "TTL");
        }
        c->ttl_ms = (uint32_t)ms;
    }
    const char *targets[] = {"HTTP", "TCP", "Script", "PIDFile"};
    const uint8_t types[] = {REG_CHECK_HTTP, REG_CHECK_TCP, REG_CHECK_EXEC, REG_CHECK_PID};
    for (int i = 0; i < 4; i++) {
        if (obj_get(obj, targets[i]) != NULL) {
            kinds++;
            c->type = types[i];
            if (!get_str(p, obj, targets[i], c->target, sizeof(c->target))) {
                return false;
            }
        }
    }
    if (obj_get(obj, "Args") != NULL) {
        kinds++;
        c->type = REG_CHECK_EXEC;
        if (!args_join(p, obj_get(obj, "Args"), c->target, sizeof(c->target))) {
            return false;
        }
    }
    if (obj_get(obj, "PID") != NULL) {
        kinds++;
        c->type = REG_CHECK_PID;
        if (!get_uint(p, obj, "PID", INT32_MAX, &pid) || pid == 0) {
            return fail(p, "%s must be a positive process ID", "PID");
        }
        snprintf(c->target, sizeof(c->target), "%llu", (unsigned long long)pid);
    }
    if (kinds != 1) {
        return fail(p, "%s needs exactly one of TTL, HTTP, TCP, Args, Script, PID, PIDFile",
                    "a check");
    }
    return true;
}

static bool check_parse(struct parse *p, json_t *obj, const struct reg_instance *in, int n,
                        struct reg_check *c)
{
    if (!json_is_object(obj)) {
        return fail(p, "%s must be an object", "a check");
    }
    memset(c, 0, sizeof(*c));
    c->status = REG_CRITICAL; /* Consul's default: a new check is critical until it passes */
    c->rise = 1;
    c->fall = 1;
    c->interval_ms = CHECK_INTERVAL_MS_DEFAULT;
    c->timeout_ms = CHECK_TIMEOUT_MS_DEFAULT;
    uint64_t interval = c->interval_ms;
    uint64_t timeout = c->timeout_ms;
    uint64_t rise = 1;
    uint64_t fall = 1;
    char status[16] = "";
    bool ok = check_kind(p, obj, c) && get_str(p, obj, "CheckID", c->id, sizeof(c->id)) &&
              get_str(p, obj, "ID", c->id, sizeof(c->id)) &&
              get_str(p, obj, "Name", c->name, sizeof(c->name)) &&
              get_duration(p, obj, "Interval", &interval) &&
              get_duration(p, obj, "Timeout", &timeout) &&
              get_duration(p, obj, "DeregisterCriticalServiceAfter", &c->deregister_after_ms) &&
              get_uint(p, obj, "SuccessBeforePassing", 255, &rise) &&
              get_uint(p, obj, "FailuresBeforeCritical", 255, &fall) &&
              get_str(p, obj, "Status", status, sizeof(status)) &&
              get_str(p, obj, "Notes", c->output, sizeof(c->output));
    if (!ok) {
        return false;
    }
    if (interval == 0 || interval > UINT32_MAX || timeout == 0 || timeout > UINT32_MAX) {
        return fail(p, "%s must be positive", "Interval and Timeout");
    }
    c->interval_ms = (uint32_t)interval;
    c->timeout_ms = (uint32_t)timeout;
    c->rise = (uint8_t)(rise > 0 ? rise : 1);
    c->fall = (uint8_t)(fall > 0 ? fall : 1);
    if (status[0] != '\0' && reg_status_parse(status, &c->status) != 0) {
        return fail(p, "%s is passing, warning or critical", "Status");
    }
    if (c->id[0] == '\0') {
        snprintf(c->id, sizeof(c->id), n == 0 ? "service:%.100s" : "service:%.100s:%d", in->id,
                 n + 1);
    }
    if (c->name[0] == '\0') {
        snprintf(c->name, sizeof(c->name), "Service '%.100s' check", in->name);
    }
    return true;
}

static bool tags_parse(struct parse *p, json_t *tags, struct reg_instance *in)
{
    if (tags == NULL || json_is_null(tags)) {
        return true;
    }
    if (!json_is_array(tags) || json_array_size(tags) > REG_TAGS_MAX) {
        return fail(p, "%s must be an array of at most 32 strings", "Tags");
    }
    for (size_t i = 0; i < json_array_size(tags); i++) {
        json_t *t = json_array_get(tags, i);
        if (!json_is_string(t) || json_string_length(t) > REG_NAME_SIZE_MAX ||
            json_string_length(t) == 0) {
            return fail(p, "%s must hold non-empty strings of at most 128 bytes", "Tags");
        }
        snprintf(in->tags[in->tag_count++], REG_NAME_SIZE_MAX + 1, "%s", json_string_value(t));
    }
    return true;
}

static bool meta_parse(struct parse *p, json_t *meta, struct reg_instance *in)
{
    if (meta == NULL || json_is_null(meta)) {
        return true;
    }
    if (!json_is_object(meta) || json_object_size(meta) > REG_META_MAX) {
        return fail(p, "%s must be an object of at most 32 strings", "Meta");
    }
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v)
    {
        if (!json_is_string(v) || strlen(key) == 0 || strlen(key) > REG_NAME_SIZE_MAX ||
            json_string_length(v) > REG_META_VALUE_SIZE_MAX) {
            return fail(p, "%s values must be strings (keys <= 128, values <= 512 bytes)",
                        "Meta");
        }
        struct reg_meta *m = &in->meta[in->meta_count++];
        snprintf(m->key, sizeof(m->key), "%s", key);
        snprintf(m->value, sizeof(m->value), "%s", json_string_value(v));
    }
    return true;
}

static bool checks_parse(struct parse *p, json_t *root, struct reg_instance *in)
{
    json_t *one = obj_get(root, "Check");
    json_t *many = obj_get(root, "Checks");
    if (one != NULL && !json_is_null(one)) {
        if (!check_parse(p, one, in, 0, &in->checks[in->check_count])) {
            return false;
        }
        in->check_count++;
    }
    if (many == NULL || json_is_null(many)) {
        return true;
    }
    if (!json_is_array(many) || json_array_size(many) + in->check_count > REG_CHECKS_MAX) {
        return fail(p, "%s must be an array; an instance has at most 8 checks", "Checks");
    }
    for (size_t i = 0; i < json_array_size(many); i++) {
        int n = in->check_count;
        if (!check_parse(p, json_array_get(many, i), in, n, &in->checks[n])) {
            return false;
        }
        in->check_count++;
    }
    return true;
}

int http_reg_json_parse(const uint8_t *body, size_t size, const char *node,
                        struct reg_instance *in, char *err, size_t err_size)
{
    struct parse p = {.err = err, .err_size = err_size};
    memset(in, 0, sizeof(*in));
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, size, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(err, err_size, "the body is not JSON: %s (line %d)", jerr.text, jerr.line);
        return SYN_EINVAL;
    }
    snprintf(in->node, sizeof(in->node), "%s", node);
    in->weight_passing = 1;
    in->weight_warning = 1;
    uint64_t port = 0;
    json_t *weights = obj_get(root, "Weights");
    bool ok = json_is_object(root) && get_str(&p, root, "Name", in->name, sizeof(in->name)) &&
              get_str(&p, root, "ID", in->id, sizeof(in->id)) &&
              get_str(&p, root, "Address", in->address, sizeof(in->address)) &&
              get_uint(&p, root, "Port", UINT16_MAX, &port) &&
              tags_parse(&p, obj_get(root, "Tags"), in) &&
              meta_parse(&p, obj_get(root, "Meta"), in) &&
              get_duration(&p, root, "TTL", &in->ttl_ms);
    if (ok && weights != NULL && json_is_object(weights)) {
        uint64_t wp = 1;
        uint64_t ww = 1;
        ok = get_uint(&p, weights, "Passing", UINT32_MAX, &wp) &&
             get_uint(&p, weights, "Warning", UINT32_MAX, &ww);
        in->weight_passing = (uint32_t)wp;
        in->weight_warning = (uint32_t)ww;
    }
    if (ok && in->name[0] == '\0') {
        ok = fail(&p, "%s is required", "Name");
    }
    if (ok && in->id[0] == '\0') {
        snprintf(in->id, sizeof(in->id), "%s", in->name); /* Consul: the ID defaults to it */
    }
    in->port = (uint16_t)port;
    ok = ok && checks_parse(&p, root, in);
    if (!json_is_object(root)) {
        fail(&p, "%s must be a JSON object", "the service definition");
    }
    json_decref(root);
    const char *why;
    if (ok && reg_instance_check(in, &why) != 0) {
        snprintf(err, err_size, "%s", why);
        return SYN_EINVAL;
    }
    return ok ? 0 : SYN_EINVAL;
}
