/* The daemon's log: records on stderr, one line each ("TIME LEVEL text"), written with a single
 * write(2) so that lines from worker threads never interleave. The level comes from the config's
 * log.level or --log-level; the engine's own messages come through log_engine. */
#ifndef SG_DAEMON_LOG_H
#define SG_DAEMON_LOG_H

#include <stdbool.h>

#include "sendguard.h"

void log_set_level(enum sg_log_level level);
bool log_enabled(enum sg_log_level level);
/* "debug", "info", "warn" or "error"; -1 for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(enum sg_log_level level);

void log_msg(enum sg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An sg_log_fn for sg_engine_set_log. */
void log_engine(void *ud, enum sg_log_level level, const char *msg);

#endif
