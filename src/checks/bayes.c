/* Check: the Bayes classifier. When the tenant's class (or the global one) has enough training
 * and is confident the message is spam, or leans to it, BAYES_SPAM adds the classifier's score
 * scaled by the policy's scores.BAYES_SPAM (5 = the classifier's own 5 to 7, or 3.5). Scanning
 * never touches SQLite: the counts are in memory (src/bayes). */
#include "bayes/bayes.h"
#include "checks/checks.h"
#include "text/content.h"
#include "util/alloc.h"

/* The model is the engine's (engine->bayes), shared with sg_engine_learn; the check keeps only
 * whether it is on. */
struct bayes_check {
    struct sg_engine *engine;
    bool enabled;
};

int sg__check_bayes_init(struct sg_engine *engine, void **state)
{
    struct bayes_check *b = sg__calloc(1, sizeof *b);
    if (!b)
        return SG_ENOMEM;
    b->engine = engine;
    *state = b;
    return 0;
}

int sg__check_bayes_configure(void *state, const struct sg_config *cfg)
{
    struct bayes_check *b = state;
    b->enabled = cfg->bayes_enabled;
    return 0;
}

int sg__check_bayes_run(void *state, struct sg_ctx *ctx)
{
    struct bayes_check *b = state;
    if (!b->enabled)
        return 0;
    const struct sg_content *content;
    int rc = sg__ctx_content(ctx, &content);
    if (rc)
        return rc;
    struct sg_bayes_result res;
    if ((rc = sg__bayes_classify(b->engine->bayes, ctx->arena, ctx->ev->tenant, content, &res)))
        return rc;
    if (res.score > 0) {
        double weight = ctx->policy->score[SG_R_BAYES_SPAM] / 5.0;
        sg__ctx_reason(ctx, SG_R_BAYES_SPAM, "This message reads %slike spam (%.1f%% by the %s "
                       "classifier).", res.probable ? "somewhat " : "", res.probability * 100,
                       res.tenant_class ? "tenant's" : "shared");
        ctx->reasons[ctx->nreasons - 1].score = res.score * weight;
    }
    return 0;
}

void sg__check_bayes_free(void *state)
{
    struct bayes_check *b = state;
    if (!b)
        return;
    sg__free(b);
}
