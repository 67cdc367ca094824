/* conf.c: cluster configurations: validity, lookup, and their encoding in CONF entries. */
#include "raft/raft_internal.h"

#define CONF_FORMAT_VERSION 1u

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

bool raft_conf_valid(const struct raft_conf *conf)
{
    if (conf->member_count > SYN_MEMBERS_MAX) {
        return false;
    }
    for (uint32_t i = 0; i < conf->member_count; i++) {
        const struct raft_member *m = &conf->members[i];
        if (m->id == 0 || m->addr_size > SYN_MEMBER_ADDR_SIZE_MAX) {
            return false;
        }
        if (m->role != RAFT_VOTER && m->role != RAFT_LEARNER) {
            return false;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (conf->members[j].id == m->id) {
                return false;
            }
        }
    }
    return true;
}

const struct raft_member *raft_conf_find(const struct raft_conf *conf, raft_id id)
{
    for (uint32_t i = 0; i < conf->member_count; i++) {
        if (conf->members[i].id == id) {
            return &conf->members[i];
        }
    }
    return NULL;
}

uint32_t raft_conf_voter_count(const struct raft_conf *conf)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < conf->member_count; i++) {
        n += conf->members[i].role == RAFT_VOTER;
    }
    return n;
}

uint32_t raft_conf_encode(const struct raft_conf *conf, uint8_t *out)
{
    ASSERT(raft_conf_valid(conf));
    uint8_t *p = out;
    put_u32(p, CONF_FORMAT_VERSION);
    put_u32(p + 4, conf->member_count);
    p += 8;
    for (uint32_t i = 0; i < conf->member_count; i++) {
        const struct raft_member *m = &conf->members[i];
        put_u64(p, m->id);
        p[8] = m->role;
        p[9] = m->addr_size;
        memcpy(p + 10, m->addr, m->addr_size);
        p += 10 + m->addr_size;
    }
    uint32_t size = (uint32_t)(p - out);
    ASSERT(size <= RAFT_CONF_ENCODED_SIZE_MAX);
    return size;
}

int raft_conf_decode(const uint8_t *data, size_t size, struct raft_conf *conf)
{
    if (size < 8 || get_u32(data) != CONF_FORMAT_VERSION) {
        return SYN_EBADMSG;
    }
    uint32_t count = get_u32(data + 4);
    if (count > SYN_MEMBERS_MAX) {
        return SYN_EBADMSG;
    }
    memset(conf, 0, sizeof(*conf));
    size_t at = 8;
    for (uint32_t i = 0; i < count; i++) {
        if (size - at < 10) {
            return SYN_EBADMSG;
        }
        struct raft_member *m = &conf->members[i];
        m->id = get_u64(data + at);
        m->role = data[at + 8];
        m->addr_size = data[at + 9];
        at += 10;
        if (m->addr_size > SYN_MEMBER_ADDR_SIZE_MAX || size - at < m->addr_size) {
            return SYN_EBADMSG;
        }
        memcpy(m->addr, data + at, m->addr_size);
        at += m->addr_size;
    }
    conf->member_count = count;
    if (at != size || !raft_conf_valid(conf)) {
        return SYN_EBADMSG;
    }
    return 0;
}
