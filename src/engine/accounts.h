/* The engine's table of accounts: a hash map over (tenant, account) in front of the store, so a
 * judgement never waits on SQLite for a sender it has seen. Changes are written through to the
 * store's batched transaction. */
#ifndef SG_ENGINE_ACCOUNTS_H
#define SG_ENGINE_ACCOUNTS_H

#include "engine/engine.h"

struct sg_accounts *sg__accounts_new(struct sg_store *store, uint64_t seed);
void sg__accounts_free(struct sg_accounts *t);
/* The account, loading it from the store on a miss. NULL (rc 0) when unknown; SG_E* on error.
 * The pointer stays valid until the table is freed (entries are never evicted yet). */
int sg__accounts_get(struct sg_accounts *t, const char *tenant, const char *account,
                     struct sg_account **out);
/* Inserts a new account (copying the strings) and returns it. */
int sg__accounts_add(struct sg_accounts *t, const char *tenant, const char *account,
                     struct sg_account **out);
/* Writes the account's current state to the store. */
int sg__accounts_save(struct sg_accounts *t, const struct sg_account *a, sg_time now);
/* Sets email and email_domain from a bare address ("ann@example.com"). Returns 0, SG_EPARSE when
 * the address has no usable domain (email is still kept), or SG_ENOMEM. */
int sg__accounts_set_email(struct sg_account *a, const char *email);
/* The domain part of a bare address, trailing dots dropped, not yet lower-cased; false when
 * there is no usable domain. */
bool sg__email_domain_span(const char *email, const char **domain, size_t *len);
/* Sets the signup address. */
int sg__accounts_set_ip(struct sg_account *a, const char *ip);

#endif
