/* sendguard train: teaches the Bayes classifier from example messages (files, directories, or
 * JSONL files of message events; raw RFC 822 files too) and stores the counts in --db; with
 * --classify it judges messages against the stored model instead, one JSON line each (what the
 * content benchmark times). Progress on a terminal, a summary on stderr. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "progress.h"

/* The classifier and the content builder are library internals, not part of sendguard.h yet:
 * included by path because the CLI has only include/ on its include path. */
#include "../bayes/bayes.h"
#include "../bayes/seed.h"
#include "../engine/event.h"
#include "../store/store.h"
#include "../text/content.h"
#include "../util/arena.h"

/* engine/policy.h cannot be included from here (it needs src/ on the path). */
int sg__channel_parse(const char *s, size_t len);

#define MAX_INPUT_FILE ((size_t)1 << 30) /* a JSONL file of events may be large */
#define MAX_EVENT_LINE ((size_t)2 << 20)
/* Learned counts are written to the store every this many messages, which bounds the memory
 * of the pending increments on a large corpus. */
#define FLUSH_EVERY 5000
/* Writes per store transaction while training: fewer commits for the million-odd token rows
 * (SpamAssassin TRAIN into a file store: 5.7-8.8 s with the default 2,000, 4.5-5.1 s so). */
#define TRAIN_BATCH 100000

struct item {
    char *path;
    int cls; /* enum sg_bayes_class; -1 classify */
    long long size;
};

struct run {
    struct cli_env env;
    struct sg_bayes *bayes;
    struct sg_bayes_params params; /* as the model took them */
    struct sg_arena *arena;
    const char *tenant;
    unsigned flags;
    bool unlearn, classify, no_seed;
    size_t seeded[2]; /* seed mails learned first, by class */
    int email_channel;
    struct item *items;
    size_t nitems, cap;
    struct progress progress;
    long long bytes_done;
    unsigned long long messages[2], skipped, errors, classified, verdicts[4];
    double work_s; /* content + tokenize + classify, without reading and printing */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_error(struct run *r, const char *file, size_t line, const char *what)
{
    progress_clear(&r->progress);
    if (line)
        cli_error("%s:%zu: %s", file, line, what);
    else
        cli_error("%s: %s", file, what);
    r->errors++;
}

/* ---- gathering the inputs ---- */

static bool add_item(struct run *r, const char *path, int cls, long long size)
{
    if (r->nitems == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 256;
        struct item *n = realloc(r->items, ncap * sizeof *n);
        if (!n)
            return false;
        r->items = n;
        r->cap = ncap;
    }
    char *p = strdup(path);
    if (!p)
        return false;
    r->items[r->nitems++] = (struct item){p, cls, size};
    return true;
}

/* Every regular file under path (recursively, in name order, dot files skipped). */
static void gather(struct run *r, const char *path, int cls)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        report_error(r, path, 0, strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (!add_item(r, path, cls, (long long)st.st_size))
            report_error(r, path, 0, "out of memory");
        return;
    }
    char **names;
    long n = cli_list_dir(path, &names);
    if (n < 0) {
        report_error(r, path, 0, strerror(errno));
        return;
    }
    for (long i = 0; i < n; i++) {
        gather(r, names[i], cls);
        free(names[i]);
    }
    free(names);
}

static void gather_listed(void *ud, const char *path) { gather(ud, path, -1); }

/* File names, one a line, from file ("-": stdin). */
static void gather_list(struct run *r, const char *file)
{
    if (cli_each_listed(file, gather_listed, r) != 0)
        report_error(r, file, 0, strerror(errno));
}

/* ---- one message ---- */

static const char *const verdict_names[4] = {"spam", "ham", "unsure", "untrained"};

static void print_result(const char *file, size_t line, const char *id,
                         const struct sg_bayes_result *res, int verdict)
{
    fputs("{\"file\":", stdout);
    cli_json_str(stdout, file);
    if (line)
        printf(",\"line\":%zu", line);
    if (id) {
        fputs(",\"id\":", stdout);
        cli_json_str(stdout, id);
    }
    printf(",\"verdict\":\"%s\",\"probability\":%.6g,\"score\":%.3g,\"confident\":%s,"
           "\"tokens\":%u,\"used\":%u,\"class\":\"%s\",\"readings\":[%.6g,%.6g]}\n",
           verdict_names[verdict], res->probability, res->score, res->confident ? "true" : "false",
           res->tokens, res->tokens_used, res->tenant_class ? "tenant" : "global", res->p_all,
           res->p_words);
}

static void one_message(struct run *r, const struct sg_event *ev, const struct item *it,
                        size_t line)
{
    double t0 = mono_now();
    struct sg_content content;
    int rc = sg__content_build(r->arena, ev, &content);
    if (rc && rc != SG_ETOOBIG) { /* over a limit: the content holds what fitted */
        report_error(r, it->path, line, sg_strerror(rc));
        sg__arena_reset(r->arena);
        return;
    }
    if (r->classify) {
        struct sg_bayes_result res;
        rc = sg__bayes_classify(r->bayes, r->arena, r->tenant, &content, &res);
        r->work_s += mono_now() - t0;
        if (rc) {
            report_error(r, it->path, line, sg_strerror(rc));
        } else {
            int v = !res.trained ? 3 : res.probability >= res.cutoff ? 0
                                 : res.probability <= r->params.ham_cutoff  ? 1 : 2;
            r->verdicts[v]++;
            r->classified++;
            print_result(it->path, line, ev->id, &res, v);
        }
    } else {
        rc = r->unlearn ? sg__bayes_unlearn(r->bayes, r->arena, r->tenant, &content, it->cls, r->flags)
                        : sg__bayes_learn(r->bayes, r->arena, r->tenant, &content, it->cls, r->flags);
        r->work_s += mono_now() - t0;
        if (rc) {
            report_error(r, it->path, line, sg_strerror(rc));
        } else {
            r->messages[it->cls]++;
            if ((r->messages[0] + r->messages[1]) % FLUSH_EVERY == 0 &&
                (rc = sg__bayes_flush(r->bayes)) != 0)
                report_error(r, "store", 0, sg_store_errmsg(r->env.store));
        }
    }
    sg__arena_reset(r->arena);
}

/* A JSON message event (a line of a JSONL file, or a whole file). */
static void json_message(struct run *r, const struct item *it, size_t line, const char *s,
                         size_t n)
{
    struct sg_event *ev;
    char *err = NULL;
    int rc = sg_event_parse(s, n, SG_EV_MESSAGE, &ev, &err);
    if (rc) {
        report_error(r, it->path, line, err ? err : sg_strerror(rc));
        sg_free(err);
        return;
    }
    if (sg_event_type(ev) != SG_EV_MESSAGE)
        r->skipped++;
    else
        one_message(r, ev, it, line);
    sg_event_free(ev);
}

static void process(struct run *r, const struct item *it)
{
    size_t len;
    char *buf = cli_read_file(it->path, MAX_INPUT_FILE, &len);
    if (!buf) {
        r->errors++;
        return;
    }
    buf[len] = '\0'; /* cli_read_file stops on a short read: there is room */
    size_t lead = 0;
    while (lead < len && (buf[lead] == ' ' || buf[lead] == '\t' || buf[lead] == '\r' || buf[lead] == '\n'))
        lead++;
    if (lead < len && buf[lead] == '{') {
        if (!cli_is_jsonl(it->path, buf, len)) {
            json_message(r, it, 0, buf, len);
        } else {
            size_t lineno = 0;
            for (char *p = buf, *end = buf + len; p < end;) {
                char *e = memchr(p, '\n', (size_t)(end - p));
                if (!e)
                    e = end;
                lineno++;
                size_t n = (size_t)(e - p);
                while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
                    n--;
                if (n > MAX_EVENT_LINE)
                    report_error(r, it->path, lineno, "line over 2 MiB");
                else if (n)
                    json_message(r, it, lineno, p, n);
                r->bytes_done += (long long)(e - p) + 1;
                progress_update(&r->progress, r->bytes_done, r->messages[0] + r->messages[1] + r->classified);
                p = e + 1;
            }
            r->bytes_done -= (long long)len; /* added back whole below */
        }
    } else {
        /* Raw RFC 822. An mbox "From " line before the headers is not a header. */
        const char *raw = buf;
        if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
            const char *nl = memchr(buf, '\n', len);
            raw = nl ? nl + 1 : buf + len;
        }
        struct sg_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SG_EV_MESSAGE;
        ev.channel = r->email_channel;
        ev.tenant = r->tenant;
        ev.raw = raw;
        ev.raw_len = len - (size_t)(raw - buf);
        ev.verified = -1;
        one_message(r, &ev, it, 0);
    }
    free(buf);
    r->bytes_done += (long long)len;
    progress_update(&r->progress, r->bytes_done, r->messages[0] + r->messages[1] + r->classified);
}

/* ---- the verb ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard train [--db FILE] [--tenant T [--also-global]] [--unlearn]\n"
            "                       --spam PATH... --ham PATH...\n"
            "       sendguard train --db FILE [--tenant T] --classify [PATH...] [--files-from F]\n"
            "       sendguard train --db FILE [--tenant T] --stats\n"
            "Teaches the Bayes classifier from example messages and keeps the counts in --db.\n"
            "A PATH is a file, a directory (read recursively) or a JSONL file of message events;\n"
            "a file not starting with '{' is a raw RFC 822 mail. --spam and --ham may repeat.\n"
            "  --tenant T       learn into tenant T's own class (default: the global class)\n"
            "  --also-global    with --tenant, count each message in the global class too\n"
            "  --unlearn        take the messages back out (a correction)\n"
            "  --no-seed        do not learn the built-in seed corpus (modern legitimate mail and\n"
            "                   lures, data/seed) that train adds when the global class is empty\n"
            "  --classify       judge each message against the stored model instead: one JSON\n"
            "                   line per message on stdout ({\"file\",\"verdict\",\"probability\",...})\n"
            "  --files-from F   also read file names from F, one a line ('-': stdin)\n"
            "  --set KEY=VALUE  classifier setting for this run (robs, robx, min_dev, min_spam,\n"
            "                   min_ham, spam_cutoff, short_cutoff, short_tokens,\n"
            "                   long_tokens, ham_cutoff, probable_cutoff, probable_score,\n"
            "                   max_tokens), until the config carries them\n"
            "  --stats          print the class's counts as JSON\n"
            "A summary goes to stderr; progress too when it is a terminal.\n");
}

static bool set_param(struct sg_bayes_params *p, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return false;
    size_t k = (size_t)(eq - kv);
    char *end;
    errno = 0;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end || errno)
        return false;
#define KEY(name) (k == strlen(name) && strncmp(kv, name, k) == 0)
    if (KEY("robs")) p->robs = v;
    else if (KEY("robx")) p->robx = v;
    else if (KEY("min_dev")) p->min_dev = v;
    else if (KEY("spam_cutoff")) p->spam_cutoff = v;
    else if (KEY("ham_cutoff")) p->ham_cutoff = v;
    else if (KEY("short_cutoff")) p->short_cutoff = v;
    else if (KEY("short_tokens") && v >= 0 && v <= 1e6) p->short_tokens = (uint32_t)v;
    else if (KEY("long_tokens") && v >= 0 && v <= 1e6) p->long_tokens = (uint32_t)v;
    else if (KEY("probable_cutoff")) p->probable_cutoff = v;
    else if (KEY("probable_score")) p->probable_score = v;
    else if (KEY("min_spam") && v >= 0 && v <= 1e9) p->min_spam = (uint32_t)v;
    else if (KEY("min_ham") && v >= 0 && v <= 1e9) p->min_ham = (uint32_t)v;
    else if (KEY("max_tokens") && v >= 1 && v <= 1e6) p->max_tokens = (uint32_t)v;
    else return false;
#undef KEY
    return true;
}

static void print_stats(struct run *r)
{
    struct sg_bayes_stats st;
    sg__bayes_stats(r->bayes, r->tenant, &st);
    printf("{\"class\":");
    cli_json_str(stdout, r->tenant ? r->tenant : SG_BAYES_GLOBAL);
    printf(",\"spam_messages\":%llu,\"ham_messages\":%llu,\"tokens\":%llu,\"trained\":%s,"
           "\"model_tokens\":%llu,\"classes\":%u,\"full\":%s,"
           "\"loaded_from_snapshot\":%u,\"loaded_from_rows\":%u}\n",
           (unsigned long long)st.spam_msgs, (unsigned long long)st.ham_msgs,
           (unsigned long long)st.tokens, st.trained ? "true" : "false",
           (unsigned long long)st.model_tokens, st.classes, st.full ? "true" : "false",
           st.from_snapshot, st.from_rows);
}

static void summary(struct run *r, double secs, bool flushed)
{
    progress_clear(&r->progress);
    if (r->classify) {
        unsigned long long n = r->classified;
        fprintf(stderr,
                "classify: %llu messages in %.2f s (%.0f messages/s; content, tokens and "
                "classify alone: %.0f/s): %llu spam, %llu ham, %llu unsure, %llu untrained; "
                "%llu error%s\n",
                n, secs, secs > 0 ? (double)n / secs : 0.0,
                r->work_s > 0 ? (double)n / r->work_s : 0.0, r->verdicts[0], r->verdicts[1],
                r->verdicts[2], r->verdicts[3], r->errors, r->errors == 1 ? "" : "s");
        return;
    }
    unsigned long long n = r->messages[0] + r->messages[1];
    struct sg_bayes_stats st;
    sg__bayes_stats(r->bayes, r->tenant, &st);
    const char *cls = r->tenant ? r->tenant : "global";
    fprintf(stderr,
            "train: %s %llu spam and %llu ham messages %s the %s class%s in %.2f s "
            "(%.0f messages/s); %llu skipped, %llu error%s\n",
            r->unlearn ? "unlearned" : "learned", r->messages[SG_BAYES_SPAM],
            r->messages[SG_BAYES_HAM], r->unlearn ? "from" : "into",
            cls, r->tenant && (r->flags & SG_BAYES_ALSO_GLOBAL) ? " (and the global one)" : "",
            secs, secs > 0 ? (double)n / secs : 0.0, r->skipped, r->errors,
            r->errors == 1 ? "" : "s");
    if (r->seeded[SG_BAYES_SPAM] + r->seeded[SG_BAYES_HAM])
        fprintf(stderr, "  and first the built-in seed corpus: %zu spam and %zu ham messages "
                "(data/seed; --no-seed leaves it out)\n", r->seeded[SG_BAYES_SPAM],
                r->seeded[SG_BAYES_HAM]);
    fprintf(stderr, "  class %s now: %llu spam, %llu ham messages, %llu distinct tokens%s\n", cls,
            (unsigned long long)st.spam_msgs, (unsigned long long)st.ham_msgs,
            (unsigned long long)st.tokens,
            st.trained ? "" : " (not enough training yet to score: see docs/bayes.md)");
    fprintf(stderr, "  model: %llu tokens in %u class%s%s%s\n",
            (unsigned long long)st.model_tokens, st.classes, st.classes == 1 ? "" : "es",
            st.full ? " (full: new tokens were not learned)" : "",
            !r->env.db ? "; in-memory store: nothing kept (use --db FILE)" : !flushed ? "; NOT saved" : "");
}

int cmd_train(int argc, char **argv)
{
    enum { OPT_ALSO_GLOBAL = 256, OPT_STATS, OPT_SET, OPT_NO_SEED };
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"spam", required_argument, NULL, 's'},
        {"ham", required_argument, NULL, 'n'},
        {"tenant", required_argument, NULL, 't'},
        {"also-global", no_argument, NULL, OPT_ALSO_GLOBAL},
        {"unlearn", no_argument, NULL, 'u'},
        {"classify", no_argument, NULL, 'C'},
        {"files-from", required_argument, NULL, 'F'},
        {"set", required_argument, NULL, OPT_SET},
        {"stats", no_argument, NULL, OPT_STATS},
        {"no-seed", no_argument, NULL, OPT_NO_SEED},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct run r;
    memset(&r, 0, sizeof r);
    struct sg_bayes_params params;
    sg__bayes_params_default(&params);
    const char *files_from = NULL;
    bool stats = false;
    /* Classes in command-line order: --spam/--ham take one PATH each, gathered after parsing. */
    struct { const char *path; int cls; } *paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t npaths = 0;
    int c, status = 0;
    if (!paths) {
        cli_error("out of memory");
        return 1;
    }
    while ((c = getopt_long(argc, argv, "d:c:s:n:t:uCF:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': r.env.db = optarg; break;
        case 'c': r.env.config = optarg; break;
        case 's': paths[npaths].path = optarg; paths[npaths++].cls = SG_BAYES_SPAM; break;
        case 'n': paths[npaths].path = optarg; paths[npaths++].cls = SG_BAYES_HAM; break;
        case 't': r.tenant = optarg; break;
        case OPT_ALSO_GLOBAL: r.flags |= SG_BAYES_ALSO_GLOBAL; break;
        case 'u': r.unlearn = true; break;
        case 'C': r.classify = true; break;
        case 'F': files_from = optarg; break;
        case OPT_STATS: stats = true; break;
        case OPT_NO_SEED: r.no_seed = true; break;
        case OPT_SET:
            if (!set_param(&params, optarg)) {
                cli_error("--set %s: expected KEY=NUMBER with a known key", optarg);
                free(paths);
                return 2;
            }
            break;
        case 'h': usage(stdout); free(paths); return 0;
        default: usage(stderr); free(paths); return 2;
        }
    }
    bool learning = !r.classify && !stats;
    if ((learning && (npaths == 0 || optind < argc)) ||
        (!learning && npaths > 0) || (stats && r.classify) ||
        (r.classify && optind == argc && !files_from)) {
        usage(stderr);
        free(paths);
        return 2;
    }
    if (!cli_open(&r.env, !learning)) {
        cli_close(&r.env);
        free(paths);
        return 1;
    }
    int rc = sg__bayes_open(r.env.store, &params, &r.bayes);
    if (rc) {
        cli_error("classifier: %s: %s", sg_strerror(rc), sg_store_errmsg(r.env.store));
        cli_close(&r.env);
        free(paths);
        return 1;
    }
    sg__bayes_get_params(r.bayes, &r.params);
    if (stats) {
        print_stats(&r);
        sg__bayes_free(r.bayes);
        cli_close(&r.env);
        free(paths);
        return 0;
    }
    r.email_channel = sg__channel_parse("email", 5);
    r.arena = sg__arena_new(0);
    if (!r.arena) {
        cli_error("out of memory");
        sg__bayes_free(r.bayes);
        cli_close(&r.env);
        free(paths);
        return 1;
    }
    if (learning)
        sg__store_set_batch(r.env.store, TRAIN_BATCH);
    for (size_t i = 0; i < npaths; i++)
        gather(&r, paths[i].path, paths[i].cls);
    for (int i = optind; i < argc; i++)
        gather(&r, argv[i], -1);
    if (files_from)
        gather_list(&r, files_from);
    long long total = 0;
    for (size_t i = 0; i < r.nitems; i++)
        total += r.items[i].size;

    double start = mono_now();
    /* A global class learned only from the files given would know nothing of today's mail if
     * they are an old or foreign corpus: the seed goes in first, once (docs/bayes.md). */
    if (learning && !r.unlearn && !r.tenant && !r.no_seed && sg__bayes_global_empty(r.bayes) &&
        (rc = sg__bayes_learn_seed(r.bayes, r.arena, r.seeded)) != 0) {
        cli_error("seed corpus: %s", sg_strerror(rc));
        r.errors++;
    }
    progress_init(&r.progress, r.classify ? "classifying" : "training", total);
    for (size_t i = 0; i < r.nitems; i++)
        process(&r, &r.items[i]);
    bool flushed = true;
    if (learning) {
        if ((rc = sg__bayes_flush(r.bayes)) != 0 || (rc = sg_store_flush(r.env.store)) != 0) {
            progress_clear(&r.progress);
            cli_error("store: %s", sg_store_errmsg(r.env.store));
            flushed = false;
            status = 1;
        } else if ((rc = sg__bayes_write_snapshots(r.bayes)) != 0) {
            /* The counts are stored; only the next open is slower (it reads the rows). */
            progress_clear(&r.progress);
            cli_error("warning: model snapshot: %s", sg_store_errmsg(r.env.store));
        }
    }
    summary(&r, mono_now() - start, flushed);
    if (r.errors)
        status = 1;
    fflush(stdout);

    for (size_t i = 0; i < r.nitems; i++)
        free(r.items[i].path);
    free(r.items);
    free(paths);
    sg__arena_free(r.arena);
    sg__bayes_free(r.bayes);
    cli_close(&r.env);
    return status;
}
