/* Check: the operator's lists — banned accounts, blocked signup email domains, blocked client
 * addresses (IPs and CIDRs, v4 and v6), blocked link domains — plus accounts a signup verdict
 * already blocked. */
#include "checks/checks.h"
#include "engine/lists.h"
#include "store/store.h"
#include "text/content.h"

/* The first link whose host (or a parent of it) is on url_domains: a message linking a domain
 * the operator blocked is never delivered, whatever else it says. Only messages with a
 * url_domains entry in force pay for building the content here. */
static int blocked_link(struct sg_ctx *ctx)
{
    struct sg_engine *e = ctx->engine;
    if (!sg__lists_may_have(e->lists, SG_LIST_URL_DOMAINS))
        return 0;
    const struct sg_content *c;
    int rc = sg__ctx_content(ctx, &c);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->nurls; i++) {
        const char *host = c->urls[i].host, *matched = NULL;
        if (host && *host &&
            sg__lists_has_domain(e->lists, SG_LIST_URL_DOMAINS, ctx->ev->tenant, host, ctx->now, &matched)) {
            sg__ctx_reason(ctx, SG_R_LIST_BLOCKED_URL_DOMAIN, "Links to %s are not allowed.", matched);
            break;
        }
    }
    return 0;
}

int sg__check_lists_run(void *state, struct sg_ctx *ctx)
{
    struct sg_engine *e = ctx->engine;
    const struct sg_event *ev = ctx->ev;
    const char *account = ev->type == SG_EV_MESSAGE ? ev->sender : ev->account;
    if (sg__lists_has(e->lists, SG_LIST_ACCOUNTS, ev->tenant, account, ctx->now))
        sg__ctx_reason(ctx, SG_R_LIST_BANNED_ACCOUNT, "This account is banned.");
    else if (ev->type == SG_EV_MESSAGE && ctx->account && ctx->account->status == SG_ACCOUNT_BLOCKED)
        sg__ctx_reason(ctx, SG_R_ACCOUNT_BLOCKED, "This account was blocked at signup.");
    const char *matched = NULL;
    if (ctx->email_domain &&
        sg__lists_has_domain(e->lists, SG_LIST_EMAIL_DOMAINS, ev->tenant, ctx->email_domain, ctx->now, &matched))
        sg__ctx_reason(ctx, SG_R_LIST_BLOCKED_EMAIL_DOMAIN,
                       "Accounts with an email address at %s are not allowed.", matched);
    if (ctx->has_ip && sg__lists_has_ip(e->lists, ev->tenant, ctx->ip, ctx->now))
        sg__ctx_reason(ctx, SG_R_LIST_BLOCKED_IP, "Requests from the address %s are blocked.", ev->ip);
    return ev->type == SG_EV_MESSAGE ? blocked_link(ctx) : 0;
}
