/* Names of channels and rate-limit scopes, as they appear in events, config and JSON. */
#include <string.h>

#include "engine/policy.h"

static const char *const channel_names[SG_CH_COUNT] = {
    [SG_CH_EMAIL] = "email",
    [SG_CH_PRIVATE_MESSAGE] = "private_message",
    [SG_CH_POST] = "post",
    [SG_CH_COMMENT] = "comment",
    [SG_CH_SMS] = "sms",
    [SG_CH_NOTIFICATION] = "notification",
};

static const char *const scope_names[SG_SCOPE_COUNT] = {
    [SG_SCOPE_SENDER] = "sender",
    [SG_SCOPE_TENANT] = "tenant",
    [SG_SCOPE_RECIPIENT] = "recipient",
    [SG_SCOPE_IP] = "ip",
};

static int find(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

const char *sg__channel_name(int ch) { return ch >= 0 && ch < SG_CH_COUNT ? channel_names[ch] : NULL; }
int sg__channel_parse(const char *s, size_t len) { return find(channel_names, SG_CH_COUNT, s, len); }
const char *sg__scope_name(int scope) { return scope >= 0 && scope < SG_SCOPE_COUNT ? scope_names[scope] : NULL; }
int sg__scope_parse(const char *s, size_t len) { return find(scope_names, SG_SCOPE_COUNT, s, len); }
