/* reg_health.h: turning check results into a check's status with Consul's thresholds
 * (SuccessBeforePassing, FailuresBeforeCritical): a status flips only after rise consecutive
 * successes or fall consecutive failures, so one slow answer does not flap an instance. Pure. */
#ifndef SYN_REGISTRY_REG_HEALTH_H
#define SYN_REGISTRY_REG_HEALTH_H

#include <stdint.h>

#include "registry/reg_record.h"

struct reg_health_counter {
    uint8_t successes; /* consecutive passing results */
    uint8_t failures;  /* consecutive warning or critical results */
};

/* The status after one result (REG_PASSING, REG_WARNING or REG_CRITICAL) of a check whose
 * status is now `status`: passing after rise passing results in a row; warning or critical
 * (the result's) after fall failures in a row; otherwise unchanged. */
uint8_t reg_health_next(struct reg_health_counter *c, uint8_t status, uint8_t result,
                        uint8_t rise, uint8_t fall);

#endif
