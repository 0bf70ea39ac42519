/* The link domains each tenant has delivered, for the URL_NEW_DOMAIN fact: a bounded set of
 * 64-bit keys (sg__engine_key of tenant and registrable domain) shared by every judging thread,
 * loaded from the store at engine start and added to when a message is delivered. */
#ifndef SG_ENGINE_DOMAINS_H
#define SG_ENGINE_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many (tenant, domain) pairs are kept: 16 MiB of table at the most. Past it
 * nothing more is learnt, and a domain the set does not hold is reported unknown rather than
 * new (it may have been delivered after the set filled), so the rules using it stay quiet. */
#define SG_SEEN_DOMAINS_MAX (1u << 20)

struct sg_seen_domains;

/* max 0 means SG_SEEN_DOMAINS_MAX. NULL when out of memory. */
struct sg_seen_domains *sg__seen_domains_new(size_t max);
void sg__seen_domains_free(struct sg_seen_domains *s); /* accepts NULL */

/* Is keys[i] in the set? seen[i] gets 1 (seen), 0 (not seen: new) or -1 (not seen, but unknown:
 * the set is full, or the tenant, keyed tenant_key, has less than min_history messages of
 * history — before that, a new install, a new tenant or a dry run against an empty store, every
 * domain is "new" and saying so means nothing). One shared lock for all n: safe against
 * concurrent adds. */
void sg__seen_domains_lookup(struct sg_seen_domains *s, uint64_t tenant_key, uint64_t min_history,
                             const uint64_t *keys, size_t n, int8_t *seen);

/* Adds messages to the tenant's history (delivered messages with links). SG_ENOMEM if the
 * tenant could not be added (its history then stays short: the fact stays unknown). */
int sg__seen_domains_history_add(struct sg_seen_domains *s, uint64_t tenant_key,
                                 uint64_t messages);

/* Adds keys[0..n); added[i] tells whether keys[i] was new to the set (so the caller stores
 * exactly those). Returns how many were added; keys past the bound (or when out of memory) are
 * dropped, and *dropped (may be NULL) tells whether any was. Takes the exclusive lock only when
 * some key is missing, so delivering known domains never contends. */
size_t sg__seen_domains_add(struct sg_seen_domains *s, const uint64_t *keys, size_t n,
                            bool *added, bool *dropped);

/* Keys held (for tests and stats), and whether the bound was reached. */
size_t sg__seen_domains_count(struct sg_seen_domains *s);
bool sg__seen_domains_full(struct sg_seen_domains *s);

#endif
