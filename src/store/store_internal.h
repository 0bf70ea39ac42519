/* The store's private parts shared by its files: the struct, the prepared-statement cache, the
 * lock, error reporting and the batch-transaction helpers that every write goes through.
 * Nothing outside src/store/ includes this. */
#ifndef SG_STORE_STORE_INTERNAL_H
#define SG_STORE_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/strbuf.h"

/* One slot per SQL statement; each is prepared on first use and kept until close, so the hot
 * paths (verdict and account writes) never parse SQL again. The SQL text lives next to the code
 * that runs it. */
enum sg_store_stmt {
    SG_STMT_TENANT_PUT,
    SG_STMT_TENANT_EACH,
    SG_STMT_ACCOUNT_PUT,
    SG_STMT_ACCOUNT_GET,
    SG_STMT_LIST_ADD,
    SG_STMT_LIST_REMOVE,
    SG_STMT_LIST_EACH,
    SG_STMT_LIST_SHOW,
    SG_STMT_LIST_SHOW_ALL,
    SG_STMT_VERDICT_PUT,
    SG_STMT_VERDICT_GET,
    SG_STMT_VERDICT_COUNT,
    SG_STMT_EVENT_PUT,
    SG_STMT_ALERT_PUT,
    SG_STMT_ALERT_LIST,
    SG_STMT_ALERT_LIST_ALL,
    SG_STMT_LIMITER_CLEAR,
    SG_STMT_LIMITER_PUT,
    SG_STMT_LIMITER_LOAD,
    SG_STMT_BAYES_SCOPE_ADD,
    SG_STMT_BAYES_TOKEN_ADD,
    SG_STMT_BAYES_TOKEN_PRUNE,
    SG_STMT_BAYES_SCOPE_EACH,
    SG_STMT_BAYES_TOKEN_EACH,
    SG_STMT_BAYES_TOKEN_COUNT,
    SG_STMT_BAYES_SNAPSHOT_GET,
    SG_STMT_BAYES_SNAPSHOT_PUT,
    SG_STMT_LEARNED_GET,
    SG_STMT_LEARNED_PUT,
    SG_STMT_SEEN_DOMAIN_PUT,
    SG_STMT_SEEN_DOMAIN_EACH,
    SG_STMT_LINK_HISTORY_EACH,
    SG_STMT__COUNT
};

struct sg_store_ckpt;
struct sg_store_queue;

struct sg_store {
    sqlite3 *db;
    /* One lock per store, recursive so that an _each callback may call back into the store
     * (but not restart the iteration it is inside: that statement is busy). A dedicated writer
     * thread will replace it when the daemon arrives; until then every entry point takes it. */
    pthread_mutex_t lock;
    bool in_tx;         /* a batch transaction is open */
    uint32_t batch;     /* writes per transaction */
    uint32_t pending;   /* writes in the open transaction */
    uint64_t tx_serial; /* transactions opened so far: tells one batch from the next */
    uint64_t seed;
    struct sg_store_ckpt *ckpt; /* NULL: memory store, or SQLite's inline autocheckpoint */
    struct sg_store_queue *queue; /* the writer thread and its bounded queue (queue.c) */
    sqlite3_stmt *stmts[SG_STMT__COUNT];
    struct sg_strbuf scratch; /* reused for each verdict's recipients, under the lock */
    char errmsg[512];
};

void sg__store_lock(struct sg_store *store);
void sg__store_unlock(struct sg_store *store);

/* The cached statement for id, prepared from sql on first use. Statements are reset (not
 * cleared) after each use, so every use must bind every parameter; strings may be bound
 * SQLITE_STATIC because the statement is reset before the function that bound them returns.
 * NULL on failure, with the error set (what: "prepare: ..."). */
sqlite3_stmt *sg__store_stmt(struct sg_store *store, enum sg_store_stmt id, const char *sql,
                             const char *what, int *err);

/* Reads every row of a parameterless query after the queued writes have landed: row is called
 * with the stepped statement and stops the loop by returning non-zero (that is returned).
 * Drains, locks, steps, resets and unlocks; SQLite failures are recorded as "WHAT: ...". */
int sg__store_each_row(struct sg_store *store, enum sg_store_stmt id, const char *sql,
                       const char *what, int (*row)(sqlite3_stmt *st, void *ud), void *ud);

/* Records a SQLite failure as "WHAT: sqlite message" and returns SG_ESTORE (SG_ENOMEM when
 * SQLite ran out of memory). Notes when the failure rolled back the open batch. */
int sg__store_fail(struct sg_store *store, const char *what, int rc);
/* Records a message and returns err. */
int sg__store_error(struct sg_store *store, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every write is bracketed by these: begin opens the batch transaction if none is open, done
 * counts the write and commits once the batch is full. */
int sg__store_write_begin(struct sg_store *store, const char *what);
int sg__store_write_done(struct sg_store *store, const char *what);
/* Runs a prepared write whose parameters are bound (after sg__store_write_begin): steps,
 * resets, and counts it in the batch. Returns 0 or the error, recorded as "WHAT: ...". */
int sg__store_step_write(struct sg_store *store, sqlite3_stmt *st, const char *what);
/* Commits the open batch, if any. */
int sg__store_commit(struct sg_store *store);

/* The background checkpointer of a file store (checkpoint.c). Start falls back silently to
 * SQLite's inline autocheckpoint when it cannot; stop is a no-op without one. */
void sg__store_checkpointer_start(struct sg_store *store, const char *path);
void sg__store_checkpointer_stop(struct sg_store *store);

/* The write queue (queue.c): record writes are handed to a writer thread so a judgement never
 * waits on SQLite. Each *_put in store.h queues a copy of its row; the writer runs the matching
 * *_apply below under the store lock, in order. A failed write is remembered and returned by
 * the next sg_store_flush. Reads that must see every write so far call sg__store_drain first;
 * sg__store_account_get does not, because the engine's account table already holds every
 * account it wrote. */
int sg__store_queue_start(struct sg_store *store);
/* Applies everything queued, then stops the writer. */
void sg__store_queue_stop(struct sg_store *store);
/* Waits until every write queued so far is applied. */
void sg__store_drain(struct sg_store *store);
/* The first write that failed since the last call (0 if none), forgotten once returned; its
 * message is in the store's errmsg. */
int sg__store_queue_error(struct sg_store *store);

int sg__store_tenant_apply(struct sg_store *store, const struct sg_tenant_row *row);
int sg__store_account_apply(struct sg_store *store, const struct sg_account_row *row);
int sg__store_verdict_apply(struct sg_store *store, const struct sg_verdict_row *row);
int sg__store_event_apply(struct sg_store *store, const char *kind, const char *tenant,
                          const char *message_id, sg_time at, const char *json);
int sg__store_alert_apply(struct sg_store *store, const char *tenant, const char *kind,
                          sg_time at, const char *json);
int sg__store_seen_domains_apply(struct sg_store *store, const char *tenant, sg_time at,
                                 const uint64_t *keys, const char *const *domains, size_t n);
int sg__store_limiter_clear_apply(struct sg_store *store);
int sg__store_limiter_apply(struct sg_store *store, uint64_t key, const int64_t *tat, size_t n);

/* The index key of (tenant, value) — value NULL for the tenant alone: a 64-bit hash under
 * the store's seed, as a SQLite integer. */
int64_t sg__store_key(const struct sg_store *store, const char *tenant, const char *value);

/* NULL binds SQL NULL. */
int sg__store_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* uint64 <-> int64 by bit pattern (SQLite integers are signed). */
int64_t sg__store_u64_to_i64(uint64_t v);
uint64_t sg__store_i64_to_u64(int64_t v);
/* 64-bit values in blobs are little-endian whatever the host, so a store file moves between
 * machines: v[0..n) into out (8n bytes), and value i of blob. */
void sg__store_le64_put(unsigned char *out, const uint64_t *v, size_t n);
uint64_t sg__store_le64_get(const unsigned char *blob, size_t i);

#endif
