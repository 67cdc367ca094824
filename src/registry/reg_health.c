/* reg_health.c: rise and fall thresholds (reg_health.h). */
#include "registry/reg_health.h"

uint8_t reg_health_next(struct reg_health_counter *c, uint8_t status, uint8_t result,
                        uint8_t rise, uint8_t fall)
{
    if (result == REG_PASSING) {
        c->failures = 0;
        if (c->successes < UINT8_MAX) {
            c->successes++;
        }
        return c->successes >= rise ? REG_PASSING : status;
    }
    c->successes = 0;
    if (c->failures < UINT8_MAX) {
        c->failures++;
    }
    return c->failures >= fall ? result : status;
}
