/* node_bootstrap.c: the configuration a founding member starts from, kept on disk.
 *
 * Until its first snapshot, a node's configuration is the bootstrap one plus the CONF
 * entries in its log. The bootstrap configuration comes from --initial-cluster the first
 * time the data directory is used, and is written to DATA_DIR/cluster (temporary file,
 * fsync, rename, directory fsync). Later starts read it from there, so an agent restarted
 * with a different --initial-cluster (a typo, or only its own name) cannot make up a
 * configuration of its own and elect itself: as etcd does, the flag is ignored once the
 * directory is initialized, with a warning when it disagrees. docs/node.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "log/log.h"
#include "node/node_internal.h"

#define BOOTSTRAP_FILE "cluster"

static void conf_from_flags(const struct node *n, struct raft_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    for (uint32_t i = 0; i < n->cfg.initial_count; i++) {
        const struct node_member *m = &n->cfg.initial[i];
        struct raft_member *rm = &conf->members[conf->member_count++];
        rm->id = m->id;
        rm->role = RAFT_VOTER;
        int len = snprintf(rm->addr, sizeof(rm->addr), "%s@%s", m->name, m->peer_addr);
        rm->addr_size = (uint8_t)(len < (int)sizeof(rm->addr) ? len : (int)sizeof(rm->addr));
    }
}

/* "NAME@HOST:PORT" lines. 0, SYN_ENOENT (no file), SYN_ECORRUPT (a line is not one). */
static int conf_read(const char *path, struct raft_conf *conf)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT ? SYN_ENOENT : SYN_EIO;
    }
    memset(conf, 0, sizeof(*conf));
    char line[SYN_MEMBER_ADDR_SIZE_MAX + 8];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        const char *at = strchr(line, '@');
        if (n == 0) {
            continue;
        }
        if (at == NULL || at == line || n >= SYN_MEMBER_ADDR_SIZE_MAX ||
            conf->member_count == SYN_MEMBERS_MAX) {
            rc = SYN_ECORRUPT;
            break;
        }
        char name[SYN_MEMBER_ADDR_SIZE_MAX];
        memcpy(name, line, (size_t)(at - line));
        name[at - line] = '\0';
        struct raft_member *m = &conf->members[conf->member_count++];
        m->id = node_id_from_name(name);
        m->role = RAFT_VOTER;
        memcpy(m->addr, line, n);
        m->addr_size = (uint8_t)n;
    }
    fclose(f);
    return rc != 0 || conf->member_count == 0 ? SYN_ECORRUPT : 0;
}

static int conf_write(const char *dir, const char *path, const struct raft_conf *conf)
{
    char tmp[NODE_PATH_SIZE_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return SYN_EIO;
    }
    char text[SYN_MEMBERS_MAX * (SYN_MEMBER_ADDR_SIZE_MAX + 1)];
    size_t used = 0;
    for (uint32_t i = 0; i < conf->member_count; i++) {
        const struct raft_member *m = &conf->members[i];
        memcpy(text + used, m->addr, m->addr_size);
        used += m->addr_size;
        text[used++] = '\n';
    }
    bool ok = write(fd, text, used) == (ssize_t)used && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    int dfd = ok ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    ok = ok && dfd >= 0 && fsync(dfd) == 0;
    if (dfd >= 0) {
        close(dfd);
    }
    return ok ? 0 : SYN_EIO;
}

static bool conf_same(const struct raft_conf *a, const struct raft_conf *b)
{
    if (a->member_count != b->member_count) {
        return false;
    }
    for (uint32_t i = 0; i < a->member_count; i++) {
        const struct raft_member *m = raft_conf_find(b, a->members[i].id);
        if (m == NULL || m->addr_size != a->members[i].addr_size ||
            memcmp(m->addr, a->members[i].addr, m->addr_size) != 0) {
            return false;
        }
    }
    return true;
}

int node_bootstrap_conf(struct node *n, struct raft_conf *conf, char *err, size_t err_size)
{
    char path[NODE_PATH_SIZE_MAX + 16];
    snprintf(path, sizeof(path), "%s/%s", n->cfg.data_dir, BOOTSTRAP_FILE);
    struct raft_conf flags;
    conf_from_flags(n, &flags);
    int rc = conf_read(path, conf);
    if (rc == 0) {
        if (!conf_same(conf, &flags)) {
            LOG_WARN("node", "--initial-cluster differs from the cluster %s was created with: "
                             "ignoring the flag and starting from %s",
                     n->cfg.data_dir, path);
        }
        return 0;
    }
    if (rc != SYN_ENOENT) {
        snprintf(err, err_size, "%s: %s", path,
                 rc == SYN_ECORRUPT ? "not a list of NAME@HOST:PORT lines" : "unreadable");
        return rc;
    }
    *conf = flags;
    rc = conf_write(n->cfg.data_dir, path, conf);
    if (rc != 0) {
        snprintf(err, err_size, "writing %s: %s", path, strerror(errno));
    }
    return rc;
}
