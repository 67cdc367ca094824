/* log.h: the daemon's log lines on stderr: "2026-11-26T22:40:01.123Z INFO  raft: text".
 * The level and the node name are process-wide settings, set once at start-up (a log sink is
 * the one piece of process state every shell shares; cores never log: they return codes). */
#ifndef SYN_LOG_H
#define SYN_LOG_H

enum syn_log_level {
    SYN_LOG_DEBUG = 0,
    SYN_LOG_INFO = 1,
    SYN_LOG_WARN = 2,
    SYN_LOG_ERROR = 3,
    SYN_LOG_OFF = 4,
};

void syn_log_setup(enum syn_log_level level, const char *node_name, int json);
/* Parses "debug", "info", "warn", "error", "off"; -1 when unknown. */
int syn_log_level_parse(const char *name);
int syn_log_enabled(enum syn_log_level level);

__attribute__((format(printf, 3, 4))) void syn_log(enum syn_log_level level, const char *module,
                                                   const char *fmt, ...);

#define LOG_DEBUG(module, ...) \
    (syn_log_enabled(SYN_LOG_DEBUG) ? syn_log(SYN_LOG_DEBUG, module, __VA_ARGS__) : (void)0)
#define LOG_INFO(module, ...) syn_log(SYN_LOG_INFO, module, __VA_ARGS__)
#define LOG_WARN(module, ...) syn_log(SYN_LOG_WARN, module, __VA_ARGS__)
#define LOG_ERROR(module, ...) syn_log(SYN_LOG_ERROR, module, __VA_ARGS__)

#endif
