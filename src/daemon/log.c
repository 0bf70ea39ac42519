/* Logging for sendguardd: a level filter and a line writer. Lines are formatted into a bounded
 * stack buffer and written at once; a longer record is cut (and says so) rather than split. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 4096

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static atomic_int current_level = SG_LOG_INFO;

void log_set_level(enum sg_log_level level) { atomic_store(&current_level, (int)level); }

bool log_enabled(enum sg_log_level level)
{
    return (int)level >= atomic_load_explicit(&current_level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(enum sg_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "info";
}

static void vlog(enum sg_log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                          log_level_name(level));
    int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (m < 0)
        m = 0;
    if ((size_t)m >= sizeof line - n - 1) {
        static const char cut[] = "...(cut)";
        n = sizeof line - sizeof cut - 1;
        memcpy(line + n, cut, sizeof cut - 1);
        n += sizeof cut - 1;
    } else {
        n += (size_t)m;
    }
    line[n++] = '\n';
    /* One write per line; a short write to a pipe of this size does not happen in practice,
     * and a log line is not worth retrying for. */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void log_msg(enum sg_log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void log_engine(void *ud, enum sg_log_level level, const char *msg)
{
    log_msg(level, "engine: %s", msg);
}
