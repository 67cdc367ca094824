/* cli_time.h: times as the CLI prints them: RFC 3339 in UTC with milliseconds,
 * "2026-11-27T02:10:00.123Z", as synod's logs write them. */
#ifndef SYN_CLI_CLI_TIME_H
#define SYN_CLI_CLI_TIME_H

#include <stdint.h>

#define CLI_TIME_SIZE 64u /* "2026-11-27T02:10:00.123Z" and its NUL, with room to spare */

/* unix_ms (milliseconds since 1970, UTC) into out. Pure. */
void cli_time_format(uint64_t unix_ms, char out[CLI_TIME_SIZE]);
/* The wall clock, unix ms. */
uint64_t cli_time_now_ms(void);
/* Sleeps ms milliseconds (a retry's backoff). */
void cli_time_sleep_ms(uint32_t ms);

#endif
