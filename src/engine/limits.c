/* Rate-limit keys seen from outside: `sendguard limits show` and DELETE /v1/limits. A key is
 * written TENANT/CHANNEL/ID (sender, recipient, ip) or TENANT/CHANNEL (tenant). */
#include <stdio.h>
#include <string.h>

#include "checks/checks.h"
#include "util/alloc.h"
#include "util/gcra.h"
#include "util/strbuf.h"

struct key_parts {
    int scope, channel;
    char tenant[SG_EVENT_MAX_ID + 1];
    const char *id; /* into the caller's key; NULL for tenant */
};

static int split_key(const char *scope, const char *key, struct key_parts *out)
{
    out->scope = sg__scope_parse(scope, strlen(scope));
    if (out->scope < 0)
        return SG_EINVAL;
    const char *s1 = strchr(key, '/');
    if (!s1 || s1 == key || (size_t)(s1 - key) > SG_EVENT_MAX_ID)
        return SG_EINVAL;
    memcpy(out->tenant, key, (size_t)(s1 - key));
    out->tenant[s1 - key] = '\0';
    const char *ch = s1 + 1;
    const char *s2 = strchr(ch, '/');
    size_t chlen = s2 ? (size_t)(s2 - ch) : strlen(ch);
    out->channel = sg__channel_parse(ch, chlen);
    if (out->channel < 0)
        return SG_EINVAL;
    out->id = s2 ? s2 + 1 : NULL;
    if ((out->scope == SG_SCOPE_TENANT) != (out->id == NULL) || (out->id && !*out->id))
        return SG_EINVAL;
    return 0;
}

int sg_engine_limit_show(struct sg_engine *e, const char *scope, const char *key, char **out)
{
    *out = NULL;
    struct key_parts k;
    int rc = split_key(scope, key, &k);
    if (rc)
        return rc;
    pthread_rwlock_rdlock(&e->cfg_lock);
    struct sg_rate_limit copy = sg__config_policy(e->cfg, k.tenant)->ch[k.channel].limits[k.scope];
    pthread_rwlock_unlock(&e->cfg_lock);
    const struct sg_rate_limit *lim = &copy;
    uint64_t h = sg__ratelimit_key(e, k.scope, k.tenant, k.channel, k.id);
    struct sg_gcra_state st[SG_GCRA_MAX_WINDOWS];
    sg_time now = e->clock.now(e->clock.ud);
    int held = sg__gcra_state(e->limiter, h, &lim->rule, now, st);
    struct sg_strbuf sb;
    sg__sb_init(&sb, 0);
    sg__sb_addc(&sb, '{');
    sg__sb_json_key(&sb, "scope");
    sg__sb_json_cstr(&sb, scope);
    sg__sb_json_key(&sb, "key");
    sg__sb_json_cstr(&sb, key);
    sg__sb_json_key(&sb, "cost");
    sg__sb_json_cstr(&sb, lim->cost == SG_COST_RECIPIENTS ? "recipients" : "messages");
    sg__sb_json_key(&sb, "active");
    sg__sb_adds(&sb, held > 0 ? "true" : "false");
    sg__sb_json_key(&sb, "windows");
    sg__sb_addc(&sb, '[');
    for (unsigned i = 0; i < lim->rule.nwindows; i++) {
        if (i)
            sg__sb_addc(&sb, ',');
        sg__sb_printf(&sb, "{\"limit\":%u,\"period\":%u,\"used\":", st[i].limit, st[i].period_s);
        sg__sb_json_num(&sb, (double)(int64_t)(st[i].used * 1000 + 0.5) / 1000);
        sg__sb_printf(&sb, ",\"retry_after\":%lld}", (long long)((st[i].retry_us + 999999) / 1000000));
    }
    sg__sb_adds(&sb, "]}");
    *out = sg__sb_steal(&sb);
    return *out ? 0 : SG_ENOMEM;
}

int sg_engine_limit_reset(struct sg_engine *e, const char *scope, const char *key)
{
    struct key_parts k;
    int rc = split_key(scope, key, &k);
    if (rc)
        return rc;
    return sg__gcra_reset(e->limiter, sg__ratelimit_key(e, k.scope, k.tenant, k.channel, k.id));
}
