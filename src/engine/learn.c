/* sg_engine_learn: moderators teach the Bayes classifier (POST /v1/learn). Each learned message
 * is remembered in the store with the tokens it counted, so a repeat is not counted twice and a
 * correction (spam -> ham) takes back exactly what was counted before counting it anew. */
#include <string.h>

#include "bayes/bayes.h"
#include "engine/engine.h"
#include "store/store.h"
#include "text/content.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/strbuf.h"

static const char *class_name(int cls) { return cls == SG_BAYES_SPAM ? "spam" : "ham"; }

static int parse_class(const char *klass, enum sg_bayes_class *out)
{
    if (klass && strcmp(klass, "spam") == 0)
        *out = SG_BAYES_SPAM;
    else if (klass && strcmp(klass, "ham") == 0)
        *out = SG_BAYES_HAM;
    else
        return SG_EINVAL;
    return 0;
}

static void class_json(struct sg_strbuf *sb, const char *key, struct sg_bayes *b,
                       const char *scope)
{
    struct sg_bayes_stats st;
    /* An unknown class (nothing learned yet) answers zeros, which is what it holds. */
    if (sg__bayes_stats(b, scope, &st) != 0)
        memset(&st, 0, sizeof st);
    sg__sb_json_key(sb, key);
    sg__sb_printf(sb, "{\"spam\":%llu,\"ham\":%llu,\"tokens\":%llu,\"trained\":%s}",
                  (unsigned long long)st.spam_msgs, (unsigned long long)st.ham_msgs,
                  (unsigned long long)st.tokens, st.trained ? "true" : "false");
}

enum learn_status { LEARNED, RELEARNED, ALREADY };

/* Under learn_lock. fresh: the tokens of the event sent now; NULL when learning by id (the
 * stored tokens are used). */
static int learn_locked(struct sg_engine *e, const char *tenant, const char *id,
                        enum sg_bayes_class cls, unsigned flags,
                        const struct sg_bayes_tokens *fresh, char **result_json)
{
    struct sg_learned_row prev;
    int rc = sg__store_learned_get(e->store, tenant, id, &prev);
    bool had = rc == 0;
    if (rc && rc != SG_ENOTFOUND)
        return rc;
    rc = 0;
    if (!had && !fresh) {
        /* Verdicts are kept, message content is not: say which case this is. */
        char *verdict = NULL;
        rc = sg__store_verdict_get(e->store, tenant, id, &verdict);
        sg_free(verdict);
        return rc == 0 ? SG_ENOCONTENT : rc;
    }
    bool global = !(flags & SG_LEARN_TENANT_ONLY);
    unsigned bflags = global ? SG_BAYES_ALSO_GLOBAL : 0;
    /* Learning needs no pair marks (counts are per token), so the store keeps none. */
    struct sg_bayes_tokens stored = {.v = (uint64_t *)prev.tokens, .n = prev.ntokens};
    const struct sg_bayes_tokens *t = fresh ? fresh : &stored;
    enum learn_status status = !had ? LEARNED : prev.cls == (int)cls ? ALREADY : RELEARNED;

    if (status == RELEARNED)
        rc = sg__bayes_unlearn_tokens(e->bayes, tenant, &stored, (enum sg_bayes_class)prev.cls,
                                      prev.global ? SG_BAYES_ALSO_GLOBAL : 0);
    if (!rc && status != ALREADY)
        rc = sg__bayes_learn_tokens(e->bayes, tenant, t, cls, bflags);
    if (!rc && status != ALREADY) {
        struct sg_learned_row row = {
            .tenant = tenant,
            .message = id,
            .cls = cls,
            .global = global,
            .at = e->clock.now(e->clock.ud),
            .tokens = t->v,
            .ntokens = t->n,
        };
        rc = sg__store_learned_put(e->store, &row);
    }
    /* Committed before the answer: a moderator's decision survives a crash once confirmed. */
    if (!rc && status != ALREADY && !(rc = sg__bayes_flush(e->bayes)))
        rc = sg_store_flush(e->store);
    if (!rc) {
        struct sg_strbuf sb;
        sg__sb_init(&sb, 0);
        sg__sb_adds(&sb, "{\"message\":");
        sg__sb_json_cstr(&sb, id);
        sg__sb_json_key(&sb, "tenant");
        sg__sb_json_cstr(&sb, tenant);
        sg__sb_json_key(&sb, "class");
        sg__sb_json_cstr(&sb, class_name(cls));
        sg__sb_json_key(&sb, "status");
        sg__sb_json_cstr(&sb, status == LEARNED     ? "learned"
                              : status == RELEARNED ? "relearned"
                                                    : "already_learned");
        sg__sb_json_key(&sb, "learned");
        sg__sb_adds(&sb, status == ALREADY ? "false" : "true");
        sg__sb_json_key(&sb, "previous");
        sg__sb_json_cstr(&sb, had ? class_name(prev.cls) : NULL);
        sg__sb_json_key(&sb, "tokens");
        sg__sb_printf(&sb, "%u", (unsigned)(status == ALREADY ? prev.ntokens : t->n));
        class_json(&sb, "tenant_class", e->bayes, tenant);
        class_json(&sb, "global", e->bayes, SG_BAYES_GLOBAL);
        sg__sb_addc(&sb, '}');
        *result_json = sg__sb_steal(&sb);
        if (!*result_json)
            rc = SG_ENOMEM;
    }
    sg_free((void *)prev.tokens);
    return rc;
}

int sg_engine_learn(struct sg_engine *e, const struct sg_event *ev, const char *klass,
                    unsigned flags, char **result_json)
{
    if (result_json)
        *result_json = NULL;
    enum sg_bayes_class cls;
    if (!e || !ev || !result_json || ev->type != SG_EV_MESSAGE || !ev->tenant || !ev->id ||
        parse_class(klass, &cls))
        return SG_EINVAL;
    struct sg_arena *arena = sg__arena_new(0);
    if (!arena)
        return SG_ENOMEM;
    /* The same content and tokens the bayes check classifies on (sg__ctx_content). */
    struct sg_content content;
    struct sg_bayes_params params;
    struct sg_bayes_tokens tokens;
    sg__bayes_get_params(e->bayes, &params);
    int rc = sg__content_build(arena, ev, &content);
    if (rc == SG_ETOOBIG) /* over a limit: learn what fitted, as the check judges it */
        rc = 0;
    if (!rc)
        rc = sg__bayes_tokenize(arena, sg__bayes_seed(e->bayes), &content, params.max_tokens,
                                &tokens);
    /* The config lock as submit takes it: sg__log reads the config a reload may swap. */
    pthread_rwlock_rdlock(&e->cfg_lock);
    if (!rc) {
        pthread_mutex_lock(&e->learn_lock);
        rc = learn_locked(e, ev->tenant, ev->id, cls, flags, &tokens, result_json);
        pthread_mutex_unlock(&e->learn_lock);
    }
    if (rc)
        sg__log(e, SG_LOG_ERROR, "learn %s/%s: %s", ev->tenant, ev->id, sg_strerror(rc));
    pthread_rwlock_unlock(&e->cfg_lock);
    sg__arena_free(arena);
    return rc;
}

int sg_engine_learn_id(struct sg_engine *e, const char *tenant, const char *message_id,
                       const char *klass, unsigned flags, char **result_json)
{
    if (result_json)
        *result_json = NULL;
    enum sg_bayes_class cls;
    if (!e || !tenant || !*tenant || !message_id || !*message_id || !result_json ||
        parse_class(klass, &cls))
        return SG_EINVAL;
    pthread_rwlock_rdlock(&e->cfg_lock);
    pthread_mutex_lock(&e->learn_lock);
    int rc = learn_locked(e, tenant, message_id, cls, flags, NULL, result_json);
    pthread_mutex_unlock(&e->learn_lock);
    if (rc && rc != SG_ENOTFOUND && rc != SG_ENOCONTENT)
        sg__log(e, SG_LOG_ERROR, "learn %s/%s: %s", tenant, message_id, sg_strerror(rc));
    pthread_rwlock_unlock(&e->cfg_lock);
    return rc;
}
