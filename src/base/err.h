/* err.h: synod's error codes. 0 is success; every failure is a negative SYN_E* code. */
#ifndef SYN_BASE_ERR_H
#define SYN_BASE_ERR_H

/* X(name, value, sentence for the operator) */
#define SYN_ERRNO_MAP(X)                                                                \
    X(NOMEM, -1, "out of memory")                                                       \
    X(INVAL, -2, "invalid argument")                                                    \
    X(NOTLEADER, -3, "this node is not the leader")                                     \
    X(NOLEADER, -4, "no leader is known")                                               \
    X(BUSY, -5, "busy: try again later")                                                \
    X(TOOBIG, -6, "too large")                                                          \
    X(STALE, -7, "stale term")                                                          \
    X(UNKNOWNNODE, -8, "unknown node")                                                  \
    X(BADINDEX, -9, "impossible log index")                                             \
    X(CORRUPT, -10, "corrupt data")                                                     \
    X(IO, -11, "input/output error")                                                    \
    X(NOSPC, -12, "no space left on device")                                            \
    X(TIMEDOUT, -13, "timed out")                                                       \
    X(NOQUORUM, -14, "no quorum")                                                       \
    X(FULL, -15, "queue full")                                                          \
    X(NOENT, -16, "not found")                                                          \
    X(EXIST, -17, "already exists")                                                     \
    X(CONFCHANGE, -18, "a membership change is already in progress")                    \
    X(TRANSFER, -19, "a leadership transfer is in progress")                            \
    X(BADMSG, -20, "malformed message")                                                 \
    X(SHUTDOWN, -21, "shutting down")                                                   \
    X(COMPACTED, -22, "log entries were compacted")                                     \
    X(PROTO, -23, "protocol error")

enum syn_err {
#define SYN_ERR_ENUM(name, value, text) SYN_E##name = (value),
    SYN_ERRNO_MAP(SYN_ERR_ENUM)
#undef SYN_ERR_ENUM
};

/* A short sentence for the code; "unknown error" for codes outside the table. */
const char *syn_strerror(int code);
/* The symbolic name, e.g. "SYN_ENOTLEADER". */
const char *syn_errname(int code);

#endif
