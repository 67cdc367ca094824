/* cli_time.c: the CLI's timestamps (cli_time.h). */
#include "cli/cli_time.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

void cli_time_format(uint64_t unix_ms, char out[CLI_TIME_SIZE])
{
    time_t secs = (time_t)(unix_ms / 1000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, CLI_TIME_SIZE, "%llu ms", (unsigned long long)unix_ms);
        return;
    }
    snprintf(out, CLI_TIME_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(unix_ms % 1000u));
}

uint64_t cli_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cli_time_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        /* a signal that did not end the process: sleep the rest */
    }
}
