/* The configuration's internals: the defaults' policy, per-tenant policies, and the process
 * settings. Filled from one settings table (config.c) that also drives validation and dump. */
#ifndef SG_ENGINE_CONFIG_H
#define SG_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/policy.h"
#include "sendguard.h"

struct sg_tenant_policy {
    char *tenant;
    struct sg_policy policy; /* the defaults with this tenant's overrides applied */
};

struct sg_config_override; /* one tenant setting as loaded; config.c owns the layout */

struct sg_config {
    struct sg_policy base;
    struct sg_tenant_policy *tenants; /* sorted by tenant id (strcmp) for sg__config_policy */
    size_t ntenants;
    /* Every tenant setting as loaded, kept so that tenants are rebuilt on top of the defaults
     * after each load (a tenant follows every default it did not override). */
    struct sg_config_override *overrides;
    size_t noverrides, overrides_cap;

    enum sg_log_level log_level;
    uint32_t store_batch;        /* writes per store transaction */
    uint32_t limiter_shards;
    bool block_disposable;       /* signups from disposable email domains are blocked */
    char *disposable_file;       /* extra disposable domains, one a line; NULL none */
    char *rules_local_dir;       /* local rule files after the shipped ones; NULL none */
    uint32_t rules_new_domain_history; /* link messages delivered before URL_NEW_DOMAIN is known */
    bool bayes_enabled;
    uint32_t bayes_min_spam, bayes_min_ham; /* training before a class speaks */

    char errmsg[512];
};

/* The policy for tenant (the defaults when it has no overrides or tenant is NULL). */
const struct sg_policy *sg__config_policy(const struct sg_config *cfg, const char *tenant);
/* A deep copy (the engine keeps its own). */
int sg__config_copy(const struct sg_config *src, struct sg_config **out);

/* The shipped config/sendguard.yaml and data/disposable_domains.txt, built into the library. */
extern const char sg__default_config_yaml[];
extern const char sg__default_config_yaml_end[];
extern const char sg__disposable_domains[];
extern const char sg__disposable_domains_end[];

#endif
