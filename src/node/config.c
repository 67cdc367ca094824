/* config.c: parsing and validating the agent's flags and config file. */
#include "node/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "log/log.h"

const char node_config_usage[] =
    "usage: synod agent --id NAME --data-dir DIR --peer-addr HOST:PORT --resp-addr HOST:PORT\n"
    "                   --http-addr HOST:PORT --initial-cluster NAME=HOST:PORT,... [options]\n"
    "       synod agent --config FILE [options]\n"
    "\n"
    "Runs one synod node: Raft over TCP between peers, a Redis-protocol (RESP) client port and\n"
    "an HTTP port. Every node accepts every request; followers forward writes to the leader.\n"
    "A node restarted with the same --data-dir recovers from its disk and rejoins.\n"
    "\n"
    "  --id NAME               this node's name, e.g. n1 (letters, digits, '-', '_', '.')\n"
    "  --data-dir DIR          where the write-ahead log, snapshots and the store live\n"
    "  --peer-addr HOST:PORT   Raft traffic from the other nodes\n"
    "  --resp-addr HOST:PORT   Redis-protocol clients (redis-cli, redis-benchmark, libraries)\n"
    "  --http-addr HOST:PORT   HTTP API: Consul's KV, catalog, health and agent endpoints\n"
    "  --dns-addr HOST:PORT    also answer DNS (UDP and TCP) for NAME.service.DOMAIN and\n"
    "                          NODE.node.DOMAIN (default: no DNS server)\n"
    "  --dns-domain DOMAIN     the DNS domain (default synod; consul works too)\n"
    "  --dns-ttl SECONDS       the TTL of DNS answers (default 0, as Consul)\n"
    "  --service-file FILE     a service definition (Consul's JSON) this agent registers once\n"
    "                          a leader is known, and runs the checks of; repeat for more\n"
    "  --initial-cluster LIST  the founding members, NAME=HOST:PORT,...; must include --id\n"
    "                          unless --join is given\n"
    "  --join                  start outside the cluster; a member adds this node later\n"
    "                          (as a learner, then promoted)\n"
    "  --config FILE           read `key = value` lines first (keys are these flags' names)\n"
    "  --cluster-id ID         refuse peers of another cluster (default: synod)\n"
    "  --tick-ms N             one Raft tick (default 10)\n"
    "  --election-ticks N      election timeout, randomized in [N, 2N) ticks (default 15)\n"
    "  --heartbeat-ticks N     leader heartbeat interval (default 3)\n"
    "  --snapshot-entries N    snapshot after N applied entries (default 100000)\n"
    "  --snapshot-trailing N   entries kept after a snapshot for slow followers (default 10000)\n"
    "  --snapshot-log-bytes N  ... or once the log in memory holds N bytes of entries\n"
    "                          (default 16777216: 16 MiB)\n"
    "  --request-timeout-ms N  a client request that cannot commit gets -TIMEOUT (default 5000)\n"
    "  --fd-interval-ms N      failure detector: heartbeat every N ms (default 100)\n"
    "  --fd-phi-suspect X      phi at which a silent node is suspect (default 3)\n"
    "  --fd-phi-fail X         phi at which it is failed (default 8: ~1.5 s of silence)\n"
    "  --fd-timeout-ms N       failed after N ms of silence whatever phi says (default 1750)\n"
    "  --no-fsync              do not fsync the log (unsafe: benchmarks only)\n"
    "  --log-level LEVEL       debug, info, warn or error (default info)\n"
    "  --log-json              log lines as JSON objects\n"
    "  --help                  print this help\n";

void node_config_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->cluster_id, sizeof(cfg->cluster_id), "synod");
    cfg->tick_ms = 10;
    cfg->election_ticks = 15;
    cfg->heartbeat_ticks = 3;
    cfg->snapshot_entries = 100000;
    cfg->snapshot_trailing = 10000;
    cfg->snapshot_log_bytes = 16u << 20;
    cfg->request_timeout_ms = 5000;
    cfg->fsync = true;
    cfg->log_level = SYN_LOG_INFO;
    fd_config_default(&cfg->fd);
}

raft_id node_id_from_name(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        h = (h ^ *p) * 0x100000001b3ULL;
    }
    return h == 0 ? 1 : h;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_size,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return SYN_EINVAL;
}

static bool name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= NODE_NAME_SIZE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

int node_addr_split(const char *addr, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || colon[1] == '\0') {
        return SYN_EINVAL;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (h[0] == '[') { /* [::1]:7000 */
        if (hlen < 3 || h[hlen - 1] != ']') {
            return SYN_EINVAL;
        }
        h++;
        hlen -= 2;
    }
    if (hlen + 1 > host_size) {
        return SYN_EINVAL;
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || p < 1 || p > 65535) {
        return SYN_EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

static int set_addr(char *dst, const char *flag, const char *value, char *err, size_t err_size)
{
    char host[NODE_ADDR_SIZE_MAX];
    int port;
    if (strlen(value) >= NODE_ADDR_SIZE_MAX || node_addr_split(value, host, sizeof(host), &port) != 0) {
        return fail(err, err_size, "--%s: expected HOST:PORT, got '%s'", flag, value);
    }
    snprintf(dst, NODE_ADDR_SIZE_MAX, "%s", value);
    return 0;
}

static int set_u64(uint64_t *dst, const char *flag, const char *value, uint64_t min, uint64_t max,
                   char *err, size_t err_size)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno != 0 || *end != '\0' || value[0] == '-' || v < min || v > max) {
        return fail(err, err_size, "--%s: expected a number from %llu to %llu, got '%s'", flag,
                    (unsigned long long)min, (unsigned long long)max, value);
    }
    *dst = v;
    return 0;
}

static int set_double(double *dst, const char *flag, const char *value, double min, double max,
                      char *err, size_t err_size)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno != 0 || end == value || *end != '\0' || !(v >= min && v <= max)) {
        return fail(err, err_size, "--%s: expected a number from %g to %g, got '%s'", flag, min,
                    max, value);
    }
    *dst = v;
    return 0;
}

static int set_u32(uint32_t *dst, const char *flag, const char *value, uint32_t min, uint32_t max,
                   char *err, size_t err_size)
{
    uint64_t v;
    int rc = set_u64(&v, flag, value, min, max, err, err_size);
    if (rc == 0) {
        *dst = (uint32_t)v;
    }
    return rc;
}

static int parse_cluster(struct node_config *cfg, const char *value, char *err, size_t err_size)
{
    cfg->initial_count = 0;
    char buf[SYN_MEMBERS_MAX * (NODE_NAME_SIZE_MAX + NODE_ADDR_SIZE_MAX + 2)];
    if (strlen(value) >= sizeof(buf)) {
        return fail(err, err_size, "--initial-cluster: too long");
    }
    snprintf(buf, sizeof(buf), "%s", value);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (eq == NULL) {
            return fail(err, err_size, "--initial-cluster: expected NAME=HOST:PORT, got '%s'", item);
        }
        *eq = '\0';
        if (cfg->initial_count == SYN_MEMBERS_MAX) {
            return fail(err, err_size, "--initial-cluster: more than %u members", SYN_MEMBERS_MAX);
        }
        struct node_member *m = &cfg->initial[cfg->initial_count];
        if (!name_valid(item)) {
            return fail(err, err_size, "--initial-cluster: bad node name '%s'", item);
        }
        snprintf(m->name, sizeof(m->name), "%s", item);
        m->id = node_id_from_name(item);
        int rc = set_addr(m->peer_addr, "initial-cluster", eq + 1, err, err_size);
        if (rc != 0) {
            return rc;
        }
        for (uint32_t i = 0; i < cfg->initial_count; i++) {
            if (cfg->initial[i].id == m->id) {
                return fail(err, err_size, "--initial-cluster: '%s' listed twice", item);
            }
        }
        cfg->initial_count++;
    }
    if (cfg->initial_count == 0) {
        return fail(err, err_size, "--initial-cluster: empty");
    }
    return 0;
}

/* Applies one option; flag is the name without "--". */
static int set_option(struct node_config *cfg, const char *flag, const char *value, char *err,
                      size_t err_size)
{
    if (strcmp(flag, "id") == 0) {
        if (!name_valid(value)) {
            return fail(err, err_size, "--id: bad node name '%s' (letters, digits, '-', '_', '.')", value);
        }
        snprintf(cfg->name, sizeof(cfg->name), "%s", value);
        cfg->id = node_id_from_name(value);
        return 0;
    }
    if (strcmp(flag, "data-dir") == 0) {
        if (value[0] == '\0' || strlen(value) >= NODE_PATH_SIZE_MAX) {
            return fail(err, err_size, "--data-dir: empty or too long");
        }
        snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", value);
        return 0;
    }
    if (strcmp(flag, "peer-addr") == 0) {
        return set_addr(cfg->peer_addr, flag, value, err, err_size);
    }
    if (strcmp(flag, "resp-addr") == 0) {
        return set_addr(cfg->resp_addr, flag, value, err, err_size);
    }
    if (strcmp(flag, "http-addr") == 0) {
        return set_addr(cfg->http_addr, flag, value, err, err_size);
    }
    if (strcmp(flag, "initial-cluster") == 0) {
        return parse_cluster(cfg, value, err, err_size);
    }
    if (strcmp(flag, "dns-addr") == 0) {
        return set_addr(cfg->dns_addr, flag, value, err, err_size);
    }
    if (strcmp(flag, "dns-domain") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof(cfg->dns_domain)) {
            return fail(err, err_size, "--dns-domain: empty or longer than %zu bytes",
                        sizeof(cfg->dns_domain) - 1);
        }
        snprintf(cfg->dns_domain, sizeof(cfg->dns_domain), "%s", value);
        return 0;
    }
    if (strcmp(flag, "service-file") == 0) {
        if (cfg->service_file_count == NODE_SERVICE_FILES_MAX || value[0] == '\0' ||
            strlen(value) >= NODE_PATH_SIZE_MAX) {
            return fail(err, err_size, "--service-file: empty, too long, or more than %u files",
                        NODE_SERVICE_FILES_MAX);
        }
        snprintf(cfg->service_files[cfg->service_file_count++], NODE_PATH_SIZE_MAX, "%s", value);
        return 0;
    }
    if (strcmp(flag, "dns-ttl") == 0) {
        return set_u32(&cfg->dns_ttl_s, flag, value, 0, 86400, err, err_size);
    }
    if (strcmp(flag, "cluster-id") == 0) {
        size_t n = strlen(value);
        if (n == 0 || n > SYN_CLUSTER_ID_SIZE_MAX) {
            return fail(err, err_size, "--cluster-id: 1 to %u characters", SYN_CLUSTER_ID_SIZE_MAX);
        }
        snprintf(cfg->cluster_id, sizeof(cfg->cluster_id), "%s", value);
        return 0;
    }
    if (strcmp(flag, "tick-ms") == 0) {
        return set_u32(&cfg->tick_ms, flag, value, 1, 10000, err, err_size);
    }
    if (strcmp(flag, "election-ticks") == 0) {
        return set_u32(&cfg->election_ticks, flag, value, 2, 100000, err, err_size);
    }
    if (strcmp(flag, "heartbeat-ticks") == 0) {
        return set_u32(&cfg->heartbeat_ticks, flag, value, 1, 100000, err, err_size);
    }
    if (strcmp(flag, "snapshot-entries") == 0) {
        return set_u64(&cfg->snapshot_entries, flag, value, 1, UINT64_MAX, err, err_size);
    }
    if (strcmp(flag, "snapshot-log-bytes") == 0) {
        return set_u64(&cfg->snapshot_log_bytes, flag, value, 1, UINT64_MAX, err, err_size);
    }
    if (strcmp(flag, "snapshot-trailing") == 0) {
        return set_u64(&cfg->snapshot_trailing, flag, value, 0, UINT64_MAX, err, err_size);
    }
    if (strcmp(flag, "request-timeout-ms") == 0) {
        return set_u32(&cfg->request_timeout_ms, flag, value, 1, 3600000, err, err_size);
    }
    if (strcmp(flag, "fd-interval-ms") == 0) {
        return set_u32(&cfg->fd.heartbeat_interval_ms, flag, value, 1, 60000, err, err_size);
    }
    if (strcmp(flag, "fd-timeout-ms") == 0) {
        return set_u32(&cfg->fd.hard_timeout_ms, flag, value, 2, 3600000, err, err_size);
    }
    if (strcmp(flag, "fd-phi-suspect") == 0) {
        return set_double(&cfg->fd.phi_suspect, flag, value, 0.1, 100, err, err_size);
    }
    if (strcmp(flag, "fd-phi-fail") == 0) {
        return set_double(&cfg->fd.phi_fail, flag, value, 0.1, 100, err, err_size);
    }
    if (strcmp(flag, "log-level") == 0) {
        int level = syn_log_level_parse(value);
        if (level < 0) {
            return fail(err, err_size, "--log-level: expected debug, info, warn or error, got '%s'", value);
        }
        cfg->log_level = level;
        return 0;
    }
    return fail(err, err_size, "unknown option --%s (try synod agent --help)", flag);
}

static bool is_switch(const char *flag)
{
    return strcmp(flag, "join") == 0 || strcmp(flag, "no-fsync") == 0 ||
           strcmp(flag, "log-json") == 0;
}

static void set_switch(struct node_config *cfg, const char *flag, bool on)
{
    if (strcmp(flag, "join") == 0) {
        cfg->join = on;
    } else if (strcmp(flag, "no-fsync") == 0) {
        cfg->fsync = !on;
    } else {
        cfg->log_json = on;
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

int node_config_load_file(struct node_config *cfg, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return fail(err, err_size, "--config %s: %s", path, strerror(errno));
    }
    char line[4096];
    int lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        char *s = trim(line);
        if (*s == '\0') {
            continue;
        }
        char *eq = strchr(s, '=');
        char *key = trim(eq == NULL ? s : (*eq = '\0', s));
        char *value = eq == NULL ? NULL : trim(eq + 1);
        if (is_switch(key)) {
            set_switch(cfg, key, value == NULL || strcmp(value, "true") == 0);
        } else if (value == NULL) {
            rc = fail(err, err_size, "%s:%d: expected key = value", path, lineno);
        } else {
            char sub[256];
            rc = set_option(cfg, key, value, sub, sizeof(sub));
            if (rc != 0) {
                fail(err, err_size, "%s:%d: %s", path, lineno, sub);
            }
        }
    }
    fclose(f);
    return rc;
}

static int check_complete(const struct node_config *cfg, char *err, size_t err_size)
{
    const char *missing = cfg->name[0] == '\0'        ? "--id"
                          : cfg->data_dir[0] == '\0'  ? "--data-dir"
                          : cfg->peer_addr[0] == '\0' ? "--peer-addr"
                          : cfg->resp_addr[0] == '\0' ? "--resp-addr"
                          : cfg->http_addr[0] == '\0' ? "--http-addr"
                          : NULL;
    if (missing != NULL) {
        return fail(err, err_size, "missing %s (try synod agent --help)", missing);
    }
    if (cfg->heartbeat_ticks >= cfg->election_ticks) {
        return fail(err, err_size, "--heartbeat-ticks must be below --election-ticks");
    }
    const char *why = NULL;
    if (fd_config_check(&cfg->fd, &why) != 0) {
        return fail(err, err_size, "failure detector settings (--fd-*): %s", why);
    }
    if (cfg->join) {
        return 0;
    }
    if (cfg->initial_count == 0) {
        return fail(err, err_size, "missing --initial-cluster (or --join)");
    }
    for (uint32_t i = 0; i < cfg->initial_count; i++) {
        if (cfg->initial[i].id == cfg->id) {
            return 0;
        }
    }
    return fail(err, err_size, "--initial-cluster does not list this node (%s)", cfg->name);
}

int node_config_parse(struct node_config *cfg, int argc, char **argv, char *err, size_t err_size)
{
    node_config_defaults(cfg);
    for (int i = 0; i + 1 < argc; i++) { /* the file first, so that flags override it */
        if (strcmp(argv[i], "--config") == 0) {
            int rc = node_config_load_file(cfg, argv[i + 1], err, err_size);
            if (rc != 0) {
                return rc;
            }
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            return fail(err, err_size, "unexpected argument '%s' (try synod agent --help)", arg);
        }
        char flag[64];
        snprintf(flag, sizeof(flag), "%s", arg + 2);
        char *eq = strchr(flag, '=');
        const char *value = NULL;
        if (eq != NULL) { /* --flag=value */
            *eq = '\0';
            value = arg + 2 + (eq - flag) + 1;
        }
        if (is_switch(flag)) {
            set_switch(cfg, flag, value == NULL || strcmp(value, "true") == 0);
            continue;
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                return fail(err, err_size, "--%s needs a value", flag);
            }
            value = argv[++i];
        }
        if (strcmp(flag, "config") == 0) {
            continue; /* already read */
        }
        int rc = set_option(cfg, flag, value, err, err_size);
        if (rc != 0) {
            return rc;
        }
    }
    /* A member never heard from is failed no sooner than a silent one. */
    if (cfg->fd.first_contact_timeout_ms < cfg->fd.hard_timeout_ms) {
        cfg->fd.first_contact_timeout_ms = cfg->fd.hard_timeout_ms;
    }
    return check_complete(cfg, err, err_size);
}
