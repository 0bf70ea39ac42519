/* The checks' rows for the table in table.c; each check defines its row macro's functions in its
 * own file. */
#ifndef SG_CHECKS_CHECKS_H
#define SG_CHECKS_CHECKS_H

#include "engine/engine.h"

#define SG_EVBIT(t) (1u << (t))

int sg__check_lists_run(void *state, struct sg_ctx *ctx);
#define SG_CHECK_LISTS {"lists", SG_EVBIT(SG_EV_MESSAGE) | SG_EVBIT(SG_EV_ACCOUNT), NULL, NULL, sg__check_lists_run, NULL, NULL}

int sg__check_signup_init(struct sg_engine *engine, void **state);
int sg__check_signup_configure(void *state, const struct sg_config *cfg);
int sg__check_signup_run(void *state, struct sg_ctx *ctx);
void sg__check_signup_free(void *state);
#define SG_CHECK_SIGNUP {"signup", SG_EVBIT(SG_EV_ACCOUNT), sg__check_signup_init, sg__check_signup_configure, sg__check_signup_run, NULL, sg__check_signup_free}

int sg__check_trust_run(void *state, struct sg_ctx *ctx);
#define SG_CHECK_TRUST {"trust", SG_EVBIT(SG_EV_MESSAGE), NULL, NULL, sg__check_trust_run, NULL, NULL}

/* The limiter key for a scope (id: sender, recipient or address; NULL for tenant). */
uint64_t sg__ratelimit_key(const struct sg_engine *e, int scope, const char *tenant, int channel,
                           const char *id);
int sg__check_ratelimit_init(struct sg_engine *engine, void **state);
int sg__check_ratelimit_run(void *state, struct sg_ctx *ctx);
void sg__check_ratelimit_commit(void *state, struct sg_ctx *ctx);
#define SG_CHECK_RATELIMIT {"ratelimit", SG_EVBIT(SG_EV_MESSAGE), sg__check_ratelimit_init, NULL, sg__check_ratelimit_run, sg__check_ratelimit_commit, NULL}

int sg__check_fanout_init(struct sg_engine *engine, void **state);
int sg__check_fanout_run(void *state, struct sg_ctx *ctx);
void sg__check_fanout_commit(void *state, struct sg_ctx *ctx);
void sg__check_fanout_free(void *state);
#define SG_CHECK_FANOUT {"fanout", SG_EVBIT(SG_EV_MESSAGE), sg__check_fanout_init, NULL, sg__check_fanout_run, sg__check_fanout_commit, sg__check_fanout_free}

int sg__check_rules_init(struct sg_engine *engine, void **state);
int sg__check_rules_configure(void *state, const struct sg_config *cfg);
int sg__check_rules_run(void *state, struct sg_ctx *ctx);
void sg__check_rules_commit(void *state, struct sg_ctx *ctx);
void sg__check_rules_free(void *state);
#define SG_CHECK_RULES {"rules", SG_EVBIT(SG_EV_MESSAGE), sg__check_rules_init, sg__check_rules_configure, sg__check_rules_run, sg__check_rules_commit, sg__check_rules_free}

int sg__check_bayes_init(struct sg_engine *engine, void **state);
int sg__check_bayes_configure(void *state, const struct sg_config *cfg);
int sg__check_bayes_run(void *state, struct sg_ctx *ctx);
void sg__check_bayes_free(void *state);
#define SG_CHECK_BAYES {"bayes", SG_EVBIT(SG_EV_MESSAGE), sg__check_bayes_init, sg__check_bayes_configure, sg__check_bayes_run, NULL, sg__check_bayes_free}

#endif
