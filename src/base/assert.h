/* assert.h: invariant checks that stay on in release builds (STYLE 6). */
#ifndef SYN_BASE_ASSERT_H
#define SYN_BASE_ASSERT_H

/* Called when an ASSERT fails. Never returns. */
_Noreturn void syn_assert_fail(const char *file, int line, const char *expr);

/* A handler run before the process aborts on a failed assertion, e.g. so that the
 * simulator can print the seed that broke an invariant. Process-wide by nature. */
typedef void (*syn_assert_handler)(const char *file, int line, const char *expr);
void syn_assert_set_handler(syn_assert_handler handler);

#define ASSERT(expr) ((expr) ? (void)0 : syn_assert_fail(__FILE__, __LINE__, #expr))
#define UNREACHABLE() syn_assert_fail(__FILE__, __LINE__, "unreachable")

#endif
