/* The store's write queue: every record write is copied into one allocation and queued; a
 * writer thread applies queued writes in order, many per lock, inside the batch transaction.
 * The queue is bounded: a producer that gets ahead of SQLite by SG_QUEUE_MAX writes waits. */
#include <string.h>

#include "store/store_internal.h"
#include "util/alloc.h"

#define SG_QUEUE_MAX 65536
#define SG_QUEUE_LIMITER_MAX 64

enum op_kind {
    OP_TENANT, OP_ACCOUNT, OP_VERDICT, OP_EVENT, OP_ALERT, OP_SEEN_DOMAINS, OP_LIMITER_CLEAR,
    OP_LIMITER
};

struct op {
    struct op *next;
    uint64_t seq;
    enum op_kind kind;
    union {
        struct sg_tenant_row tenant;
        struct sg_account_row account;
        struct sg_verdict_row verdict;
        struct { const char *kind, *tenant, *message, *json; sg_time at; } event;
        struct { const char *tenant, *kind, *json; sg_time at; } alert;
        struct { uint64_t key; size_t n; const int64_t *tat; } limiter;
        struct {
            const char *tenant;
            sg_time at;
            size_t n;
            const uint64_t *keys;
            const char *const *domains;
        } seen;
    } u;
    char *cursor; /* where the next copied string goes */
    _Alignas(16) char data[];
};

struct sg_store_queue {
    pthread_mutex_t lock;
    pthread_cond_t work, room, idle;
    struct op *head, *tail;
    size_t depth;
    bool busy;      /* the writer holds ops it took */
    bool stop;
    int error;      /* the first failed write since the last drain */
    /* Durability: ops are numbered; a caller that must not answer before its write is
     * committed asks for want_seq and waits for committed_seq to reach it (group commit: one
     * commit covers every op applied before it). */
    uint64_t next_seq, applied_seq, committed_seq, want_seq;
    int commit_error;
    pthread_cond_t committed;
    pthread_t thread;
};

/* ---- packing ---- */

static size_t str_size(const char *s) { return s ? strlen(s) + 1 : 0; }

static struct op *op_new(enum op_kind kind, size_t bytes)
{
    struct op *op = sg__malloc(sizeof *op + bytes);
    if (!op)
        return NULL;
    op->next = NULL;
    op->kind = kind;
    op->cursor = op->data;
    return op;
}

static const char *op_str(struct op *op, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = op->cursor;
    memcpy(out, s, n);
    op->cursor += n;
    return out;
}

/* ---- the writer ---- */

static int apply(struct sg_store *store, struct op *op)
{
    switch (op->kind) {
    case OP_TENANT: return sg__store_tenant_apply(store, &op->u.tenant);
    case OP_ACCOUNT: return sg__store_account_apply(store, &op->u.account);
    case OP_VERDICT: return sg__store_verdict_apply(store, &op->u.verdict);
    case OP_EVENT:
        return sg__store_event_apply(store, op->u.event.kind, op->u.event.tenant,
                                     op->u.event.message, op->u.event.at, op->u.event.json);
    case OP_ALERT:
        return sg__store_alert_apply(store, op->u.alert.tenant, op->u.alert.kind, op->u.alert.at,
                                     op->u.alert.json);
    case OP_SEEN_DOMAINS:
        return sg__store_seen_domains_apply(store, op->u.seen.tenant, op->u.seen.at,
                                            op->u.seen.keys, op->u.seen.domains, op->u.seen.n);
    case OP_LIMITER_CLEAR: return sg__store_limiter_clear_apply(store);
    case OP_LIMITER:
        return sg__store_limiter_apply(store, op->u.limiter.key, op->u.limiter.tat, op->u.limiter.n);
    }
    return SG_EINVAL;
}

static bool commit_wanted(const struct sg_store_queue *q)
{
    return q->want_seq > q->committed_seq && q->applied_seq >= q->want_seq;
}

static void *writer(void *arg)
{
    struct sg_store *store = arg;
    struct sg_store_queue *q = store->queue;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stop && !commit_wanted(q))
            pthread_cond_wait(&q->work, &q->lock);
        if (q->head) {
            /* Take everything queued: one store lock for the lot. */
            struct op *ops = q->head;
            uint64_t last = q->tail->seq;
            q->head = q->tail = NULL;
            q->depth = 0;
            q->busy = true;
            pthread_cond_broadcast(&q->room);
            pthread_mutex_unlock(&q->lock);

            int first_error = 0;
            sg__store_lock(store);
            for (struct op *op = ops, *next; op; op = next) {
                next = op->next;
                int err = apply(store, op);
                if (err && !first_error)
                    first_error = err;
                sg__free(op);
            }
            sg__store_unlock(store);

            pthread_mutex_lock(&q->lock);
            if (first_error && !q->error)
                q->error = first_error;
            q->applied_seq = last;
            q->busy = false;
            if (!q->head)
                pthread_cond_broadcast(&q->idle);
        } else if (!commit_wanted(q)) {
            break; /* stopping, and nothing left */
        }
        if (commit_wanted(q)) {
            uint64_t upto = q->applied_seq;
            pthread_mutex_unlock(&q->lock);
            sg__store_lock(store);
            int err = sg__store_commit(store);
            sg__store_unlock(store);
            pthread_mutex_lock(&q->lock);
            q->committed_seq = upto;
            q->commit_error = err;
            pthread_cond_broadcast(&q->committed);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int sg__store_queue_start(struct sg_store *store)
{
    struct sg_store_queue *q = sg__calloc(1, sizeof *q);
    if (!q)
        return SG_ENOMEM;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->room, NULL);
    pthread_cond_init(&q->idle, NULL);
    pthread_cond_init(&q->committed, NULL);
    store->queue = q;
    if (pthread_create(&q->thread, NULL, writer, store) != 0) {
        store->queue = NULL;
        pthread_cond_destroy(&q->work);
        pthread_cond_destroy(&q->room);
        pthread_cond_destroy(&q->idle);
        pthread_cond_destroy(&q->committed);
        pthread_mutex_destroy(&q->lock);
        sg__free(q);
        return SG_ENOMEM;
    }
    return 0;
}

void sg__store_queue_stop(struct sg_store *store)
{
    struct sg_store_queue *q = store->queue;
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    store->queue = NULL;
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->idle);
    pthread_cond_destroy(&q->committed);
    pthread_mutex_destroy(&q->lock);
    sg__free(q);
}

int sg__store_wait_durable(struct sg_store *store, uint64_t seq)
{
    struct sg_store_queue *q = store->queue;
    if (!q || seq == 0)
        return 0; /* no writer: the write was applied in the caller's thread */
    pthread_mutex_lock(&q->lock);
    if (q->want_seq < seq) {
        q->want_seq = seq;
        pthread_cond_signal(&q->work);
    }
    while (q->committed_seq < seq && !q->stop)
        pthread_cond_wait(&q->committed, &q->lock);
    int err = q->committed_seq >= seq ? q->commit_error : SG_ESTORE;
    pthread_mutex_unlock(&q->lock);
    return err;
}

void sg__store_drain(struct sg_store *store)
{
    struct sg_store_queue *q = store->queue;
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    while (q->head || q->busy)
        pthread_cond_wait(&q->idle, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

int sg__store_queue_error(struct sg_store *store)
{
    struct sg_store_queue *q = store->queue;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->lock);
    int err = q->error;
    q->error = 0;
    pthread_mutex_unlock(&q->lock);
    return err;
}

size_t sg_store_queue_depth(struct sg_store *store) { return store ? sg__store_queue_depth(store) : 0; }

size_t sg__store_queue_depth(struct sg_store *store)
{
    struct sg_store_queue *q = store->queue;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->lock);
    size_t n = q->depth;
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* Queues op, or applies it at once when the store has no writer (it failed to start). *seq
 * (when not NULL) gets the op's number for sg__store_wait_durable (0 when applied at once). */
static int enqueue_seq(struct sg_store *store, struct op *op, uint64_t *seq)
{
    if (seq)
        *seq = 0;
    struct sg_store_queue *q = store->queue;
    if (!q) {
        sg__store_lock(store);
        int err = apply(store, op);
        sg__store_unlock(store);
        sg__free(op);
        return err;
    }
    pthread_mutex_lock(&q->lock);
    while (q->depth >= SG_QUEUE_MAX)
        pthread_cond_wait(&q->room, &q->lock);
    op->seq = ++q->next_seq;
    if (seq)
        *seq = op->seq;
    if (q->tail)
        q->tail->next = op;
    else
        q->head = op;
    q->tail = op;
    q->depth++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static int enqueue(struct sg_store *store, struct op *op) { return enqueue_seq(store, op, NULL); }

/* ---- the queued writes of store.h ---- */

int sg__store_tenant_put(struct sg_store *store, const struct sg_tenant_row *row)
{
    if (!store || !row || !row->tenant || !*row->tenant)
        return store ? sg__store_error(store, SG_EINVAL, "tenants: insert: no tenant") : SG_EINVAL;
    struct op *op = op_new(OP_TENANT, str_size(row->tenant) + str_size(row->timezone) +
                                          str_size(row->working_hours));
    if (!op)
        return SG_ENOMEM;
    op->u.tenant = *row;
    op->u.tenant.tenant = op_str(op, row->tenant);
    op->u.tenant.timezone = op_str(op, row->timezone);
    op->u.tenant.working_hours = op_str(op, row->working_hours);
    return enqueue(store, op);
}

int sg__store_account_put(struct sg_store *store, const struct sg_account_row *row)
{
    if (!store)
        return SG_EINVAL;
    if (!row || !row->tenant || !row->account)
        return sg__store_error(store, SG_EINVAL, "accounts: insert: no tenant or account");
    struct op *op = op_new(OP_ACCOUNT, str_size(row->tenant) + str_size(row->account) +
                                           str_size(row->email) + str_size(row->email_domain) +
                                           str_size(row->ip));
    if (!op)
        return SG_ENOMEM;
    op->u.account = *row;
    op->u.account.tenant = op_str(op, row->tenant);
    op->u.account.account = op_str(op, row->account);
    op->u.account.email = op_str(op, row->email);
    op->u.account.email_domain = op_str(op, row->email_domain);
    op->u.account.ip = op_str(op, row->ip);
    return enqueue(store, op);
}

int sg__store_verdict_put(struct sg_store *store, const struct sg_verdict_row *row, uint64_t *seq)
{
    if (!store)
        return SG_EINVAL;
    if (!row || !row->id || !row->tenant || !row->sender || !row->channel || !row->action ||
        !row->json || (row->nrecipients && !row->recipients))
        return sg__store_error(store, SG_EINVAL, "verdicts: insert: missing field");
    size_t bytes = str_size(row->id) + str_size(row->tenant) + str_size(row->sender) +
                   str_size(row->channel) + str_size(row->action) + str_size(row->reasons) +
                   str_size(row->campaign) + str_size(row->template_name) + str_size(row->ip) +
                   str_size(row->json);
    if (row->nurl_domains && !row->url_domains)
        return sg__store_error(store, SG_EINVAL, "verdicts: insert: missing field");
    for (size_t i = 0; i < row->nrecipients; i++)
        bytes += str_size(row->recipients[i]);
    for (size_t i = 0; i < row->nurl_domains; i++)
        bytes += str_size(row->url_domains[i]);
    /* The pointer arrays go first in data, where they are aligned. */
    size_t array = (row->nrecipients + row->nurl_domains) * sizeof(char *);
    struct op *op = op_new(OP_VERDICT, array + bytes);
    if (!op)
        return SG_ENOMEM;
    const char **recipients = (const char **)(void *)op->data;
    const char **url_domains = recipients + row->nrecipients;
    op->cursor = op->data + array;
    op->u.verdict = *row;
    op->u.verdict.id = op_str(op, row->id);
    op->u.verdict.tenant = op_str(op, row->tenant);
    op->u.verdict.sender = op_str(op, row->sender);
    op->u.verdict.channel = op_str(op, row->channel);
    op->u.verdict.action = op_str(op, row->action);
    op->u.verdict.reasons = op_str(op, row->reasons);
    op->u.verdict.campaign = op_str(op, row->campaign);
    op->u.verdict.template_name = op_str(op, row->template_name);
    op->u.verdict.ip = op_str(op, row->ip);
    op->u.verdict.json = op_str(op, row->json);
    for (size_t i = 0; i < row->nrecipients; i++)
        recipients[i] = op_str(op, row->recipients[i]);
    op->u.verdict.recipients = recipients;
    for (size_t i = 0; i < row->nurl_domains; i++)
        url_domains[i] = op_str(op, row->url_domains[i]);
    op->u.verdict.url_domains = url_domains;
    return enqueue_seq(store, op, seq);
}

int sg__store_seen_domains_put(struct sg_store *store, const char *tenant, sg_time at,
                               const uint64_t *keys, const char *const *domains, size_t n)
{
    if (!store)
        return SG_EINVAL;
    if (!tenant || (n && (!keys || !domains)))
        return sg__store_error(store, SG_EINVAL, "seen domains: insert: missing field");
    if (n == 0)
        return 0;
    size_t bytes = str_size(tenant);
    for (size_t i = 0; i < n; i++) {
        if (!domains[i])
            return sg__store_error(store, SG_EINVAL, "seen domains: insert: missing domain");
        bytes += str_size(domains[i]);
    }
    /* Keys, then the domains' pointers (both 8-byte aligned from data), then the strings. */
    size_t arrays = n * sizeof(uint64_t) + n * sizeof(char *);
    struct op *op = op_new(OP_SEEN_DOMAINS, arrays + bytes);
    if (!op)
        return SG_ENOMEM;
    uint64_t *k = (uint64_t *)(void *)op->data;
    const char **d = (const char **)(void *)(op->data + n * sizeof(uint64_t));
    op->cursor = op->data + arrays;
    memcpy(k, keys, n * sizeof *k);
    for (size_t i = 0; i < n; i++)
        d[i] = op_str(op, domains[i]);
    op->u.seen.tenant = op_str(op, tenant);
    op->u.seen.at = at;
    op->u.seen.n = n;
    op->u.seen.keys = k;
    op->u.seen.domains = d;
    return enqueue(store, op);
}

int sg__store_event_put(struct sg_store *store, const char *kind, const char *tenant,
                        const char *message_id, sg_time at, const char *json)
{
    if (!store)
        return SG_EINVAL;
    if (!kind || (strcmp(kind, "report") != 0 && strcmp(kind, "review") != 0))
        return sg__store_error(store, SG_EINVAL,
                               "events: insert: kind \"%s\" is not \"report\" or \"review\"",
                               kind ? kind : "(null)");
    if (!tenant || !message_id || !json)
        return sg__store_error(store, SG_EINVAL, "events: insert: missing field");
    struct op *op = op_new(OP_EVENT, str_size(kind) + str_size(tenant) + str_size(message_id) +
                                         str_size(json));
    if (!op)
        return SG_ENOMEM;
    op->u.event.kind = op_str(op, kind);
    op->u.event.tenant = op_str(op, tenant);
    op->u.event.message = op_str(op, message_id);
    op->u.event.json = op_str(op, json);
    op->u.event.at = at;
    return enqueue(store, op);
}

int sg__store_alert_put(struct sg_store *store, const char *tenant, const char *kind, sg_time at,
                        const char *json)
{
    if (!store)
        return SG_EINVAL;
    if (!kind || !json)
        return sg__store_error(store, SG_EINVAL, "alerts: insert: missing field");
    struct op *op = op_new(OP_ALERT, str_size(tenant) + str_size(kind) + str_size(json));
    if (!op)
        return SG_ENOMEM;
    op->u.alert.tenant = op_str(op, tenant);
    op->u.alert.kind = op_str(op, kind);
    op->u.alert.json = op_str(op, json);
    op->u.alert.at = at;
    return enqueue(store, op);
}

int sg__store_limiter_clear(struct sg_store *store)
{
    if (!store)
        return SG_EINVAL;
    struct op *op = op_new(OP_LIMITER_CLEAR, 0);
    return op ? enqueue(store, op) : SG_ENOMEM;
}

int sg__store_limiter_put(struct sg_store *store, uint64_t key, const int64_t *tat, size_t n)
{
    if (!store)
        return SG_EINVAL;
    if ((n && !tat) || n > SG_QUEUE_LIMITER_MAX)
        return sg__store_error(store, SG_EINVAL, "limiter: insert: %zu windows (at most %d)", n,
                               SG_QUEUE_LIMITER_MAX);
    struct op *op = op_new(OP_LIMITER, n * sizeof *tat);
    if (!op)
        return SG_ENOMEM;
    op->u.limiter.key = key;
    op->u.limiter.n = n;
    if (n)
        memcpy(op->data, tat, n * sizeof *tat);
    op->u.limiter.tat = (const int64_t *)(void *)op->data;
    return enqueue(store, op);
}
