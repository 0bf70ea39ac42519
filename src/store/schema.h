/* The store's versioned schema: forward migrations applied on open, keyed by
 * PRAGMA user_version, and the check that the file is a sendguard store at all. */
#ifndef SG_STORE_SCHEMA_H
#define SG_STORE_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

/* The schema version this program writes (the number of migrations). */
int sg__schema_latest(void);

/* Brings db (named name in messages) up to the latest version in one transaction. Returns 0,
 * SG_ESCHEMA when db is newer than this program, or SG_ESTORE when db is not a sendguard store
 * or a migration failed (nothing is then changed); errmsg gets the reason. */
int sg__schema_migrate(sqlite3 *db, const char *name, char *errmsg, size_t errsize);

#endif
