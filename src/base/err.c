/* err.c: names and sentences for synod's error codes. */
#include "base/err.h"

const char *syn_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define SYN_ERR_TEXT(name, value, text) \
    case value:                         \
        return text;
        SYN_ERRNO_MAP(SYN_ERR_TEXT)
#undef SYN_ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *syn_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define SYN_ERR_NAME(name, value, text) \
    case value:                         \
        return "SYN_E" #name;
        SYN_ERRNO_MAP(SYN_ERR_NAME)
#undef SYN_ERR_NAME
    default:
        return "SYN_E?";
    }
}
