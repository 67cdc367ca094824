/* fake_service.h: a test double of struct service (api/service.h) for the client servers'
 * tests: a real kv_store in a temporary directory, one node, no Raft. Writes and reads queue
 * in submission order and complete from a zero-delay timer (never inside the submitting
 * call, as service.h demands); a write is applied through kv_apply_begin/kv_apply/
 * kv_apply_commit with the next index when it completes. Failure modes make every later
 * completion fail with a status (SYN_ETIMEDOUT, SYN_ENOQUORUM, ...), or the submission itself
 * fail (SYN_EBUSY), and hold keeps requests pending until released. */
#ifndef SYN_TESTS_FAKE_SERVICE_H
#define SYN_TESTS_FAKE_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "api/service.h"

#define FAKE_SERVICE_T0 1700000000000ull /* the clock's start, unix ms */

struct fake_op;

struct fake_service {
    struct service service; /* hand &f->service to the servers */
    uv_loop_t *loop;
    uv_timer_t timer;
    char dir[64];
    struct kv_store *kv;
    uint64_t index;       /* of the last entry applied */
    uint64_t now_ms;      /* the clock: tests move it */
    struct fake_op *head; /* pending requests, oldest first */
    struct fake_op *tail;
    uint32_t pending;
    /* Modes: 0 for normal operation. */
    int write_status; /* completions of writes fail with this (nothing is applied) */
    int read_status;  /* completions of reads fail with this */
    int write_refuse; /* service_write() returns this */
    int read_refuse;  /* service_read() returns this */
    bool hold;        /* complete nothing until fake_service_release() */
    /* Counters. */
    uint64_t writes; /* submitted and accepted */
    uint64_t reads;
    uint64_t completed;
    struct service_info info; /* what info() answers; a one-member leader at first */
};

/* Opens a store in a new temporary directory. 0 or a negative code. */
int fake_service_init(struct fake_service *f, uv_loop_t *loop);
/* Stops holding and completes what is pending (from the timer). */
void fake_service_release(struct fake_service *f);
/* Completes whatever is pending with SYN_ESHUTDOWN (now: the servers must be closed
 * already, or their callbacks must tolerate it), closes the timer and the store and removes
 * the directory. Run the loop afterwards so the timer's close callback runs. */
void fake_service_close(struct fake_service *f);

#endif
