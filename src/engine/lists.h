/* The lists (banned accounts, blocked email domains, url domains, IPs and CIDRs) held in memory
 * for lookups on every event; the store is the durable copy and reload rebuilds from it. */
#ifndef SG_ENGINE_LISTS_H
#define SG_ENGINE_LISTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sendguard.h"

enum sg_list_id { SG_LIST_ACCOUNTS, SG_LIST_EMAIL_DOMAINS, SG_LIST_URL_DOMAINS, SG_LIST_IPS, SG_LIST_COUNT };

/* "accounts", ... → id, or -1. */
int sg__list_parse(const char *name);

struct sg_lists *sg__lists_new(uint64_t seed);
void sg__lists_free(struct sg_lists *l);
/* Replaces the contents with the store's live entries. */
int sg__lists_load(struct sg_lists *l, struct sg_store *store, sg_time now);
/* Adds one entry in memory (the caller has stored it). */
int sg__lists_add(struct sg_lists *l, int list, const char *tenant, const char *entry, sg_time expires);

/* Lookups honour expiry at now and match both the tenant's entries and the global ("*") ones. */
bool sg__lists_has(struct sg_lists *l, int list, const char *tenant, const char *entry, sg_time now);
/* Does list hold any entry at all (of any tenant, expired or not)? A cheap test before work
 * that only a hit would need. */
bool sg__lists_may_have(struct sg_lists *l, int list);
/* The domain or any parent domain ("a.b.example.com" matches "example.com"); *matched (may be
 * NULL) points into domain at the suffix that matched. */
bool sg__lists_has_domain(struct sg_lists *l, int list, const char *tenant, const char *domain,
                          sg_time now, const char **matched);
bool sg__lists_has_ip(struct sg_lists *l, const char *tenant, const uint8_t ip[16], sg_time now);

#endif
