/* The reason-code table's lookups; the codes themselves are in reasons.h. */
#include "engine/reasons.h"

#include <string.h>

static const struct {
    const char *name;
    double score;
    enum sg_action forced;
} reasons[SG_REASON_COUNT] = {
#define SG__REASON_ROW(code, score, action) {#code, score, action},
    SG_REASON_MAP(SG__REASON_ROW)
#undef SG__REASON_ROW
};

const char *sg__reason_name(int code)
{
    return code >= 0 && code < SG_REASON_COUNT ? reasons[code].name : NULL;
}

int sg__reason_parse(const char *s, size_t len)
{
    for (int i = 0; i < SG_REASON_COUNT; i++)
        if (strlen(reasons[i].name) == len && memcmp(reasons[i].name, s, len) == 0)
            return i;
    return -1;
}

double sg__reason_default_score(int code) { return reasons[code].score; }

enum sg_action sg__reason_forced_action(int code) { return reasons[code].forced; }
