/* log.c: formats log lines with a UTC timestamp and writes each with one write(2). */
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum syn_log_level log_level = SYN_LOG_INFO;
static char log_node[32];
static int log_json;

void syn_log_setup(enum syn_log_level level, const char *node_name, int json)
{
    log_level = level;
    log_json = json;
    snprintf(log_node, sizeof(log_node), "%s", node_name == NULL ? "" : node_name);
}

int syn_log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(name, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int syn_log_enabled(enum syn_log_level level)
{
    return level >= log_level;
}

static size_t log_json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

void syn_log(enum syn_log_level level, const char *module, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
    if (!syn_log_enabled(level) || level >= SYN_LOG_OFF) {
        return;
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    char line[1400];
    int n;
    if (log_json) {
        char esc[1100];
        log_json_escape(esc, sizeof(esc), text);
        n = snprintf(line, sizeof(line),
                     "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"node\":\"%s\",\"module\":\"%s\","
                     "\"msg\":\"%s\"}\n",
                     when, ts.tv_nsec / 1000000, names[level], log_node, module, esc);
    } else {
        n = snprintf(line, sizeof(line), "%s.%03ldZ %-5s %s%s%s: %s\n", when,
                     ts.tv_nsec / 1000000, names[level], log_node, log_node[0] ? " " : "",
                     module, text);
    }
    if (n > (int)sizeof(line) - 1) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}
