/* libFuzzer driver for RFC 3339 times and durations: any bytes as a slice; every accepted time
 * formats and re-parses to itself (to the second), every accepted duration likewise; the
 * formatters also get the raw bytes as an arbitrary int64 and must stay within their buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "util/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int64_t t;
    if (sg__time_parse(s, size, &t) == 0) {
        sg_time pub;
        if (t < 0 || sg_time_parse(s, size, &pub) != 0 || pub != t)
            abort();
        char buf[21];
        sg_time_format(t, buf);
        int64_t back;
        if (strlen(buf) != 20 || sg__time_parse(buf, 20, &back) != 0 || back != t - t % 1000000)
            abort();
    }

    int64_t d;
    if (sg__duration_parse(s, size, &d) == 0) {
        char buf[24];
        sg__duration_format(d, buf, sizeof buf);
        int64_t back;
        if (d < 0 || sg__duration_parse(buf, strlen(buf), &back) != 0 || back != d)
            abort();
    }

    if (size >= 8) {
        int64_t any;
        memcpy(&any, data, 8);
        char tb[21], db[24];
        sg_time_format(any, tb);
        sg__duration_format(any, db, sizeof db);
        if (strlen(tb) != 20 || strlen(db) >= sizeof db)
            abort();
    }
    return 0;
}
