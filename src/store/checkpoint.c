/* A background checkpointer for file stores. SQLite's automatic checkpoint runs inside the
 * commit that crosses the threshold, so the writer waits for fsyncs and a copy of the WAL (a
 * third or more of the wall time of a 100k-verdict replay here). Here the writer only signals,
 * and a thread with its own connection runs PASSIVE checkpoints, which do not block it. */
#include <pthread.h>
#include <stdbool.h>

#include "store/store_internal.h"
#include "util/alloc.h"

/* Pages in the WAL before a checkpoint is asked for (SQLite's own default is 1000). */
#define SG_CKPT_PAGES 1000
/* The WAL only restarts from its beginning when a write transaction starts with every frame
 * copied back, which a writer that never pauses (a replay) does not give the thread time for.
 * Past this size the writer finishes the copy itself, which is short since the thread did most
 * of it, so the WAL file stays around this size instead of holding every write ever made. */
#define SG_CKPT_PAGES_MAX (SG_CKPT_PAGES * 4)

struct sg_store_ckpt {
    sqlite3 *db;          /* used only by the thread */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool wanted, stop;
    bool running;         /* the thread is in a checkpoint */
    bool writer;          /* the writer is checkpointing itself: the thread waits */
};

static void *run(void *arg)
{
    struct sg_store_ckpt *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while ((!c->wanted || c->writer) && !c->stop)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->stop)
            break;
        c->wanted = false;
        c->running = true;
        pthread_mutex_unlock(&c->lock);
        /* Failures (a reader pinning old frames) are retried on the next request. */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->lock);
        c->running = false;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Called by SQLite after each commit on the writer's connection, under the store's lock. */
static int wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
    struct sg_store_ckpt *c = ud;
    if (pages < SG_CKPT_PAGES)
        return SQLITE_OK;
    pthread_mutex_lock(&c->lock);
    if (pages < SG_CKPT_PAGES_MAX) {
        c->wanted = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
        return SQLITE_OK;
    }
    /* Only one checkpoint runs at a time (another gets SQLITE_BUSY at once), so wait for the
     * thread's pass to end and hold it off meanwhile. */
    c->writer = true;
    while (c->running)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->writer = false;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return SQLITE_OK;
}

void sg__store_checkpointer_start(struct sg_store *store, const char *path)
{
    struct sg_store_ckpt *c = sg__calloc(1, sizeof *c);
    if (!c)
        return; /* SQLite's inline autocheckpoint stays in charge */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close_v2(c->db);
        sg__free(c);
        return;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        sqlite3_close_v2(c->db);
        sg__free(c);
        return;
    }
    /* Replaces the autocheckpoint hook. */
    sqlite3_wal_hook(store->db, wal_hook, c);
    store->ckpt = c;
}

void sg__store_checkpointer_stop(struct sg_store *store)
{
    struct sg_store_ckpt *c = store->ckpt;
    if (!c)
        return;
    sqlite3_wal_hook(store->db, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    sqlite3_close_v2(c->db);
    sg__free(c);
    store->ckpt = NULL;
}
