/* Alert records as the public API writes and reads them: sg_store_alert_add builds the record
 * ({"type":"alert","at","tenant","kind","subject","reason"}) and queues it like any other write;
 * sg_store_alerts lists them (the listing waits for queued writes first). */
#include <string.h>

#include "store/store_internal.h"
#include "util/strbuf.h"

/* subject and reason are short texts (an account id, a sentence); a bound keeps one buggy
 * caller from filling the table with megabyte rows. */
#define SG_ALERT_TEXT_MAX 4096

/* The kinds an operator's tooling may switch on; keep in step with sendguard.h. */
static const char *const alert_kinds[] = {
    "sender_suspended", "campaign_blocked", "cohort_flagged", "tenant_paused",
    "key_suspended",    "auth_abuse",       "volume_anomaly",
};

static bool known_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof alert_kinds / sizeof alert_kinds[0]; i++)
        if (strcmp(kind, alert_kinds[i]) == 0)
            return true;
    return false;
}

static int check_text(struct sg_store *store, const char *name, const char *s)
{
    if (s && strlen(s) > SG_ALERT_TEXT_MAX)
        return sg__store_error(store, SG_ETOOBIG, "alerts: insert: %s longer than %d bytes",
                               name, SG_ALERT_TEXT_MAX);
    return 0;
}

int sg_store_alert_add(struct sg_store *store, const char *tenant, const char *kind,
                       const char *subject, const char *reason, sg_time at)
{
    if (!store)
        return SG_EINVAL;
    if (!known_kind(kind))
        return sg__store_error(store, SG_EINVAL,
                               "alerts: insert: unknown kind \"%.64s\" (expected sender_suspended, "
                               "campaign_blocked, cohort_flagged, tenant_paused, key_suspended, "
                               "auth_abuse or volume_anomaly)",
                               kind ? kind : "(null)");
    if (tenant && !*tenant)
        return sg__store_error(store, SG_EINVAL,
                               "alerts: insert: empty tenant (NULL for a platform-wide alert)");
    int err = check_text(store, "tenant", tenant);
    if (!err)
        err = check_text(store, "subject", subject);
    if (!err)
        err = check_text(store, "reason", reason);
    if (err)
        return err;

    char when[21];
    sg_time_format(at, when);
    struct sg_strbuf sb;
    sg__sb_init(&sb, 0);
    sg__sb_adds(&sb, "{\"type\":\"alert\"");
    sg__sb_json_key(&sb, "at");
    sg__sb_json_cstr(&sb, when);
    sg__sb_json_key(&sb, "tenant");
    sg__sb_json_cstr(&sb, tenant);
    sg__sb_json_key(&sb, "kind");
    sg__sb_json_cstr(&sb, kind);
    /* NULL subject or reason is written as null rather than refused: an alert is still worth
     * keeping when its raiser had nothing more to say. */
    sg__sb_json_key(&sb, "subject");
    sg__sb_json_cstr(&sb, subject);
    sg__sb_json_key(&sb, "reason");
    sg__sb_json_cstr(&sb, reason);
    sg__sb_addc(&sb, '}');
    if (sb.failed) {
        sg__sb_release(&sb);
        return sg__store_error(store, SG_ENOMEM, "alerts: insert: out of memory");
    }
    err = sg__store_alert_put(store, tenant, kind, at, sg__sb_cstr(&sb));
    sg__sb_release(&sb);
    return err;
}

int sg_store_alerts(struct sg_store *store, const char *tenant, sg_time since, char **out)
{
    return sg__store_alert_list(store, tenant, since, out);
}
