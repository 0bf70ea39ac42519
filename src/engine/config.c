/* The configuration: one table of settings drives YAML parsing (libfyaml), validation, the
 * defaults, the dump and the docs. Tenants keep their override rows, not just a built policy,
 * so that after every load their policies are rebuilt on top of whatever the defaults became. */
#include "engine/config.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/yamltext.h"
#include "util/timefmt.h"

#define MAX_INPUT ((size_t)16 << 20)  /* a config file, not a data set */
#define MAX_DUMP ((size_t)256 << 20)
#define MAX_TENANT_ID 256
#define MAX_STRING 4096                /* string settings are paths */
#define MAX_PATH_TEXT 1024             /* a dotted setting name while parsing */
#define MAX_OVERRIDES 1000000
#define MAX_RATE_N 1000000000u
#define DAY 86400
#define MAX_RATE_PERIOD (366 * DAY)
#define BUILTIN_NAME "sendguard.yaml (built in)"

enum setting_type { ST_BOOL, ST_UINT, ST_DOUBLE, ST_DURATION, ST_ENUM, ST_STRING, ST_RATES };

/* What a row's offset is relative to; it also says what '*' in the row's name stands for. */
enum setting_home {
    SH_CONFIG,  /* struct sg_config: process-wide, not per tenant */
    SH_CHANNEL, /* struct sg_channel_policy, '*' is a channel name */
    SH_SCORE,   /* sg_policy.score[], '*' is a reason code; offset unused */
};

struct setting {
    const char *name;          /* the dotted YAML path */
    uint8_t type, home, size;  /* size: of an enum's target in bytes */
    const char *def;           /* the default as config text; NULL for scores (reasons.h) */
    double min, max;           /* uint, double, duration (seconds), string (max bytes) */
    size_t offset;
    const char *const *names;  /* enum values, NULL-terminated; the index is the stored value */
    const char *help;
};

static const char *const log_level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const cost_names[] = {"messages", "recipients", NULL};

#define CF(field) offsetof(struct sg_config, field)
#define CH(field) offsetof(struct sg_channel_policy, field)

/* The limits of one scope: how many per period, and what one message costs. */
#define SCOPE_ROWS(scope, word, what)                                                           \
    {"channels.*.limits." word ".rates", ST_RATES, SH_CHANNEL, 0, "[]", 0, 0,                   \
     CH(limits[scope].rule), NULL, "Rates " what ", like [\"2/1m\", \"20/1h\"]; [] is unlimited."}, \
    {"channels.*.limits." word ".cost", ST_ENUM, SH_CHANNEL, sizeof(uint8_t), "messages", 0, 0, \
     CH(limits[scope].cost), cost_names,                                                        \
     "A message counts once (messages) or once per recipient (recipients)."}

/* Rows sharing a dotted prefix stay together: the dump nests them under one key. */
static const struct setting settings[] = {
    {"log.level", ST_ENUM, SH_CONFIG, sizeof(enum sg_log_level), "info", 0, 0, CF(log_level),
     log_level_names, "Least severe message passed to the log: debug, info, warn or error."},
    {"store.batch", ST_UINT, SH_CONFIG, 0, "2000", 1, 100000, CF(store_batch), NULL,
     "Store writes per transaction: more is faster, and more is lost on a power cut."},
    {"limiter.shards", ST_UINT, SH_CONFIG, 0, "64", 1, 4096, CF(limiter_shards), NULL,
     "Lock shards of the in-process rate limiter (rounded up to a power of two)."},
    {"signup.block_disposable", ST_BOOL, SH_CONFIG, 0, "true", 0, 0, CF(block_disposable), NULL,
     "Block signups whose email domain is a disposable-mail domain."},
    {"signup.disposable_file", ST_STRING, SH_CONFIG, 0, "", 0, MAX_STRING, CF(disposable_file),
     NULL, "Extra disposable domains, one a line, on top of the built-in list; empty for none."},
    {"rules.local_dir", ST_STRING, SH_CONFIG, 0, "", 0, MAX_STRING, CF(rules_local_dir), NULL,
     "Local rule files (*.yaml) loaded after the shipped rules; a rule with the same code "
     "replaces the shipped one. Empty for none."},
    {"rules.new_domain_history", ST_UINT, SH_CONFIG, 0, "50", 0, 1000000000,
     CF(rules_new_domain_history), NULL,
     "Messages with links a tenant must have delivered before URL_NEW_DOMAIN speaks: until "
     "then every domain is new to it, and the fact is unknown."},
    {"bayes.enabled", ST_BOOL, SH_CONFIG, 0, "true", 0, 0, CF(bayes_enabled), NULL,
     "Score messages with the Bayes classifier once it has enough training."},
    {"bayes.min_spam", ST_UINT, SH_CONFIG, 0, "200", 1, 100000000, CF(bayes_min_spam), NULL,
     "Spam messages a class must have learned before the classifier speaks for it."},
    {"bayes.min_ham", ST_UINT, SH_CONFIG, 0, "200", 1, 100000000, CF(bayes_min_ham), NULL,
     "Ham messages a class must have learned before the classifier speaks for it."},

    {"channels.*.hold", ST_DOUBLE, SH_CHANNEL, 0, "5", 0, 1000, CH(hold_at), NULL,
     "Score at which a message is held for a moderator."},
    {"channels.*.reject", ST_DOUBLE, SH_CHANNEL, 0, "10", 0, 1000, CH(reject_at), NULL,
     "Score at which a message is rejected; not below hold."},
    {"channels.*.trust.min_posts", ST_UINT, SH_CHANNEL, 0, "0", 0, 1000000, CH(min_posts), NULL,
     "Public posts a sender needs before this channel opens to them."},
    {"channels.*.trust.min_account_age", ST_DURATION, SH_CHANNEL, 0, "0", 0, MAX_RATE_PERIOD,
     CH(min_account_age_s), NULL, "Account age before this channel opens to the sender."},
    {"channels.*.trust.require_verified", ST_BOOL, SH_CHANNEL, 0, "false", 0, 0,
     CH(require_verified), NULL, "The sender's email address must be verified."},
    {"channels.*.trust.link_min_age", ST_DURATION, SH_CHANNEL, 0, "0", 0, MAX_RATE_PERIOD,
     CH(link_min_age_s), NULL,
     "Accounts younger than this may not send links, their messages are held; 0 is off."},
    {"channels.*.new_account_age", ST_DURATION, SH_CHANNEL, 0, "7d", 0, MAX_RATE_PERIOD,
     CH(new_account_age_s), NULL,
     "Accounts younger than this are new: fan-out and the recipient limits count them."},
    {"channels.*.fanout.max_recipients", ST_UINT, SH_CHANNEL, 0, "0", 0, 1000000, CH(fanout_max),
     NULL, "Distinct recipients a new account may reach per fanout.window, then it is held; 0 off."},
    {"channels.*.fanout.window", ST_DURATION, SH_CHANNEL, 0, "1h", 60, 30 * DAY,
     CH(fanout_window_s), NULL, "The window fanout.max_recipients counts over."},
    SCOPE_ROWS(SG_SCOPE_SENDER, "sender", "per sender"),
    SCOPE_ROWS(SG_SCOPE_TENANT, "tenant", "for the whole tenant"),
    SCOPE_ROWS(SG_SCOPE_RECIPIENT, "recipient", "per recipient (only new accounts' messages count)"),
    SCOPE_ROWS(SG_SCOPE_IP, "ip", "per client address"),

    {"scores.*", ST_DOUBLE, SH_SCORE, 0, NULL, -1000, 1000, 0, NULL,
     "Score a reason code adds to a message's total."},
};

/* Enum targets are a uint8_t or an int-sized C enum. */
_Static_assert(sizeof(enum sg_log_level) == sizeof(int), "enum rows store an int");

#define NROWS (sizeof settings / sizeof settings[0])
#define IDX_STRIDE ((int)SG_CH_COUNT > (int)SG_REASON_COUNT ? (int)SG_CH_COUNT : (int)SG_REASON_COUNT)

/* One parsed value, whatever the row's type. Only process-wide rows hold a string. */
union value {
    bool b;
    uint32_t u;
    double d;
    int64_t dur;
    int e;
    char *s;
    struct sg_gcra_rule rates;
};

/* A tenant's setting: applied on top of the defaults' policy whenever tenants are rebuilt. */
struct sg_config_override {
    char *tenant;
    uint16_t row, idx;
    int line; /* > 0 while the load that set it runs (duplicate and hold/reject errors) */
    union value v;
};

/* ---- values ---------------------------------------------------------------------------- */

static void *target_of(const struct setting *st, int idx, struct sg_config *cfg,
                       struct sg_policy *pol)
{
    switch (st->home) {
    case SH_CONFIG:
        return (char *)cfg + st->offset;
    case SH_CHANNEL:
        return (char *)&pol->ch[idx] + st->offset;
    default:
        return &pol->score[idx];
    }
}

/* Moves v into the target (a string changes hands). */
static void store_value(const struct setting *st, void *t, union value *v)
{
    switch (st->type) {
    case ST_BOOL:
        *(bool *)t = v->b;
        break;
    case ST_UINT:
        *(uint32_t *)t = v->u;
        break;
    case ST_DOUBLE:
        *(double *)t = v->d;
        break;
    case ST_DURATION:
        *(int64_t *)t = v->dur;
        break;
    case ST_ENUM:
        if (st->size == 1) {
            *(uint8_t *)t = (uint8_t)v->e;
        } else {
            int e = v->e;
            memcpy(t, &e, sizeof e);
        }
        break;
    case ST_STRING:
        sg__free(*(char **)t);
        *(char **)t = v->s;
        v->s = NULL;
        break;
    case ST_RATES:
        *(struct sg_gcra_rule *)t = v->rates;
        break;
    }
}

static int enum_value(const struct setting *st, const void *t)
{
    if (st->size == 1)
        return *(const uint8_t *)t;
    int e;
    memcpy(&e, t, sizeof e);
    return e;
}

static bool text_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool text_is_nocase(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A bounded NUL-terminated copy for strtoull/strtod; false when s does not fit. */
static bool copy_text(char *buf, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

static bool parse_whole(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* Parses one scalar for a row of any type but rates. Returns 0, 1 when the text does not
 * fit the row (the caller explains) or SG_ENOMEM. */
static int parse_scalar(const struct setting *st, const char *s, size_t n, union value *v)
{
    char buf[64];
    switch (st->type) {
    case ST_BOOL:
        if (text_is_nocase(s, n, "true") || text_is_nocase(s, n, "yes") ||
            text_is_nocase(s, n, "on"))
            v->b = true;
        else if (text_is_nocase(s, n, "false") || text_is_nocase(s, n, "no") ||
                 text_is_nocase(s, n, "off"))
            v->b = false;
        else
            return 1;
        return 0;
    case ST_UINT: {
        uint64_t u;
        if (!parse_whole(s, n, (uint64_t)st->max, &u) || (double)u < st->min)
            return 1;
        v->u = (uint32_t)u;
        return 0;
    }
    case ST_DOUBLE: {
        /* strtod also takes "inf", "nan" and hex floats: only plain decimal numbers pass. */
        if (n == 0 || !copy_text(buf, sizeof buf, s, n) || strspn(buf, "0123456789+-.eE") < n)
            return 1;
        char *end;
        errno = 0;
        double d = strtod(buf, &end);
        if (*end || errno || !isfinite(d) || d < st->min || d > st->max)
            return 1;
        v->d = d == 0 ? 0 : d; /* -0 would dump as "-0" */
        return 0;
    }
    case ST_DURATION: {
        int64_t sec;
        if (sg__duration_parse(s, n, &sec) != 0 || sec < (int64_t)st->min ||
            sec > (int64_t)st->max)
            return 1;
        v->dur = sec;
        return 0;
    }
    case ST_ENUM:
        for (int i = 0; st->names[i]; i++)
            if (text_is(s, n, st->names[i])) {
                v->e = i;
                return 0;
            }
        return 1;
    case ST_STRING:
        if (n > (size_t)st->max || memchr(s, '\0', n))
            return 1;
        v->s = NULL;
        if (n && !(v->s = sg__strndup(s, n)))
            return SG_ENOMEM;
        return 0;
    default:
        return 1;
    }
}

/* "N/DURATION": N from 1 to MAX_RATE_N per a period from 1s to 366d. */
static int parse_rate(const char *s, size_t n, struct sg_gcra_window *w)
{
    const char *slash = memchr(s, '/', n);
    uint64_t limit;
    int64_t period;
    if (!slash || !parse_whole(s, (size_t)(slash - s), MAX_RATE_N, &limit) || limit < 1)
        return -1;
    size_t dn = n - (size_t)(slash - s) - 1;
    if (sg__duration_parse(slash + 1, dn, &period) != 0 || period < 1 || period > MAX_RATE_PERIOD)
        return -1;
    w->limit = (uint32_t)limit;
    w->period_s = (uint32_t)period;
    return 0;
}

static int cmp_window(const void *a, const void *b)
{
    const struct sg_gcra_window *x = a, *y = b;
    return x->period_s < y->period_s ? -1 : x->period_s > y->period_s;
}

/* Windows are kept shortest first, which also makes the dump canonical. Returns the index of a
 * period given twice, or -1. */
static int sort_windows(struct sg_gcra_rule *r)
{
    qsort(r->w, r->nwindows, sizeof r->w[0], cmp_window);
    for (int i = 1; i < r->nwindows; i++)
        if (r->w[i].period_s == r->w[i - 1].period_s)
            return i;
    return -1;
}

/* The table's rates defaults: "[]" or ["2/1m", "20/1h"]. */
static int parse_rates_text(const char *s, struct sg_gcra_rule *r)
{
    memset(r, 0, sizeof *r);
    size_t n = strlen(s);
    if (n < 2 || s[0] != '[' || s[n - 1] != ']')
        return -1;
    const char *p = s + 1, *end = s + n - 1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '"' || *p == ','))
            p++;
        const char *q = p;
        while (q < end && *q != '"' && *q != ',' && *q != ' ')
            q++;
        if (q == p)
            break;
        if (r->nwindows == SG_GCRA_MAX_WINDOWS || parse_rate(p, (size_t)(q - p), &r->w[r->nwindows]))
            return -1;
        r->nwindows++;
        p = q;
    }
    return sort_windows(r) < 0 ? 0 : -1;
}

/* What a row accepts, for error messages and the docs. */
static void describe_expected(const struct setting *st, char *buf, size_t size)
{
    char lo[24], hi[24];
    switch (st->type) {
    case ST_BOOL:
        snprintf(buf, size, "expected true or false");
        break;
    case ST_UINT:
        snprintf(buf, size, "expected a whole number from %.0f to %.0f", st->min, st->max);
        break;
    case ST_DOUBLE:
        snprintf(buf, size, "expected a number from %g to %g", st->min, st->max);
        break;
    case ST_DURATION:
        sg__duration_format((int64_t)st->min, lo, sizeof lo);
        sg__duration_format((int64_t)st->max, hi, sizeof hi);
        snprintf(buf, size, "expected a duration like 90s, 15m, 24h or 7d, from %s to %s", lo, hi);
        break;
    case ST_ENUM: {
        size_t used = (size_t)snprintf(buf, size, "expected one of");
        for (int i = 0; st->names[i] && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s %s", i ? "," : "", st->names[i]);
        break;
    }
    case ST_STRING:
        snprintf(buf, size, "expected a string of at most %.0f bytes", st->max);
        break;
    case ST_RATES:
        snprintf(buf, size, "expected a list of rates like [\"2/1m\", \"20/1h\"] ([] for no limit)");
        break;
    }
}

/* ---- the load context and errors ------------------------------------------------------- */

struct load_ctx {
    struct sg_config *cfg; /* the work copy; the caller's cfg changes only on success */
    const char *name;
    bool failed;
    int rc;
    char err[sizeof ((struct sg_config *)0)->errmsg];
    char path[MAX_PATH_TEXT + 1]; /* the dotted name being parsed, for messages */
    size_t plen;
    size_t rel; /* where the tenant-relative part of path starts (0 at the top) */
    const char *tenant;
    size_t tenant_len;
    int base_line[NROWS][IDX_STRIDE]; /* where this file set each default; 0 not set */
};

static void fail(struct load_ctx *ctx, int rc, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Keeps the first error: later ones are usually its consequences. */
static void fail(struct load_ctx *ctx, int rc, int line, const char *fmt, ...)
{
    if (ctx->failed)
        return;
    ctx->failed = true;
    ctx->rc = rc;
    int used = line > 0 ? snprintf(ctx->err, sizeof ctx->err, "%s:%d: ", ctx->name, line)
                        : snprintf(ctx->err, sizeof ctx->err, "%s: ", ctx->name);
    if (used < 0 || (size_t)used >= sizeof ctx->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err + used, sizeof ctx->err - (size_t)used, fmt, ap);
    va_end(ap);
}

/* Quotes a scalar for a message, escaped and cut short. */
static void quote_text(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    const size_t keep = 48;
    buf[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == keep) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* What a node holds, for "got ...". */
static void describe_node(struct fy_node *n, char *buf, size_t size)
{
    if (sg__yaml_is_null(n))
        snprintf(buf, size, "nothing");
    else if (fy_node_is_alias(n))
        snprintf(buf, size, "an alias");
    else if (fy_node_is_mapping(n))
        snprintf(buf, size, "a mapping");
    else if (fy_node_is_sequence(n))
        snprintf(buf, size, "a list");
    else {
        size_t len = 0;
        const char *s = fy_node_get_scalar(n, &len);
        quote_text(s ? s : "", s ? len : 0, buf, size);
    }
}

static void fail_value(struct load_ctx *ctx, const struct setting *st, int line,
                       struct fy_node *v)
{
    char want[160], got[80];
    describe_expected(st, want, sizeof want);
    describe_node(v, got, sizeof got);
    fail(ctx, SG_ECONFIG, line, "%s: %s, got %s", ctx->path, want, got);
}

/* Appends ".seg" (or "seg" at the start) to the path. */
static bool path_push(struct load_ctx *ctx, const char *seg, size_t n, int line)
{
    size_t need = (ctx->plen ? 1 : 0) + n;
    if (ctx->plen + need > MAX_PATH_TEXT) {
        fail(ctx, SG_ECONFIG, line, "%.*s...: setting name too long", 64, ctx->path);
        return false;
    }
    if (ctx->plen)
        ctx->path[ctx->plen++] = '.';
    memcpy(ctx->path + ctx->plen, seg, n);
    ctx->plen += n;
    ctx->path[ctx->plen] = '\0';
    return true;
}

/* ---- matching names against the table -------------------------------------------------- */

enum match { M_NONE, M_PREFIX, M_LEAF };

/* Does rel name the row (M_LEAF, *idx the channel or reason '*' stood for), or start its name
 * at a dot (M_PREFIX)? */
static enum match match_row(const struct setting *st, const char *rel, size_t n, int *idx)
{
    const char *p = st->name;
    size_t i = 0;
    *idx = 0;
    for (;;) {
        const char *pe = strchr(p, '.');
        size_t pn = pe ? (size_t)(pe - p) : strlen(p);
        size_t j = i;
        while (j < n && rel[j] != '.')
            j++;
        if (pn == 1 && p[0] == '*') {
            int k = st->home == SH_CHANNEL ? sg__channel_parse(rel + i, j - i)
                                           : sg__reason_parse(rel + i, j - i);
            if (k < 0)
                return M_NONE;
            *idx = k;
        } else if (pn != j - i || memcmp(p, rel + i, pn) != 0) {
            return M_NONE;
        }
        if (j == n)
            return pe ? M_PREFIX : M_LEAF;
        if (!pe)
            return M_NONE;
        p = pe + 1;
        i = j + 1;
    }
}

/* Classifies the path parsed so far. At the top, "tenants" is a prefix of its own. */
static enum match lookup(const struct load_ctx *ctx, int *row, int *idx)
{
    const char *rel = ctx->path + ctx->rel;
    size_t n = ctx->plen - ctx->rel;
    enum match best = M_NONE;
    if (!ctx->tenant && text_is(rel, n, "tenants"))
        return M_PREFIX;
    for (size_t r = 0; r < NROWS; r++) {
        if (ctx->tenant && settings[r].home == SH_CONFIG)
            continue; /* process-wide settings have no per-tenant meaning */
        int k;
        enum match m = match_row(&settings[r], rel, n, &k);
        if (m == M_LEAF) {
            *row = (int)r;
            *idx = k;
            return M_LEAF;
        }
        if (m == M_PREFIX)
            best = M_PREFIX;
    }
    return best;
}

/* ---- applying one setting -------------------------------------------------------------- */

static int parse_rates_node(struct load_ctx *ctx, const struct setting *st, struct fy_node *v,
                            int line, struct sg_gcra_rule *r)
{
    memset(r, 0, sizeof *r);
    if (!v || !fy_node_is_sequence(v) || fy_node_is_alias(v)) {
        fail_value(ctx, st, line, v);
        return -1;
    }
    int count = fy_node_sequence_item_count(v);
    if (count > SG_GCRA_MAX_WINDOWS) {
        fail(ctx, SG_ECONFIG, line, "%s: at most %d rates, got %d", ctx->path,
             SG_GCRA_MAX_WINDOWS, count);
        return -1;
    }
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        size_t len = 0;
        const char *s = NULL;
        int iline = sg__yaml_node_line(item);
        if (fy_node_is_scalar(item) && !fy_node_is_alias(item))
            s = fy_node_get_scalar(item, &len);
        if (!s || r->nwindows == SG_GCRA_MAX_WINDOWS ||
            parse_rate(s, len, &r->w[r->nwindows]) != 0) {
            char got[80];
            describe_node(item, got, sizeof got);
            fail(ctx, SG_ECONFIG, iline ? iline : line,
                 "%s: expected a rate N/DURATION like \"2/1m\" (N from 1 to %u, DURATION from "
                 "1s to 366d), got %s",
                 ctx->path, MAX_RATE_N, got);
            return -1;
        }
        r->nwindows++;
    }
    int dup = sort_windows(r);
    if (dup >= 0) {
        char per[24];
        sg__duration_format(r->w[dup].period_s, per, sizeof per);
        fail(ctx, SG_ECONFIG, line, "%s: two rates for the same period %s", ctx->path, per);
        return -1;
    }
    return 0;
}

static int add_override(struct load_ctx *ctx, int row, int idx, int line, union value *v)
{
    struct sg_config *cfg = ctx->cfg;
    if (cfg->noverrides >= MAX_OVERRIDES) {
        fail(ctx, SG_ECONFIG, line, "%s: more than %d tenant settings", ctx->path, MAX_OVERRIDES);
        return -1;
    }
    if (cfg->noverrides == cfg->overrides_cap) {
        size_t cap = cfg->overrides_cap ? cfg->overrides_cap * 2 : 16;
        struct sg_config_override *p = sg__realloc(cfg->overrides, cap * sizeof *p);
        if (!p)
            goto nomem;
        cfg->overrides = p;
        cfg->overrides_cap = cap;
    }
    struct sg_config_override *o = &cfg->overrides[cfg->noverrides];
    if (!(o->tenant = sg__strndup(ctx->tenant, ctx->tenant_len)))
        goto nomem;
    o->row = (uint16_t)row;
    o->idx = (uint16_t)idx;
    o->line = line;
    o->v = *v;
    cfg->noverrides++;
    return 0;
nomem:
    fail(ctx, SG_ENOMEM, line, "out of memory");
    return -1;
}

/* A leaf: parse the value by the row's type and set it (defaults) or record it (tenant). */
static int set_leaf(struct load_ctx *ctx, int row, int idx, struct fy_node *v, int key_line)
{
    const struct setting *st = &settings[row];
    /* A list is best placed at its key; a scalar where it stands (it may be lines below). */
    int line = v && fy_node_is_scalar(v) ? sg__yaml_node_line(v) : 0;
    if (!line)
        line = key_line;
    union value val;
    memset(&val, 0, sizeof val);
    if (v && fy_node_is_alias(v)) {
        fail(ctx, SG_ECONFIG, line, "%s: YAML aliases are not supported", ctx->path);
        return -1;
    }
    if (st->type == ST_RATES) {
        if (parse_rates_node(ctx, st, v, line, &val.rates) != 0)
            return -1;
    } else if (st->type == ST_STRING && sg__yaml_is_null(v)) {
        val.s = NULL;
    } else {
        size_t len = 0;
        const char *s = v && fy_node_is_scalar(v) && !sg__yaml_is_null(v) ? fy_node_get_scalar(v, &len) : NULL;
        int rc = s ? parse_scalar(st, s, len, &val) : 1;
        if (rc == SG_ENOMEM) {
            fail(ctx, SG_ENOMEM, line, "out of memory");
            return -1;
        }
        if (rc != 0) {
            fail_value(ctx, st, line, v);
            return -1;
        }
    }
    if (ctx->tenant)
        return add_override(ctx, row, idx, line, &val);
    int *seen = &ctx->base_line[row][idx];
    if (*seen) {
        if (st->type == ST_STRING)
            sg__free(val.s);
        fail(ctx, SG_ECONFIG, line, "%s: set twice (first on line %d)", ctx->path, *seen);
        return -1;
    }
    *seen = line;
    store_value(st, target_of(st, idx, ctx->cfg, &ctx->cfg->base), &val);
    return 0;
}

/* ---- walking the document -------------------------------------------------------------- */

static int walk_mapping(struct load_ctx *ctx, struct fy_node *map, int line);

/* A tenant id: a whole key under "tenants", or one segment of a dotted key. */
static bool check_tenant_id(struct load_ctx *ctx, const char *s, size_t n, int line)
{
    if (n == 0 || n > MAX_TENANT_ID) {
        fail(ctx, SG_ECONFIG, line, "tenants: a tenant id is 1 to %d bytes, got %zu",
             MAX_TENANT_ID, n);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            fail(ctx, SG_ECONFIG, line, "tenants: a tenant id has no control characters");
            return false;
        }
    return true;
}

/* The id was just pushed: it is the path's last n bytes, which stay put while we descend. */
static void enter_tenant(struct load_ctx *ctx, size_t n)
{
    ctx->tenant = ctx->path + ctx->plen - n;
    ctx->tenant_len = n;
    ctx->rel = ctx->plen + 1;
}

static int walk_pair(struct load_ctx *ctx, struct fy_node *key, struct fy_node *val, int up_line)
{
    int line = sg__yaml_node_line(key);
    if (!line)
        line = up_line;
    size_t klen = 0;
    const char *k = key && fy_node_is_scalar(key) && !fy_node_is_alias(key)
                        ? fy_node_get_scalar(key, &klen)
                        : NULL;
    if (!k) {
        char got[80];
        describe_node(key, got, sizeof got);
        fail(ctx, SG_ECONFIG, line, "%s%sexpected a setting name, got %s", ctx->path,
             ctx->plen ? ": " : "", got);
        return -1;
    }

    enum match m = M_PREFIX;
    int row = -1, idx = 0;
    size_t plen0 = ctx->plen;
    if (!ctx->tenant && text_is(ctx->path, ctx->plen, "tenants")) {
        /* A key right under "tenants" is a whole tenant id, dots and all ("forum.example"). */
        if (!check_tenant_id(ctx, k, klen, line) || !path_push(ctx, k, klen, line))
            return -1;
        enter_tenant(ctx, klen);
    } else {
        for (size_t i = 0; i <= klen;) {
            const char *dot = memchr(k + i, '.', klen - i);
            size_t n = dot ? (size_t)(dot - (k + i)) : klen - i;
            if (n == 0) {
                fail(ctx, SG_ECONFIG, line, "%.*s%s\"%.*s\": empty part in a setting name",
                     (int)plen0, ctx->path, plen0 ? ": " : "", (int)(klen > 200 ? 200 : klen), k);
                return -1;
            }
            for (size_t j = 0; j < n; j++)
                if ((unsigned char)k[i + j] < 0x20 || k[i + j] == 0x7f) {
                    fail(ctx, SG_ECONFIG, line, "%.*s%ssetting names have no control characters",
                         (int)plen0, ctx->path, plen0 ? ": " : "");
                    return -1;
                }
            if (!path_push(ctx, k + i, n, line))
                return -1;
            i += n + 1;
            if (m == M_LEAF) {
                m = M_NONE; /* "hold.x": the leaf has no children */
                break;
            }
            if (!ctx->tenant && ctx->rel == 0 && text_is(ctx->path, ctx->plen, "tenants") &&
                i <= klen) {
                /* tenants.ID.… in one key: the id is one segment here. */
                dot = memchr(k + i, '.', klen - i);
                n = dot ? (size_t)(dot - (k + i)) : klen - i;
                if (!check_tenant_id(ctx, k + i, n, line) || !path_push(ctx, k + i, n, line))
                    return -1;
                enter_tenant(ctx, n);
                i += n + 1;
                m = M_PREFIX;
                continue;
            }
            m = lookup(ctx, &row, &idx);
            if (m == M_NONE)
                break;
        }
    }
    if (m == M_NONE) {
        fail(ctx, SG_ECONFIG, line, "%s: unknown setting", ctx->path);
        return -1;
    }
    if (m == M_LEAF)
        return set_leaf(ctx, row, idx, val, line);
    if (sg__yaml_is_null(val))
        return 0; /* "channels:" with nothing under it sets nothing */
    if (fy_node_is_alias(val)) {
        fail(ctx, SG_ECONFIG, line, "%s: YAML aliases are not supported", ctx->path);
        return -1;
    }
    if (!fy_node_is_mapping(val)) {
        char got[80];
        describe_node(val, got, sizeof got);
        fail(ctx, SG_ECONFIG, sg__yaml_node_line(val) ? sg__yaml_node_line(val) : line,
             "%s: expected a mapping of settings, got %s", ctx->path, got);
        return -1;
    }
    return walk_mapping(ctx, val, line);
}

/* Depth is bounded by the table: only known prefixes are descended into. */
static int walk_mapping(struct load_ctx *ctx, struct fy_node *map, int line)
{
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        size_t plen = ctx->plen, rel = ctx->rel, tlen = ctx->tenant_len;
        const char *tenant = ctx->tenant;
        int rc = walk_pair(ctx, fy_node_pair_key(pair), fy_node_pair_value(pair), line);
        ctx->plen = plen;
        ctx->path[plen] = '\0';
        ctx->rel = rel;
        ctx->tenant = tenant;
        ctx->tenant_len = tlen;
        if (rc)
            return rc;
    }
    return 0;
}

static void discard_diag(struct fy_diag *diag, void *user, const char *buf, size_t len) {}

static void fail_syntax(struct load_ctx *ctx, struct fy_diag *diag)
{
    void *it = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
    if (e && e->msg)
        fail(ctx, SG_ECONFIG, e->line > 0 ? e->line : 0, "invalid YAML: %s", e->msg);
    else
        fail(ctx, SG_ECONFIG, 0, "invalid YAML");
}

/* A config is UTF-8 text without control characters and without YAML directives (why: see
 * util/yamltext.h). */
static bool check_text(struct load_ctx *ctx, const char *yaml, size_t len)
{
    char msg[96];
    int line = sg__yaml_text_check(yaml, len, msg, sizeof msg);
    if (line == 0)
        return true;
    fail(ctx, SG_ECONFIG, line, "%s", msg);
    return false;
}

/* Parses the one YAML document in yaml[0..len) and applies it to ctx->cfg. */
static void apply_yaml(struct load_ctx *ctx, const char *yaml, size_t len)
{
    if (len == 0 || !check_text(ctx, yaml, len))
        return;
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = discard_diag;
    dcfg.user = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag) {
        fail(ctx, SG_ENOMEM, 0, "out of memory");
        return;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pcfg = {
        .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_JSON_NONE,
        .diag = diag,
    };
    struct fy_parser *fyp = fy_parser_create(&pcfg);
    if (!fyp || fy_parser_set_string(fyp, yaml, len) != 0) {
        fail(ctx, SG_ENOMEM, 0, "out of memory");
        goto out;
    }
    struct fy_document *doc = fy_parse_load_document(fyp);
    if (!doc) {
        if (fy_diag_got_error(diag))
            fail_syntax(ctx, diag);
        goto out; /* else an empty stream: comments only */
    }
    struct fy_node *root = fy_document_root(doc);
    if (!sg__yaml_is_null(root)) {
        if (fy_node_is_mapping(root) && !fy_node_is_alias(root)) {
            walk_mapping(ctx, root, 1);
        } else {
            char got[80];
            describe_node(root, got, sizeof got);
            fail(ctx, SG_ECONFIG, sg__yaml_node_line(root), "expected a mapping of settings, got %s", got);
        }
    }
    fy_parse_document_destroy(fyp, doc);
    if (ctx->failed)
        goto out;
    /* A second document would be silently ignored by a reader of the first: refuse it. */
    struct fy_document *next = fy_parse_load_document(fyp);
    if (next) {
        struct fy_document_state *ds = fy_document_get_document_state(next);
        const struct fy_mark *mk = ds ? fy_document_state_start_mark(ds) : NULL;
        fail(ctx, SG_ECONFIG, mk ? mk->line + 1 : 0,
             "a second YAML document; put every setting in one");
        fy_parse_document_destroy(fyp, next);
    } else if (fy_diag_got_error(diag)) {
        fail_syntax(ctx, diag);
    }
out:
    if (fyp)
        fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
}

/* ---- tenants --------------------------------------------------------------------------- */

/* The dump's order: channel by channel, each in table order, then the scores. */
static unsigned dump_order(const struct sg_config_override *o)
{
    if (settings[o->row].home == SH_SCORE)
        return SG_CH_COUNT * NROWS + o->idx;
    return o->idx * NROWS + o->row;
}

static int cmp_override(const void *a, const void *b)
{
    const struct sg_config_override *x = a, *y = b;
    int c = strcmp(x->tenant, y->tenant);
    if (c)
        return c;
    unsigned ox = dump_order(x), oy = dump_order(y);
    if (ox != oy)
        return ox < oy ? -1 : 1;
    return (x->line > 0) - (y->line > 0); /* an earlier load's value first */
}

static bool same_slot(const struct sg_config_override *x, const struct sg_config_override *y)
{
    return x->row == y->row && x->idx == y->idx && strcmp(x->tenant, y->tenant) == 0;
}

static void tenant_path(const char *tenant, const struct setting *st, int idx, char *buf,
                        size_t size)
{
    const char *star = strchr(st->name, '*');
    const char *word = st->home == SH_CHANNEL ? sg__channel_name(idx) : sg__reason_name(idx);
    snprintf(buf, size, "tenants.%s.%.*s%s%s", tenant, (int)(star - st->name), st->name, word,
             star + 1);
}

/* Sorts the overrides, keeps the newest of each tenant's setting and refuses one set twice
 * in this load. */
static void merge_overrides(struct load_ctx *ctx)
{
    struct sg_config *cfg = ctx->cfg;
    if (cfg->noverrides == 0)
        return;
    qsort(cfg->overrides, cfg->noverrides, sizeof cfg->overrides[0], cmp_override);
    size_t out = 0;
    for (size_t i = 0; i < cfg->noverrides; i++) {
        struct sg_config_override *o = &cfg->overrides[i];
        if (out > 0 && same_slot(&cfg->overrides[out - 1], o)) {
            struct sg_config_override *prev = &cfg->overrides[out - 1];
            if (prev->line > 0 && !ctx->failed) {
                char name[MAX_TENANT_ID + 128];
                tenant_path(o->tenant, &settings[o->row], o->idx, name, sizeof name);
                int first = prev->line < o->line ? prev->line : o->line;
                int last = prev->line < o->line ? o->line : prev->line;
                fail(ctx, SG_ECONFIG, last, "%s: set twice (first on line %d)", name, first);
            }
            sg__free(prev->tenant);
            *prev = *o; /* the newer value wins */
            continue;
        }
        cfg->overrides[out++] = *o;
    }
    cfg->noverrides = out;
}

static void free_tenants(struct sg_config *cfg)
{
    for (size_t i = 0; i < cfg->ntenants; i++)
        sg__free(cfg->tenants[i].tenant);
    sg__free(cfg->tenants);
    cfg->tenants = NULL;
    cfg->ntenants = 0;
}

/* Each tenant's policy is the defaults' with its overrides on top, so a tenant follows every
 * default it did not override. Overrides are sorted by tenant, so tenants come out sorted. */
static int rebuild_tenants(struct sg_config *cfg)
{
    free_tenants(cfg);
    size_t n = 0;
    for (size_t i = 0; i < cfg->noverrides; i++)
        if (i == 0 || strcmp(cfg->overrides[i].tenant, cfg->overrides[i - 1].tenant) != 0)
            n++;
    if (n == 0)
        return 0;
    if (!(cfg->tenants = sg__calloc(n, sizeof *cfg->tenants)))
        return SG_ENOMEM;
    struct sg_tenant_policy *tp = NULL;
    for (size_t i = 0; i < cfg->noverrides; i++) {
        struct sg_config_override *o = &cfg->overrides[i];
        if (!tp || strcmp(tp->tenant, o->tenant) != 0) {
            tp = &cfg->tenants[cfg->ntenants];
            if (!(tp->tenant = sg__strdup(o->tenant)))
                return SG_ENOMEM;
            cfg->ntenants++;
            tp->policy = cfg->base;
        }
        const struct setting *st = &settings[o->row];
        union value v = o->v;
        store_value(st, target_of(st, o->idx, cfg, &tp->policy), &v);
    }
    return 0;
}

static int row_named(const char *name)
{
    for (size_t r = 0; r < NROWS; r++)
        if (strcmp(settings[r].name, name) == 0)
            return (int)r;
    return -1;
}

/* hold must not be above reject, for the defaults and for every tenant. */
static void check_thresholds(struct load_ctx *ctx)
{
    struct sg_config *cfg = ctx->cfg;
    int hold = row_named("channels.*.hold"), reject = row_named("channels.*.reject");
    int base_line[SG_CH_COUNT];
    for (int c = 0; c < SG_CH_COUNT; c++) {
        int a = ctx->base_line[hold][c], b = ctx->base_line[reject][c];
        base_line[c] = a > b ? a : b;
        const struct sg_channel_policy *cp = &cfg->base.ch[c];
        if (cp->hold_at > cp->reject_at) {
            fail(ctx, SG_ECONFIG, base_line[c],
                 "channels.%s: hold (%g) must not be above reject (%g)", sg__channel_name(c),
                 cp->hold_at, cp->reject_at);
            return;
        }
    }
    for (size_t t = 0, o = 0; t < cfg->ntenants; t++) {
        int tline[SG_CH_COUNT] = {0};
        for (; o < cfg->noverrides && strcmp(cfg->overrides[o].tenant, cfg->tenants[t].tenant) == 0;
             o++) {
            const struct sg_config_override *ov = &cfg->overrides[o];
            if ((ov->row == hold || ov->row == reject) && ov->line > tline[ov->idx])
                tline[ov->idx] = ov->line;
        }
        for (int c = 0; c < SG_CH_COUNT; c++) {
            const struct sg_channel_policy *cp = &cfg->tenants[t].policy.ch[c];
            if (cp->hold_at > cp->reject_at) {
                fail(ctx, SG_ECONFIG, tline[c] ? tline[c] : base_line[c],
                     "tenants.%s.channels.%s: hold (%g) must not be above reject (%g)",
                     cfg->tenants[t].tenant, sg__channel_name(c), cp->hold_at, cp->reject_at);
                return;
            }
        }
    }
}

/* ---- lifecycle ------------------------------------------------------------------------- */

/* Frees what cfg owns, not cfg itself. */
static void release(struct sg_config *cfg)
{
    free_tenants(cfg);
    for (size_t i = 0; i < cfg->noverrides; i++)
        sg__free(cfg->overrides[i].tenant);
    sg__free(cfg->overrides);
    sg__free(cfg->disposable_file);
    sg__free(cfg->rules_local_dir);
    cfg->overrides = NULL;
    cfg->noverrides = cfg->overrides_cap = 0;
    cfg->disposable_file = NULL;
    cfg->rules_local_dir = NULL;
}

void sg_config_free(struct sg_config *cfg)
{
    if (!cfg)
        return;
    release(cfg);
    sg__free(cfg);
}

int sg__config_copy(const struct sg_config *src, struct sg_config **out)
{
    *out = NULL;
    struct sg_config *c = sg__malloc(sizeof *c);
    if (!c)
        return SG_ENOMEM;
    *c = *src;
    c->tenants = NULL;
    c->ntenants = 0;
    c->overrides = NULL;
    c->noverrides = c->overrides_cap = 0;
    c->disposable_file = NULL;
    c->rules_local_dir = NULL;
    if (src->disposable_file && !(c->disposable_file = sg__strdup(src->disposable_file)))
        goto nomem;
    if (src->rules_local_dir && !(c->rules_local_dir = sg__strdup(src->rules_local_dir)))
        goto nomem;
    if (src->ntenants) {
        if (!(c->tenants = sg__calloc(src->ntenants, sizeof *c->tenants)))
            goto nomem;
        for (; c->ntenants < src->ntenants; c->ntenants++) {
            struct sg_tenant_policy *tp = &c->tenants[c->ntenants];
            *tp = src->tenants[c->ntenants];
            if (!(tp->tenant = sg__strdup(tp->tenant)))
                goto nomem;
        }
    }
    if (src->noverrides) {
        if (!(c->overrides = sg__calloc(src->noverrides, sizeof *c->overrides)))
            goto nomem;
        c->overrides_cap = src->noverrides;
        for (; c->noverrides < src->noverrides; c->noverrides++) {
            struct sg_config_override *o = &c->overrides[c->noverrides];
            *o = src->overrides[c->noverrides];
            if (!(o->tenant = sg__strdup(o->tenant)))
                goto nomem;
        }
    }
    *out = c;
    return 0;
nomem:
    sg_config_free(c);
    return SG_ENOMEM;
}

static int apply_defaults(struct sg_config *cfg)
{
    for (size_t r = 0; r < NROWS; r++) {
        const struct setting *st = &settings[r];
        int count = st->home == SH_CHANNEL ? SG_CH_COUNT : st->home == SH_SCORE ? SG_REASON_COUNT : 1;
        for (int i = 0; i < count; i++) {
            union value v;
            memset(&v, 0, sizeof v);
            int rc = 0;
            if (st->home == SH_SCORE)
                v.d = sg__reason_default_score(i);
            else if (st->type == ST_RATES)
                rc = parse_rates_text(st->def, &v.rates) ? SG_ECONFIG : 0;
            else if ((rc = parse_scalar(st, st->def, strlen(st->def), &v)) == 1)
                rc = SG_ECONFIG; /* a bad default in the table: a bug the tests catch */
            if (rc)
                return rc;
            store_value(st, target_of(st, i, cfg, &cfg->base), &v);
        }
    }
    return 0;
}

int sg_config_load_string(struct sg_config *cfg, const char *name, const char *yaml, size_t len)
{
    if (!cfg || (!yaml && len))
        return SG_EINVAL;
    struct load_ctx *ctx = sg__calloc(1, sizeof *ctx);
    if (!ctx)
        return SG_ENOMEM;
    ctx->name = name ? name : "<string>";
    if (len > MAX_INPUT) {
        fail(ctx, SG_ECONFIG, 0, "larger than %zu MiB", MAX_INPUT >> 20);
    } else {
        int rc = sg__config_copy(cfg, &ctx->cfg);
        if (rc)
            fail(ctx, rc, 0, "out of memory");
    }
    if (!ctx->failed)
        apply_yaml(ctx, yaml, len);
    if (!ctx->failed)
        merge_overrides(ctx);
    if (!ctx->failed && rebuild_tenants(ctx->cfg) != 0)
        fail(ctx, SG_ENOMEM, 0, "out of memory");
    if (!ctx->failed)
        check_thresholds(ctx);

    int rc = 0;
    if (ctx->failed) {
        rc = ctx->rc;
        memcpy(cfg->errmsg, ctx->err, sizeof cfg->errmsg);
        sg_config_free(ctx->cfg);
    } else {
        for (size_t i = 0; i < ctx->cfg->noverrides; i++)
            ctx->cfg->overrides[i].line = 0;
        release(cfg);
        *cfg = *ctx->cfg;
        cfg->errmsg[0] = '\0';
        sg__free(ctx->cfg);
    }
    sg__free(ctx);
    return rc;
}

int sg_config_load_file(struct sg_config *cfg, const char *path)
{
    if (!cfg || !path)
        return SG_EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(cfg->errmsg, sizeof cfg->errmsg, "%s: cannot open: %s", path, strerror(errno));
        return SG_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap > MAX_INPUT) {
                snprintf(cfg->errmsg, sizeof cfg->errmsg, "%s: larger than %zu MiB", path,
                         MAX_INPUT >> 20);
                rc = SG_ECONFIG;
                break;
            }
            cap = cap ? cap * 2 : 8192;
            char *p = sg__realloc(buf, cap + 1);
            if (!p) {
                rc = SG_ENOMEM;
                snprintf(cfg->errmsg, sizeof cfg->errmsg, "%s: out of memory", path);
                break;
            }
            buf = p;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(cfg->errmsg, sizeof cfg->errmsg, "%s: cannot read: %s", path,
                         strerror(errno));
                rc = SG_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        rc = sg_config_load_string(cfg, path, buf, len);
    sg__free(buf);
    return rc;
}

int sg_config_new(struct sg_config **out)
{
    *out = NULL;
    struct sg_config *cfg = sg__calloc(1, sizeof *cfg);
    if (!cfg)
        return SG_ENOMEM;
    int rc = apply_defaults(cfg);
    if (rc == 0)
        rc = sg_config_load_string(cfg, BUILTIN_NAME, sg__default_config_yaml,
                                   (size_t)(sg__default_config_yaml_end - sg__default_config_yaml));
    if (rc) {
        sg_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

const char *sg_config_errmsg(const struct sg_config *cfg) { return cfg ? cfg->errmsg : ""; }

const struct sg_policy *sg__config_policy(const struct sg_config *cfg, const char *tenant)
{
    if (!tenant || cfg->ntenants == 0)
        return &cfg->base;
    size_t lo = 0, hi = cfg->ntenants;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(tenant, cfg->tenants[mid].tenant);
        if (c == 0)
            return &cfg->tenants[mid].policy;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return &cfg->base;
}

/* ---- dump ------------------------------------------------------------------------------ */

/* A YAML double-quoted string with everything outside printable ASCII escaped: YAML treats
 * some code points (NEL, LS, PS) as line breaks inside quotes, and escapes round-trip. */
static void yaml_quote(struct sg_strbuf *sb, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    sg__sb_addc(sb, '"');
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f) {
            if (c == '"' || c == '\\')
                sg__sb_addc(sb, '\\');
            sg__sb_addc(sb, (char)c);
            i++;
            continue;
        }
        unsigned cp = c, len = 1;
        if (c >= 0xc2 && c <= 0xdf)
            cp = c & 0x1f, len = 2;
        else if (c >= 0xe0 && c <= 0xef)
            cp = c & 0x0f, len = 3;
        else if (c >= 0xf0 && c <= 0xf4)
            cp = c & 0x07, len = 4;
        if (len > 1 && i + len <= n) {
            for (unsigned k = 1; k < len; k++) {
                if ((s[i + k] & 0xc0) != 0x80) {
                    len = 1;
                    break;
                }
                cp = (cp << 6) | (s[i + k] & 0x3f);
            }
        } else {
            len = 1;
        }
        if (len == 1)
            cp = c; /* an ASCII control or a stray byte: keep its value */
        if (cp <= 0xffff)
            sg__sb_printf(sb, "\\u%04x", cp);
        else
            sg__sb_printf(sb, "\\U%08x", cp);
        i += len;
    }
    sg__sb_addc(sb, '"');
}

static void format_value(struct sg_strbuf *sb, const struct setting *st, const void *t)
{
    char buf[32];
    switch (st->type) {
    case ST_BOOL:
        sg__sb_adds(sb, *(const bool *)t ? "true" : "false");
        break;
    case ST_UINT:
        sg__sb_printf(sb, "%u", (unsigned)*(const uint32_t *)t);
        break;
    case ST_DOUBLE:
        sg__sb_json_num(sb, *(const double *)t);
        break;
    case ST_DURATION:
        sg__duration_format(*(const int64_t *)t, buf, sizeof buf);
        sg__sb_adds(sb, buf);
        break;
    case ST_ENUM:
        sg__sb_adds(sb, st->names[enum_value(st, t)]);
        break;
    case ST_STRING: {
        const char *s = *(char *const *)t;
        yaml_quote(sb, s ? s : "", s ? strlen(s) : 0);
        break;
    }
    case ST_RATES: {
        const struct sg_gcra_rule *r = t;
        sg__sb_addc(sb, '[');
        for (int i = 0; i < r->nwindows; i++) {
            sg__duration_format(r->w[i].period_s, buf, sizeof buf);
            sg__sb_printf(sb, "%s\"%u/%s\"", i ? ", " : "", (unsigned)r->w[i].limit, buf);
        }
        sg__sb_addc(sb, ']');
        break;
    }
    }
}

/* Writes nested YAML from a run of dotted names: keys shared with the previous name are not
 * repeated, so rows with a common prefix must come one after the other. */
struct emitter {
    struct sg_strbuf *sb;
    char prev[MAX_PATH_TEXT + MAX_TENANT_ID * 2];
    size_t prev_off[16];
    size_t nprev;
};

/* segs holds nseg NUL-terminated names back to back. */
static void emit(struct emitter *em, const char *segs, size_t nseg, const char *help,
                 const struct setting *st, const void *t)
{
    size_t off[16], common = 0;
    const char *p = segs;
    if (nseg == 0 || nseg > 16)
        return; /* row_segments ran out of room: cannot happen with the table's names */
    for (size_t i = 0; i < nseg && i < 16; i++) {
        off[i] = (size_t)(p - segs);
        p += strlen(p) + 1;
    }
    while (common + 1 < nseg && common + 1 < em->nprev &&
           strcmp(segs + off[common], em->prev + em->prev_off[common]) == 0)
        common++;
    /* A blank line before each new top-level section, channel and tenant. */
    if (em->nprev > 0 && common <= 1 && common + 1 < nseg)
        sg__sb_addc(em->sb, '\n');
    for (size_t d = common; d + 1 < nseg; d++)
        sg__sb_printf(em->sb, "%*s%s:\n", (int)(2 * d), "", segs + off[d]);
    size_t d = nseg - 1;
    if (help)
        sg__sb_printf(em->sb, "%*s# %s\n", (int)(2 * d), "", help);
    sg__sb_printf(em->sb, "%*s%s: ", (int)(2 * d), "", segs + off[d]);
    format_value(em->sb, st, t);
    sg__sb_addc(em->sb, '\n');
    size_t used = (size_t)(p - segs);
    if (used <= sizeof em->prev) {
        memcpy(em->prev, segs, used);
        memcpy(em->prev_off, off, sizeof off);
        em->nprev = nseg;
    } else {
        em->nprev = 0;
    }
}

/* Splits a row's name into segments, '*' replaced by the channel or reason name, after an
 * optional first segments prefix. Returns the segment count. */
static size_t row_segments(const struct setting *st, int idx, const char *prefix, size_t nprefix,
                           size_t prefix_len, char *out, size_t size)
{
    size_t o = 0, n = nprefix;
    if (prefix_len > size)
        return 0;
    memcpy(out, prefix, prefix_len);
    o = prefix_len;
    for (const char *p = st->name; *p;) {
        const char *e = strchr(p, '.');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *seg = p;
        if (len == 1 && *p == '*') {
            seg = st->home == SH_CHANNEL ? sg__channel_name(idx) : sg__reason_name(idx);
            len = strlen(seg);
        }
        if (o + len + 1 > size)
            return 0;
        memcpy(out + o, seg, len);
        o += len;
        out[o++] = '\0';
        n++;
        p = e ? e + 1 : p + strlen(p);
    }
    return n;
}

static const char *score_help(int reason, char *buf, size_t size)
{
    enum sg_action forced = sg__reason_forced_action(reason);
    if (forced == SG_ALLOW)
        snprintf(buf, size, "Score of %s.", sg__reason_name(reason));
    else
        snprintf(buf, size, "Score of %s (which also forces %s, whatever the total).",
                 sg__reason_name(reason), sg_action_name(forced));
    return buf;
}

int sg_config_dump(const struct sg_config *cfg, char **out)
{
    if (!cfg || !out)
        return SG_EINVAL;
    *out = NULL;
    struct sg_strbuf sb;
    sg__sb_init(&sb, MAX_DUMP);
    struct emitter *em = sg__calloc(1, sizeof *em);
    if (!em)
        return SG_ENOMEM;
    em->sb = &sb;
    char segs[MAX_PATH_TEXT + MAX_TENANT_ID * 2], help[160];
    struct sg_config *mut = (struct sg_config *)cfg; /* target_of is shared with loading */
    struct sg_policy *base = &mut->base;

    sg__sb_adds(&sb, "# sendguard configuration: every setting with its effective value.\n"
                     "# Tenants list only what they override; the rest follows the defaults.\n\n");
    for (size_t r = 0; r < NROWS; r++)
        if (settings[r].home == SH_CONFIG) {
            size_t n = row_segments(&settings[r], 0, "", 0, 0, segs, sizeof segs);
            emit(em, segs, n, settings[r].help, &settings[r], target_of(&settings[r], 0, mut, base));
        }
    for (int c = 0; c < SG_CH_COUNT; c++)
        for (size_t r = 0; r < NROWS; r++)
            if (settings[r].home == SH_CHANNEL) {
                size_t n = row_segments(&settings[r], c, "", 0, 0, segs, sizeof segs);
                emit(em, segs, n, settings[r].help, &settings[r],
                     target_of(&settings[r], c, mut, base));
            }
    const struct setting *score_row = &settings[row_named("scores.*")];
    for (int i = 0; i < SG_REASON_COUNT; i++) {
        size_t n = row_segments(score_row, i, "", 0, 0, segs, sizeof segs);
        emit(em, segs, n, score_help(i, help, sizeof help), score_row,
             target_of(score_row, i, mut, base));
    }

    /* Overrides are kept sorted by tenant and then in this dump's order. */
    struct sg_policy scratch; /* an override's value laid out as in a policy, for format_value */
    struct sg_strbuf key;
    sg__sb_init(&key, MAX_TENANT_ID * 8 + 16);
    for (size_t i = 0; i < cfg->noverrides; i++) {
        const struct sg_config_override *o = &cfg->overrides[i];
        const struct setting *st = &settings[o->row];
        sg__sb_clear(&key);
        sg__sb_add(&key, "tenants", 8); /* with its NUL: the first segment */
        yaml_quote(&key, o->tenant, strlen(o->tenant));
        sg__sb_addc(&key, '\0');
        if (key.failed)
            continue; /* cannot happen: ids are at most MAX_TENANT_ID bytes */
        size_t n = row_segments(st, o->idx, key.p, 2, key.len, segs, sizeof segs);
        union value v = o->v;
        void *t = target_of(st, o->idx, mut, &scratch);
        store_value(st, t, &v);
        if (n)
            emit(em, segs, n, NULL, st, t);
    }
    sg__sb_release(&key);
    sg__free(em);
    if (sb.failed) {
        sg__sb_release(&sb);
        return SG_ENOMEM;
    }
    *out = sg__sb_steal(&sb);
    return *out ? 0 : SG_ENOMEM;
}
