/* assert.c: reports a broken invariant and aborts. */
#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

static syn_assert_handler assert_handler;

void syn_assert_set_handler(syn_assert_handler handler)
{
    assert_handler = handler;
}

_Noreturn void syn_assert_fail(const char *file, int line, const char *expr)
{
    if (assert_handler != NULL) {
        assert_handler(file, line, expr);
    }
    fprintf(stderr, "synod: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}
