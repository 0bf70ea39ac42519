/* JSON for results: message verdicts, account verdicts and acknowledgements. */
#include "engine/result.h"

#include "util/alloc.h"
#include "engine/policy.h"

static void reasons_json(struct sg_strbuf *sb, const struct sg_ctx *ctx)
{
    sg__sb_json_key(sb, "reasons");
    sg__sb_addc(sb, '[');
    for (unsigned i = 0; i < ctx->nreasons; i++) {
        const struct sg_reason *r = &ctx->reasons[i];
        if (i)
            sg__sb_addc(sb, ',');
        sg__sb_addc(sb, '{');
        sg__sb_json_key(sb, "code");
        sg__sb_json_cstr(sb, sg__reason_code_text(r));
        sg__sb_json_key(sb, "score");
        sg__sb_json_num(sb, r->score);
        sg__sb_json_key(sb, "message");
        sg__sb_json_cstr(sb, r->message);
        sg__sb_addc(sb, '}');
    }
    sg__sb_addc(sb, ']');
}

void sg__result_verdict_json(struct sg_strbuf *sb, const struct sg_ctx *ctx, enum sg_action action,
                             double score)
{
    const struct sg_event *ev = ctx->ev;
    char at[21];
    sg_time_format(ctx->now, at);
    sg__sb_addc(sb, '{');
    if (ev->type == SG_EV_MESSAGE) {
        sg__sb_json_key(sb, "id");
        sg__sb_json_cstr(sb, ev->id);
        sg__sb_json_key(sb, "action");
        sg__sb_json_cstr(sb, sg_action_name(action));
        sg__sb_json_key(sb, "score");
        sg__sb_json_num(sb, score);
        sg__sb_json_key(sb, "retry_after");
        if (action == SG_DEFER && ctx->retry_after_s >= 0)
            sg__sb_printf(sb, "%lld", (long long)ctx->retry_after_s);
        else
            sg__sb_adds(sb, "null");
        sg__sb_json_key(sb, "campaign");
        sg__sb_adds(sb, "null");
        reasons_json(sb, ctx);
        sg__sb_json_key(sb, "tenant");
        sg__sb_json_cstr(sb, ev->tenant);
        sg__sb_json_key(sb, "sender");
        sg__sb_json_cstr(sb, ev->sender);
        sg__sb_json_key(sb, "channel");
        sg__sb_json_cstr(sb, sg__channel_name(ev->channel));
        sg__sb_json_key(sb, "recipients");
        sg__sb_printf(sb, "%zu", ev->nrecipients);
        /* Distinct registrable link domains, first seen first: what the recipients index and a
         * platform's own tooling key on. Bounded like the stored row. */
        sg__sb_json_key(sb, "url_domains");
        sg__sb_addc(sb, '[');
        for (size_t i = 0; i < ctx->nurl_domains && i < SG_VERDICT_URL_DOMAINS_MAX; i++) {
            if (i)
                sg__sb_addc(sb, ',');
            sg__sb_json_cstr(sb, ctx->url_domains[i].name);
        }
        sg__sb_addc(sb, ']');
    } else {
        sg__sb_json_key(sb, "account");
        sg__sb_json_cstr(sb, ev->account);
        sg__sb_json_key(sb, "action");
        sg__sb_json_cstr(sb, sg_action_name(action));
        sg__sb_json_key(sb, "score");
        sg__sb_json_num(sb, score);
        reasons_json(sb, ctx);
        sg__sb_json_key(sb, "tenant");
        sg__sb_json_cstr(sb, ev->tenant);
    }
    sg__sb_json_key(sb, "at");
    sg__sb_json_cstr(sb, at);
    sg__sb_addc(sb, '}');
}

void sg__result_ack_json(struct sg_strbuf *sb, const struct sg_event *ev, sg_time now)
{
    char at[21];
    sg_time_format(now, at);
    sg__sb_addc(sb, '{');
    sg__sb_json_key(sb, "type");
    sg__sb_json_cstr(sb, sg__event_type_name(ev->type));
    sg__sb_json_key(sb, "ok");
    sg__sb_adds(sb, "true");
    sg__sb_json_key(sb, "tenant");
    sg__sb_json_cstr(sb, ev->tenant);
    if (ev->account) {
        sg__sb_json_key(sb, "account");
        sg__sb_json_cstr(sb, ev->account);
    }
    if (ev->message) {
        sg__sb_json_key(sb, "message");
        sg__sb_json_cstr(sb, ev->message);
    }
    sg__sb_json_key(sb, "at");
    sg__sb_json_cstr(sb, at);
    sg__sb_addc(sb, '}');
}

void sg_result_free(struct sg_result *res)
{
    if (!res)
        return;
    sg__sb_release(&res->json);
    sg__free(res);
}

enum sg_event_type sg_result_type(const struct sg_result *res) { return res->type; }
enum sg_action sg_result_action(const struct sg_result *res) { return res->action; }
const char *sg_result_channel(const struct sg_result *res) { return sg__channel_name(res->channel); }
const char *sg_result_json(struct sg_result *res) { return sg__sb_cstr(&res->json); }
