/* sendguard rules: `lint` loads and validates rule files (the shipped ones, and local
 * directories on top) and prints every problem as FILE:LINE: rule CODE: problem; `test` shows
 * which rules fire on one message event, with scores and the original words they matched;
 * `list` prints the effective rules. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The rule engine and the content builder are library internals, not part of sendguard.h yet:
 * included by path because the CLI has only include/ on its include path. */
#include "../engine/event.h"
#include "../rules/rules.h"
#include "../text/content.h"
#include "../util/alloc.h"
#include "../util/arena.h"

/* engine/policy.h cannot be included from here (it needs src/ on the path). */
int sg__channel_parse(const char *s, size_t len);
const char *sg__channel_name(int ch);

#define MAX_EVENT_FILE (2u << 20)
#define MAX_DIRS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard rules lint [--no-builtin] [DIR...]\n"
            "       sendguard rules test FILE... [--rules DIR]... [--no-builtin] [--channel CH]\n"
            "                                    [--fact NAME=VALUE]... [--json]\n"
            "       sendguard rules list [--no-builtin] [DIR...]\n"
            "\n"
            "lint  load the shipped rules and each DIR's *.yaml files on top, and print every\n"
            "      problem as FILE:LINE: rule CODE: problem (exit 1 if any). --no-builtin checks\n"
            "      the DIRs alone (a rules/ checkout).\n"
            "test  scan messages (JSON events or raw RFC 822 mails; - for stdin) and show each\n"
            "      rule that fires, its score and the words it matched (--json: one line per\n"
            "      file). Facts the message cannot tell (first_message, SENDER_MESSAGES,\n"
            "      SENDER_AGE_HOURS, SENDER_POSTS, URL_NEW_DOMAIN) are unknown unless given\n"
            "      with --fact; recipients defaults to the message's count.\n"
            "list  print the effective rules: code, score, state, kind, channels, file:line.\n");
}

/* Loads the ruleset or prints every problem; NULL on failure. */
static struct sg_rules *load(const char *const *dirs, size_t ndirs, unsigned flags)
{
    struct sg_rules *rs = NULL;
    char *errors = NULL;
    int rc = sg__rules_load(dirs, ndirs, flags, &rs, &errors);
    if (rc) {
        if (errors)
            fputs(errors, stderr);
        else
            cli_error("rules: %s", sg_strerror(rc));
        sg__free(errors);
        return NULL;
    }
    return rs;
}

static const char *channels_text(unsigned mask, char *buf, size_t size)
{
    unsigned all = (1u << 6) - 1;
    if ((mask & all) == all)
        return "all";
    size_t o = 0;
    buf[0] = '\0';
    for (int ch = 0; ch < 6 && o < size; ch++)
        if (mask & (1u << ch))
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "," : "", sg__channel_name(ch));
    return buf;
}

static int cmd_lint_or_list(int argc, char **argv, bool list)
{
    static const struct option opts[] = {
        {"no-builtin", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    unsigned flags = 0;
    int c;
    while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': flags |= SG_RULES_NO_BUILTIN; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *const *dirs = (const char *const *)argv + optind;
    size_t ndirs = (size_t)(argc - optind);
    struct sg_rules *rs = load(dirs, ndirs, flags);
    if (!rs)
        return 1;
    size_t n = sg__rules_count(rs);
    if (list) {
        for (size_t i = 0; i < n; i++) {
            struct sg_rule_info in;
            char ch[128];
            sg__rules_info(rs, i, &in);
            printf("%-30s %5g  %-7s %-5s %-24s %s:%d\n", in.code, in.score, in.state, in.kind,
                   channels_text(in.channels, ch, sizeof ch), in.file, in.line);
        }
    } else {
        size_t enforce = 0, monitor = 0, off = 0;
        for (size_t i = 0; i < n; i++) {
            struct sg_rule_info in;
            sg__rules_info(rs, i, &in);
            if (!strcmp(in.state, "enforce"))
                enforce++;
            else if (!strcmp(in.state, "monitor"))
                monitor++;
            else
                off++;
        }
        printf("ok: %zu rules (%zu enforce, %zu monitor, %zu off)\n", n, enforce, monitor, off);
    }
    sg__rules_free(rs);
    return 0;
}

static void json_num(FILE *out, double v)
{
    if (v == floor(v) && fabs(v) < 1e9)
        fprintf(out, "%.0f", v);
    else
        fprintf(out, "%g", v);
}

struct test_run {
    struct sg_rules *rs;
    struct sg_rules_scratch *scratch;
    struct sg_arena *arena;
    struct sg_rule_hit *hits;
    const struct sg_rules_facts *facts;
    int channel; /* -2: the event's */
    bool json, many;
};

static void print_hits(struct test_run *t, const char *path, int channel, int n);

/* Scans one event file and prints its hits; 0, or 1 after printing why. */
static int test_one(struct test_run *t, const char *path)
{
    size_t len = 0;
    char *buf = cli_read_file(strcmp(path, "-") ? path : "/dev/stdin", MAX_EVENT_FILE, &len);
    if (!buf)
        return 1;
    struct sg_event *ev = NULL;
    char *err = NULL;
    int rc = cli_parse_message(buf, len, "default", &ev, &err);
    free(buf);
    if (rc || sg_event_type(ev) != SG_EV_MESSAGE) {
        cli_error("%s: %s", path, rc ? (err ? err : sg_strerror(rc)) : "not a message event");
        sg_free(err);
        sg_event_free(ev);
        return 1;
    }
    sg__arena_reset(t->arena);
    struct sg_content content;
    if ((rc = sg__content_build(t->arena, ev, &content)) && rc != SG_ETOOBIG) {
        cli_error("%s: cannot read the message: %s", path, sg_strerror(rc));
        sg_event_free(ev);
        return 1;
    }
    int channel = t->channel == -2 ? ev->channel : t->channel;
    struct sg_rules_facts facts = *t->facts;
    if (isnan(facts.v[SG_FACT_RECIPIENTS]))
        facts.v[SG_FACT_RECIPIENTS] = (double)ev->nrecipients;
    /* The content points into the event: it lives until the hits are printed. */
    int n = sg__rules_scan(t->rs, t->scratch, &content, &facts, channel, t->arena, t->hits,
                           sg__rules_count(t->rs));
    if (n < 0) {
        cli_error("%s: scan: %s", path, sg_strerror(n));
        sg_event_free(ev);
        return 1;
    }
    print_hits(t, path, channel, n);
    sg_event_free(ev);
    return 0;
}

/* Prints the hits of one scan (human or JSON). */
static void print_hits(struct test_run *t, const char *path, int channel, int n)
{
    const struct sg_rule_hit *hits = t->hits;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += hits[i].score;
    if (t->json) {
        fputc('{', stdout);
        if (t->many) {
            fputs("\"file\":", stdout);
            cli_json_str(stdout, path);
            fputc(',', stdout);
        }
        fputs("\"channel\":", stdout);
        cli_json_str(stdout, sg__channel_name(channel));
        fputs(",\"score\":", stdout);
        json_num(stdout, total);
        fputs(",\"hits\":[", stdout);
        for (int i = 0; i < n; i++) {
            fputs(i ? ",{\"code\":" : "{\"code\":", stdout);
            cli_json_str(stdout, hits[i].code);
            fputs(",\"score\":", stdout);
            json_num(stdout, hits[i].score);
            printf(",\"monitor\":%s,\"quote\":", hits[i].monitor ? "true" : "false");
            if (hits[i].quote)
                cli_json_str(stdout, hits[i].quote);
            else
                fputs("null", stdout);
            fputs(",\"description\":", stdout);
            cli_json_str(stdout, hits[i].description);
            fputc('}', stdout);
        }
        fputs("]}\n", stdout);
        return;
    }
    if (t->many)
        printf("== %s\n", path);
    for (int i = 0; i < n; i++) {
        printf("%-30s %5g%s", hits[i].code, hits[i].score, hits[i].monitor ? " (monitor)" : "");
        if (hits[i].quote) {
            fputs("  ", stdout);
            cli_json_str(stdout, hits[i].quote);
        }
        printf("\n    %s\n", hits[i].description);
    }
    printf("%s%g on %s (%d rule%s)\n", n ? "total " : "no rule fires; total ", total,
           sg__channel_name(channel), n, n == 1 ? "" : "s");
}

static int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"no-builtin", no_argument, NULL, 'n'},
        {"channel", required_argument, NULL, 'c'},
        {"fact", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *dirs[MAX_DIRS];
    size_t ndirs = 0;
    unsigned flags = 0;
    struct sg_rules_facts facts;
    sg__rules_facts_init(&facts);
    struct test_run t = {.channel = -2, .facts = &facts};
    int c;
    while ((c = getopt_long(argc, argv, "r:nc:f:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (ndirs == MAX_DIRS) {
                cli_error("at most %d --rules directories", MAX_DIRS);
                return 2;
            }
            dirs[ndirs++] = optarg;
            break;
        case 'n': flags |= SG_RULES_NO_BUILTIN; break;
        case 'c':
            if ((t.channel = sg__channel_parse(optarg, strlen(optarg))) < 0) {
                cli_error("unknown channel \"%s\" (expected email, private_message, post, comment, "
                          "sms or notification)", optarg);
                return 2;
            }
            break;
        case 'f': {
            const char *eq = strchr(optarg, '=');
            int f = eq ? sg__rules_fact_parse(optarg, (size_t)(eq - optarg)) : -1;
            char *end = NULL;
            errno = 0;
            double v = eq ? strtod(eq + 1, &end) : NAN;
            if (f < 0 || !eq[1] || *end || errno || !isfinite(v)) {
                cli_error("--fact %s: expected NAME=NUMBER with a fact name like first_message, "
                          "SENDER_AGE_HOURS or URL_NEW_DOMAIN", optarg);
                return 2;
            }
            facts.v[f] = v;
            break;
        }
        case 'j': t.json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind < 1) {
        usage(stderr);
        return 2;
    }
    t.many = argc - optind > 1;
    int rc = 1;
    if (!(t.rs = load(dirs, ndirs, flags)))
        return 1;
    t.arena = sg__arena_new(0);
    t.scratch = sg__rules_scratch_new(t.rs);
    t.hits = calloc(sg__rules_count(t.rs) + 1, sizeof *t.hits);
    if (!t.arena || !t.scratch || !t.hits) {
        cli_error("out of memory");
        goto out;
    }
    rc = 0;
    for (int i = optind; i < argc; i++)
        rc |= test_one(&t, argv[i]);
out:
    free(t.hits);
    sg__rules_scratch_free(t.scratch);
    sg__arena_free(t.arena);
    sg__rules_free(t.rs);
    return rc;
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "lint"))
        return cmd_lint_or_list(argc - 1, argv + 1, false);
    if (!strcmp(sub, "list"))
        return cmd_lint_or_list(argc - 1, argv + 1, true);
    if (!strcmp(sub, "test"))
        return cmd_test(argc - 1, argv + 1);
    cli_error("rules: unknown command \"%s\" (expected lint, test or list)", sub);
    usage(stderr);
    return 2;
}
