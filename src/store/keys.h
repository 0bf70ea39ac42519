/* API keys inside the library: the strict key parser, the derivation of a key's stored verifier
 * and signing key from its secret, and the read of live keys with their hashes that the
 * in-memory keyring (engine/keyring.c) is built from. The public side is in sendguard.h. */
#ifndef SG_STORE_KEYS_H
#define SG_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "sendguard.h"

#define SG_KEY_ID_HEX 16     /* 8 random bytes */
#define SG_KEY_SECRET_HEX 64 /* 32 random bytes */
/* "sg_" id "_" secret */
#define SG_KEY_LEN (3 + SG_KEY_ID_HEX + 1 + SG_KEY_SECRET_HEX)
#define SG_KEY_HASH_BYTES 32
#define SG_KEY_TENANT_MAX 256
#define SG_KEY_SCOPES_ALL                                                                     \
    (SG_KEY_CHECK | SG_KEY_EVENTS | SG_KEY_REPORT | SG_KEY_MODERATE | SG_KEY_AUDIT | SG_KEY_ADMIN)

/* Initialises libsodium once per process; 0 or SG_EIO when it cannot (no entropy source). */
int sg__key_sodium_init(void);

/* True when id is exactly 16 lower-case hex digits and a NUL. */
bool sg__key_id_valid(const char *id);

/* Splits a presented key "sg_<16 hex>_<64 hex>" (exactly len bytes, lower-case only) into id and
 * secret, each NUL-terminated. 0 or SG_EAUTH; nothing is written on failure. */
int sg__key_parse(const char *key, size_t len, char id[SG_KEY_ID_HEX + 1],
                  char secret[SG_KEY_SECRET_HEX + 1]);

/* verifier = SHA-256("sendguard-key:" || secret_hex), signing = SHA-256("sendguard-signing:" ||
 * secret_hex); secret_hex is the 64 hex digits as they appear in the key. Either out may be
 * NULL. The platform computes signing the same way (docs/keys.md). */
void sg__key_derive(const char *secret_hex, unsigned char verifier[SG_KEY_HASH_BYTES],
                    unsigned char signing[SG_KEY_HASH_BYTES]);

/* Calls fn for every live (not revoked) key, ordered by id, with its verifier and signing key
 * (valid during the call only). A non-zero return from fn stops and is returned. */
int sg__store_key_live_each(struct sg_store *store,
                            int (*fn)(void *ud, const struct sg_key_info *k,
                                      const unsigned char verifier[SG_KEY_HASH_BYTES],
                                      const unsigned char signing[SG_KEY_HASH_BYTES]),
                            void *ud);

#endif
