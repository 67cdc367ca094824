/* fake_service.c: the single-store service double (fake_service.h). */
#include "fake_service.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/err.h"
#include "kv/kv_store.h"

struct fake_op {
    struct fake_op *next;
    bool write;
    service_write_cb write_cb;
    service_read_cb read_cb;
    void *ctx;
    uint8_t *cmd;
    size_t size;
};

static void op_push(struct fake_service *f, struct fake_op *op)
{
    if (f->tail != NULL) {
        f->tail->next = op;
    } else {
        f->head = op;
    }
    f->tail = op;
    f->pending++;
}

static struct fake_op *op_pop(struct fake_service *f)
{
    struct fake_op *op = f->head;
    f->head = op->next;
    if (f->head == NULL) {
        f->tail = NULL;
    }
    f->pending--;
    return op;
}

/* Applies op's command as the next entry and calls back with its result. */
static void complete_write(struct fake_service *f, struct fake_op *op, int status)
{
    struct kv_result res;
    kv_result_init(&res);
    if (status == 0) {
        struct raft_entry e = {.term = 1,
                               .index = f->index + 1,
                               .type = RAFT_ENTRY_NORMAL,
                               .data = op->cmd,
                               .data_size = (uint32_t)op->size};
        ASSERT(kv_apply_begin(f->kv) == 0);
        ASSERT(kv_apply(f->kv, &e, &res) == 0);
        ASSERT(kv_apply_commit(f->kv) == 0);
        f->index++;
        f->info.commit_index = f->index;
        f->info.applied_index = f->index;
        f->info.last_index = f->index;
    }
    op->write_cb(op->ctx, status, status == 0 ? &res : NULL);
    kv_result_free(&res);
}

static void complete(struct fake_service *f, struct fake_op *op, int status_override)
{
    f->completed++;
    if (op->write) {
        complete_write(f, op, status_override != 0 ? status_override : f->write_status);
    } else {
        op->read_cb(op->ctx, status_override != 0 ? status_override : f->read_status);
    }
    free(op->cmd);
    free(op);
}

/* Completes everything pending now, in order; requests submitted meanwhile wait for the next
 * run (completing them here would loop as long as a client keeps pipelining). */
static void on_timer(uv_timer_t *timer)
{
    struct fake_service *f = timer->data;
    uint32_t n = f->pending;
    for (uint32_t i = 0; i < n && !f->hold && f->head != NULL; i++) {
        complete(f, op_pop(f), 0);
    }
    if (!f->hold && f->head != NULL) {
        uv_timer_start(&f->timer, on_timer, 0, 0);
    }
}

static void kick(struct fake_service *f)
{
    if (!f->hold && f->head != NULL && !uv_is_active((uv_handle_t *)&f->timer)) {
        uv_timer_start(&f->timer, on_timer, 0, 0);
    }
}

static int fake_write(void *impl, const uint8_t *cmd, size_t size, service_write_cb cb, void *ctx)
{
    struct fake_service *f = impl;
    if (f->write_refuse != 0) {
        return f->write_refuse;
    }
    struct fake_op *op = calloc(1, sizeof(*op));
    ASSERT(op != NULL);
    op->write = true;
    op->write_cb = cb;
    op->ctx = ctx;
    op->cmd = malloc(size);
    ASSERT(op->cmd != NULL);
    memcpy(op->cmd, cmd, size); /* cmd is borrowed for the call */
    op->size = size;
    op_push(f, op);
    f->writes++;
    kick(f);
    return 0;
}

static int fake_read(void *impl, service_read_cb cb, void *ctx)
{
    struct fake_service *f = impl;
    if (f->read_refuse != 0) {
        return f->read_refuse;
    }
    struct fake_op *op = calloc(1, sizeof(*op));
    ASSERT(op != NULL);
    op->read_cb = cb;
    op->ctx = ctx;
    op_push(f, op);
    f->reads++;
    kick(f);
    return 0;
}

static struct kv_store *fake_kv(void *impl)
{
    return ((struct fake_service *)impl)->kv;
}

static uint64_t fake_now_ms(void *impl)
{
    return ((struct fake_service *)impl)->now_ms;
}

static void fake_info(void *impl, struct service_info *info)
{
    *info = ((struct fake_service *)impl)->info;
}

static const struct service_ops fake_ops = {
    .write = fake_write,
    .read = fake_read,
    .kv = fake_kv,
    .now_ms = fake_now_ms,
    .info = fake_info,
};

static void info_init(struct service_info *info)
{
    *info = (struct service_info){
        .id = 1, .role = "leader", .term = 1, .serving = true, .member_count = 1};
    snprintf(info->name, sizeof(info->name), "n1");
    snprintf(info->leader_name, sizeof(info->leader_name), "n1");
    snprintf(info->leader_peer_addr, sizeof(info->leader_peer_addr), "127.0.0.1:7001");
    struct service_member *m = &info->members[0];
    snprintf(m->name, sizeof(m->name), "n1");
    snprintf(m->peer_addr, sizeof(m->peer_addr), "127.0.0.1:7001");
    m->id = 1;
    m->voter = true;
    m->leader = true;
    m->self = true;
}

int fake_service_init(struct fake_service *f, uv_loop_t *loop)
{
    memset(f, 0, sizeof(*f));
    f->service = (struct service){.ops = &fake_ops, .impl = f};
    f->loop = loop;
    f->now_ms = FAKE_SERVICE_T0;
    info_init(&f->info);
    snprintf(f->dir, sizeof(f->dir), "/tmp/synod-fake-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return SYN_EIO;
    }
    int rc = kv_open(f->dir, NULL, &f->kv, NULL);
    if (rc != 0) {
        rmdir(f->dir);
        return rc;
    }
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    return 0;
}

void fake_service_release(struct fake_service *f)
{
    f->hold = false;
    kick(f);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

void fake_service_close(struct fake_service *f)
{
    while (f->head != NULL) {
        complete(f, op_pop(f), SYN_ESHUTDOWN);
    }
    uv_close((uv_handle_t *)&f->timer, NULL);
    kv_close(f->kv);
    f->kv = NULL;
    remove_dir(f->dir);
}
