/* The store's lifecycle: open (pragmas, schema migration, seed), close, the statement cache,
 * error messages and the batch transaction that every write joins. The records themselves are
 * in accounts.c, lists.c, verdicts.c and records.c. */
#include "store/store_internal.h"
#include "util/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "store/schema.h"
#include "util/alloc.h"

#define SG_STORE_DEFAULT_BATCH 2000
/* Page cache per connection, in KiB (negative cache_size). The default 2 MiB makes a large
 * replay re-read index pages from the OS on every batch. */
#define SG_STORE_CACHE_KIB 32768

/* A failed sg_store_open has no store to hold its message, so it stays here for
 * sg_store_errmsg(NULL), per thread. */
static _Thread_local char open_errmsg[512];

void sg__store_lock(struct sg_store *store) { pthread_mutex_lock(&store->lock); }
void sg__store_unlock(struct sg_store *store) { pthread_mutex_unlock(&store->lock); }

int sg__store_error(struct sg_store *store, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(store->errmsg, sizeof store->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

int sg__store_fail(struct sg_store *store, const char *what, int rc)
{
    bool lost = false;
    uint32_t pending = store->pending;
    /* Some failures (I/O, disk full, out of memory) make SQLite roll the whole transaction
     * back; the batch's earlier writes are then gone and the caller should know. */
    if (store->in_tx && sqlite3_get_autocommit(store->db)) {
        store->in_tx = false;
        store->pending = 0;
        lost = pending > 0;
    }
    sg__store_error(store, SG_ESTORE, "%s: %s%s", what, sqlite3_errmsg(store->db),
                    lost ? " (the open batch of writes was rolled back)" : "");
    return (rc & 0xff) == SQLITE_NOMEM ? SG_ENOMEM : SG_ESTORE;
}

sqlite3_stmt *sg__store_stmt(struct sg_store *store, enum sg_store_stmt id, const char *sql,
                             const char *what, int *err)
{
    if (store->stmts[id])
        return store->stmts[id];
    int rc = sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &store->stmts[id],
                                NULL);
    if (rc != SQLITE_OK) {
        char w[128];
        snprintf(w, sizeof w, "%s: prepare", what);
        *err = sg__store_fail(store, w, rc);
        store->stmts[id] = NULL;
        return NULL;
    }
    return store->stmts[id];
}

int sg__store_each_row(struct sg_store *store, enum sg_store_stmt id, const char *sql,
                       const char *what, int (*row)(sqlite3_stmt *st, void *ud), void *ud)
{
    int err = 0;
    sg__store_drain(store);
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(store, id, sql, what, &err);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        err = row(st, ud);
    }
    if (st)
        sqlite3_reset(st);
    sg__store_unlock(store);
    return err;
}

int sg__store_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

int64_t sg__store_u64_to_i64(uint64_t v)
{
    int64_t r;
    memcpy(&r, &v, sizeof r);
    return r;
}

uint64_t sg__store_i64_to_u64(int64_t v)
{
    uint64_t r;
    memcpy(&r, &v, sizeof r);
    return r;
}

void sg__store_le64_put(unsigned char *out, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < 8; b++)
            out[i * 8 + b] = (unsigned char)(v[i] >> (8 * b));
}

uint64_t sg__store_le64_get(const unsigned char *blob, size_t i)
{
    uint64_t v = 0;
    for (unsigned b = 0; b < 8; b++)
        v |= (uint64_t)blob[i * 8 + b] << (8 * b);
    return v;
}

/* ---- batching ---- */

int sg__store_write_begin(struct sg_store *store, const char *what)
{
    if (store->in_tx)
        return 0;
    /* IMMEDIATE: take the write lock now, waiting up to busy_timeout, rather than failing
     * half-way through the batch when a read lock cannot be upgraded. */
    int rc = sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        char w[128];
        snprintf(w, sizeof w, "%s: begin", what);
        return sg__store_fail(store, w, rc);
    }
    store->in_tx = true;
    store->pending = 0;
    store->tx_serial++;
    return 0;
}

/* what: the write whose batch is committed ("accounts: insert: commit: disk is full"). */
static int commit(struct sg_store *store, const char *what)
{
    if (!store->in_tx)
        return 0;
    int rc = sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        char w[128];
        snprintf(w, sizeof w, "%s%scommit", what ? what : "", what ? ": " : "");
        int err = sg__store_fail(store, w, rc);
        /* Still open (busy): the writes stay pending and the next commit retries them. */
        if (!sqlite3_get_autocommit(store->db))
            return err;
        store->in_tx = false;
        store->pending = 0;
        return err;
    }
    store->in_tx = false;
    store->pending = 0;
    return 0;
}

int sg__store_commit(struct sg_store *store) { return commit(store, NULL); }

int sg__store_step_write(struct sg_store *store, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
    sqlite3_reset(st);
    if (!err)
        err = sg__store_write_done(store, what);
    return err;
}

int sg__store_write_done(struct sg_store *store, const char *what)
{
    store->pending++;
    if (store->pending >= store->batch)
        return commit(store, what);
    return 0;
}

void sg__store_set_batch(struct sg_store *store, uint32_t writes)
{
    if (!store)
        return;
    sg__store_lock(store);
    store->batch = writes ? writes : 1;
    sg__store_unlock(store);
}

uint64_t sg__store_seed(const struct sg_store *store) { return store->seed; }

int64_t sg__store_key(const struct sg_store *store, const char *tenant, const char *value)
{
    /* The NUL ends each part, so ("ab", "c") and ("a", "bc") differ. */
    uint64_t h = sg__hash(tenant, strlen(tenant) + 1, store->seed);
    if (value)
        h = sg__hash(value, strlen(value) + 1, h);
    return sg__store_u64_to_i64(h);
}

/* ---- open / close ---- */

static int random_u64(uint64_t *out)
{
    size_t got = 0;
    unsigned char *p = (unsigned char *)out;
    while (got < sizeof *out) {
        ssize_t n = getrandom(p + got, sizeof *out - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    if (got == sizeof *out)
        return 0;
    /* No getrandom (old kernel, seccomp): the device gives the same bytes. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    got = 0;
    while (got < sizeof *out) {
        ssize_t n = read(fd, p + got, sizeof *out - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got == sizeof *out ? 0 : -1;
}

/* Creates the seed on first open; INSERT OR IGNORE keeps the first one if two processes race. */
static int load_seed(struct sg_store *store, const char *name)
{
    uint64_t fresh;
    if (random_u64(&fresh) != 0)
        return sg__store_error(store, SG_ESTORE, "store %s: seed: cannot read random bytes: %s",
                               name, strerror(errno));
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db,
                                "INSERT OR IGNORE INTO meta (key, value) VALUES ('seed', ?1)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, sg__store_u64_to_i64(fresh));
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    char what[256];
    snprintf(what, sizeof what, "store %s: meta: insert seed", name);
    if (rc != SQLITE_OK)
        return sg__store_fail(store, what, rc);
    rc = sqlite3_prepare_v2(store->db, "SELECT value FROM meta WHERE key = 'seed'", -1, &st,
                            NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
            store->seed = sg__store_i64_to_u64(sqlite3_column_int64(st, 0));
            rc = SQLITE_OK;
        } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
            sqlite3_finalize(st);
            return sg__store_error(store, SG_ESTORE, "store %s: meta: seed missing or not an "
                                   "integer", name);
        }
    }
    sqlite3_finalize(st);
    snprintf(what, sizeof what, "store %s: meta: read seed", name);
    if (rc != SQLITE_OK)
        return sg__store_fail(store, what, rc);
    return 0;
}

static int exec(struct sg_store *store, const char *name, const char *sql)
{
    int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        char what[256];
        snprintf(what, sizeof what, "store %s: %s", name, sql);
        return sg__store_fail(store, what, rc);
    }
    return 0;
}

/* journal_mode answers with the mode in force, which stays "delete" where WAL is impossible
 * (some network file systems); we need WAL so readers (the CLI) never block the daemon. */
static int enable_wal(struct sg_store *store, const char *name)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    char mode[16] = "";
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        char what[256];
        snprintf(what, sizeof what, "store %s: enable WAL", name);
        return sg__store_fail(store, what, rc);
    }
    if (strcmp(mode, "wal") != 0)
        return sg__store_error(store, SG_ESTORE,
                               "store %s: cannot use WAL mode here (journal_mode is %s)", name,
                               mode);
    return 0;
}

static void store_free(struct sg_store *store)
{
    sg__store_queue_stop(store);
    sg__store_checkpointer_stop(store);
    for (int i = 0; i < SG_STMT__COUNT; i++)
        sqlite3_finalize(store->stmts[i]);
    sqlite3_close_v2(store->db);
    sg__sb_release(&store->scratch);
    pthread_mutex_destroy(&store->lock);
    sg__free(store);
}

/* SQLite's global memory statistics take a process-wide mutex on every allocation; nothing
 * here reads them. Only possible before SQLite initialises, so once, before the first open
 * (a host that initialised SQLite itself keeps its setting: the call then fails harmlessly). */
static void configure_sqlite(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

int sg_store_open(const char *path, struct sg_store **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    if (!out) {
        snprintf(open_errmsg, sizeof open_errmsg, "store: no place for the result");
        return SG_EINVAL;
    }
    *out = NULL;
    open_errmsg[0] = '\0';
    if (path && !*path) {
        /* SQLite would open a private temporary file, which is never what was meant. */
        snprintf(open_errmsg, sizeof open_errmsg, "store: empty path (NULL opens in memory)");
        return SG_EINVAL;
    }
    const char *name = path ? path : ":memory:";
    struct sg_store *store = sg__calloc(1, sizeof *store);
    if (!store) {
        snprintf(open_errmsg, sizeof open_errmsg, "store %s: out of memory", name);
        return SG_ENOMEM;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int prc = pthread_mutex_init(&store->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (prc != 0) {
        sg__free(store);
        snprintf(open_errmsg, sizeof open_errmsg, "store %s: cannot create lock", name);
        return SG_ENOMEM;
    }
    store->batch = SG_STORE_DEFAULT_BATCH;
    sg__sb_init(&store->scratch, 0);

    /* NOMUTEX: our own lock serialises every use of the connection. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path ? path : ":memory:", &store->db, flags, NULL);
    int err = 0;
    if (rc != SQLITE_OK) {
        err = (rc & 0xff) == SQLITE_NOMEM ? SG_ENOMEM : SG_ESTORE;
        snprintf(open_errmsg, sizeof open_errmsg, "store %s: open: %s", name,
                 store->db ? sqlite3_errmsg(store->db) : "out of memory");
        store_free(store);
        return err;
    }
    sqlite3_busy_timeout(store->db, 5000);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", SG_STORE_CACHE_KIB);
    err = exec(store, name, pragma);
    if (!err && path) {
        err = enable_wal(store, name);
        /* NORMAL in WAL: a commit is not synced, a checkpoint is; a power cut can lose the
         * last commits but never corrupts the file. */
        if (!err)
            err = exec(store, name, "PRAGMA synchronous = NORMAL");
    }
    if (!err) {
        err = sg__schema_migrate(store->db, name, store->errmsg, sizeof store->errmsg);
    }
    if (!err)
        err = load_seed(store, name);
    if (!err && path)
        sg__store_checkpointer_start(store, sqlite3_db_filename(store->db, "main"));
    if (!err && (err = sg__store_queue_start(store)) != 0)
        sg__store_error(store, err, "store %s: cannot start the writer thread", name);
    if (err) {
        snprintf(open_errmsg, sizeof open_errmsg, "%s", store->errmsg);
        store_free(store);
        return err;
    }
    *out = store;
    return 0;
}

void sg_store_close(struct sg_store *store)
{
    if (!store)
        return;
    sg__store_queue_stop(store);
    sg__store_lock(store);
    /* Nobody can hear an error here; a failed commit is rolled back by sqlite3_close_v2. */
    sg__store_commit(store);
    sg__store_unlock(store);
    store_free(store);
}

const char *sg_store_errmsg(const struct sg_store *store)
{
    return store ? store->errmsg : open_errmsg;
}

int sg_store_flush(struct sg_store *store)
{
    if (!store)
        return SG_EINVAL;
    sg__store_drain(store);
    int queued = sg__store_queue_error(store);
    sg__store_lock(store);
    int err = sg__store_commit(store);
    sg__store_unlock(store);
    return queued ? queued : err;
}
