/* RFC 3339 timestamps and human durations ("90s", "15m", "24h", "7d").
 * Public wrappers sg_time_parse/sg_time_format live here too. */
#ifndef SG_UTIL_TIMEFMT_H
#define SG_UTIL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t', 'z' and a space for 'T' accepted).
 * Returns 0 or SG_EPARSE; *out is microseconds since the epoch, UTC. Years 1970-9999, and the
 * UTC result must lie in them too. Fraction digits past the sixth are dropped (floor); a leap
 * second ":60" reads as ":59.999999"; offsets go up to ±23:59. */
int sg__time_parse(const char *s, size_t len, int64_t *out);
/* Parses a duration: a non-negative integer with unit s, m, h, d or w ("0" alone is allowed);
 * *out in seconds. Returns 0 or SG_EPARSE (also past 10 years, counted as 3653 days). Units are
 * lower-case only; no sign, no spaces. */
int sg__duration_parse(const char *s, size_t len, int64_t *out_seconds);
/* Formats seconds back to the largest exact unit ("24h" → "1d", "90" → "90s", 0 → "0s");
 * buf >= 24. */
void sg__duration_format(int64_t seconds, char *buf, size_t size);

#endif
