/* Unit tests for the configuration: the shipped defaults, overrides, tenants, every kind of
 * error with its exact FILE:LINE: SETTING message, failed loads leaving the config alone, and
 * the dump loading back to itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/config.h"

#ifndef SG_SOURCE_DIR
#error "SG_SOURCE_DIR must name the source tree (a string literal)"
#endif

static struct sg_config *new_config(void)
{
    struct sg_config *cfg = NULL;
    assert_int_equal(sg_config_new(&cfg), 0);
    assert_non_null(cfg);
    return cfg;
}

static int load(struct sg_config *cfg, const char *yaml)
{
    return sg_config_load_string(cfg, "t.yaml", yaml, strlen(yaml));
}

static char *dump(const struct sg_config *cfg)
{
    char *out = NULL;
    assert_int_equal(sg_config_dump(cfg, &out), 0);
    assert_non_null(out);
    return out;
}

static void assert_window(const struct sg_gcra_rule *r, int i, uint32_t limit, uint32_t period)
{
    assert_true(i < r->nwindows);
    assert_int_equal(r->w[i].limit, limit);
    assert_int_equal(r->w[i].period_s, period);
}

static void test_defaults(void **state)
{
    struct sg_config *cfg = new_config();
    assert_string_equal(sg_config_errmsg(cfg), "");
    const struct sg_policy *p = sg__config_policy(cfg, NULL);
    assert_ptr_equal(p, &cfg->base);

    const struct sg_channel_policy *pm = &p->ch[SG_CH_PRIVATE_MESSAGE];
    assert_int_equal(pm->min_posts, 2);
    assert_int_equal(pm->link_min_age_s, 86400);
    assert_int_equal(pm->new_account_age_s, 7 * 86400);
    assert_int_equal(pm->fanout_max, 20);
    assert_int_equal(pm->fanout_window_s, 3600);
    const struct sg_gcra_rule *r = &pm->limits[SG_SCOPE_SENDER].rule;
    assert_int_equal(r->nwindows, 3);
    assert_window(r, 0, 2, 60);
    assert_window(r, 1, 20, 3600);
    assert_window(r, 2, 50, 86400);
    assert_int_equal(pm->limits[SG_SCOPE_SENDER].cost, SG_COST_MESSAGES);
    r = &pm->limits[SG_SCOPE_RECIPIENT].rule;
    assert_int_equal(r->nwindows, 2);
    assert_window(r, 0, 5, 3600);
    assert_window(r, 1, 20, 86400);
    assert_int_equal(pm->limits[SG_SCOPE_TENANT].rule.nwindows, 0);
    assert_int_equal(pm->limits[SG_SCOPE_IP].rule.nwindows, 0);

    const struct sg_channel_policy *em = &p->ch[SG_CH_EMAIL];
    assert_int_equal(em->fanout_max, 50);
    assert_int_equal(em->limits[SG_SCOPE_SENDER].cost, SG_COST_RECIPIENTS);
    r = &em->limits[SG_SCOPE_SENDER].rule;
    assert_int_equal(r->nwindows, 2);
    assert_window(r, 0, 30, 60);
    assert_window(r, 1, 500, 3600);
    assert_int_equal(em->min_posts, 0);

    for (int c = 0; c < SG_CH_COUNT; c++) {
        assert_true(p->ch[c].hold_at == 5.0);
        assert_true(p->ch[c].reject_at == 10.0);
        assert_true(p->ch[c].limits[SG_SCOPE_SENDER].rule.nwindows > 0);
    }
    for (int i = 0; i < SG_REASON_COUNT; i++)
        assert_true(p->score[i] == sg__reason_default_score(i));

    assert_int_equal(cfg->log_level, SG_LOG_INFO);
    assert_int_equal(cfg->store_batch, 2000);
    assert_int_equal(cfg->limiter_shards, 64);
    assert_true(cfg->block_disposable);
    assert_null(cfg->disposable_file);
    assert_int_equal(cfg->ntenants, 0);
    sg_config_free(cfg);
}

/* The file on disk is the one built in: loading it again changes nothing. */
static void test_shipped_file_is_the_default(void **state)
{
    struct sg_config *cfg = new_config();
    char *before = dump(cfg);
    assert_int_equal(sg_config_load_file(cfg, SG_SOURCE_DIR "/config/sendguard.yaml"), 0);
    char *after = dump(cfg);
    assert_string_equal(before, after);
    sg_free(before);
    sg_free(after);
    sg_config_free(cfg);
}

static void test_load_overrides(void **state)
{
    struct sg_config *cfg = new_config();
    assert_int_equal(load(cfg, "log:\n"
                               "  level: debug\n"
                               "store.batch: 500\n"
                               "signup: {block_disposable: no, disposable_file: /etc/sg/extra.txt}\n"
                               "channels:\n"
                               "  private_message:\n"
                               "    trust: {min_posts: 3, min_account_age: 2d, require_verified: true}\n"
                               "    limits.sender.rates: [\"10/1h\", \"1/1s\"]\n"
                               "    limits.sender.cost: recipients\n"
                               "  sms.hold: 2.5\n"
                               "channels.email.limits.ip.rates: [\"100/1m\"]\n"
                               "channels.post.limits.sender.rates: []\n"
                               "scores:\n"
                               "  TRUST_MIN_POSTS: -1.5\n"),
                     0);
    assert_string_equal(sg_config_errmsg(cfg), "");
    assert_int_equal(cfg->log_level, SG_LOG_DEBUG);
    assert_int_equal(cfg->store_batch, 500);
    assert_false(cfg->block_disposable);
    assert_string_equal(cfg->disposable_file, "/etc/sg/extra.txt");
    const struct sg_channel_policy *pm = &cfg->base.ch[SG_CH_PRIVATE_MESSAGE];
    assert_int_equal(pm->min_posts, 3);
    assert_int_equal(pm->min_account_age_s, 2 * 86400);
    assert_true(pm->require_verified);
    /* Windows come out shortest first whatever the order written. */
    assert_int_equal(pm->limits[SG_SCOPE_SENDER].rule.nwindows, 2);
    assert_window(&pm->limits[SG_SCOPE_SENDER].rule, 0, 1, 1);
    assert_window(&pm->limits[SG_SCOPE_SENDER].rule, 1, 10, 3600);
    assert_int_equal(pm->limits[SG_SCOPE_SENDER].cost, SG_COST_RECIPIENTS);
    assert_int_equal(pm->link_min_age_s, 86400); /* untouched settings keep their value */
    assert_true(cfg->base.ch[SG_CH_SMS].hold_at == 2.5);
    assert_window(&cfg->base.ch[SG_CH_EMAIL].limits[SG_SCOPE_IP].rule, 0, 100, 60);
    assert_int_equal(cfg->base.ch[SG_CH_POST].limits[SG_SCOPE_SENDER].rule.nwindows, 0);
    assert_true(cfg->base.score[SG_R_TRUST_MIN_POSTS] == -1.5);

    /* A second file on top; an empty string clears the path; comments-only and empty load. */
    assert_int_equal(load(cfg, "signup.disposable_file: \"\"\nlog.level: error\n"), 0);
    assert_null(cfg->disposable_file);
    assert_int_equal(cfg->log_level, SG_LOG_ERROR);
    assert_int_equal(cfg->store_batch, 500);
    assert_int_equal(load(cfg, "# nothing here\n"), 0);
    assert_int_equal(load(cfg, ""), 0);
    assert_int_equal(load(cfg, "channels:\n"), 0);
    assert_int_equal(cfg->store_batch, 500);
    sg_config_free(cfg);
}

static void test_tenant_overrides_follow_defaults(void **state)
{
    struct sg_config *cfg = new_config();
    /* The tenant comes before the default it builds on: order in the file does not matter. */
    assert_int_equal(load(cfg, "tenants:\n"
                               "  acme:\n"
                               "    channels.private_message.trust.min_posts: 5\n"
                               "  \"forum.example.org\":\n"
                               "    channels: {email: {hold: 7}}\n"
                               "tenants.beta.scores.TRUST_MIN_POSTS: 4\n"
                               "channels.private_message.reject: 12\n"),
                     0);
    assert_int_equal(cfg->ntenants, 3);
    const struct sg_policy *acme = sg__config_policy(cfg, "acme");
    assert_ptr_not_equal(acme, &cfg->base);
    assert_int_equal(acme->ch[SG_CH_PRIVATE_MESSAGE].min_posts, 5);
    assert_true(acme->ch[SG_CH_PRIVATE_MESSAGE].reject_at == 12);
    assert_window(&acme->ch[SG_CH_PRIVATE_MESSAGE].limits[SG_SCOPE_SENDER].rule, 0, 2, 60);
    assert_int_equal(cfg->base.ch[SG_CH_PRIVATE_MESSAGE].min_posts, 2);

    const struct sg_policy *forum = sg__config_policy(cfg, "forum.example.org");
    assert_true(forum->ch[SG_CH_EMAIL].hold_at == 7);
    assert_true(cfg->base.ch[SG_CH_EMAIL].hold_at == 5);

    /* Per-tenant scores. */
    const struct sg_policy *beta = sg__config_policy(cfg, "beta");
    assert_true(beta->score[SG_R_TRUST_MIN_POSTS] == 4);
    assert_true(cfg->base.score[SG_R_TRUST_MIN_POSTS] == sg__reason_default_score(SG_R_TRUST_MIN_POSTS));
    assert_true(acme->score[SG_R_TRUST_MIN_POSTS] == sg__reason_default_score(SG_R_TRUST_MIN_POSTS));

    /* Tenants without overrides and no tenant get the defaults. */
    assert_ptr_equal(sg__config_policy(cfg, "nobody"), &cfg->base);
    assert_ptr_equal(sg__config_policy(cfg, NULL), &cfg->base);
    assert_ptr_equal(sg__config_policy(cfg, "forum"), &cfg->base);

    /* A later file changes defaults: tenants follow what they did not override. */
    assert_int_equal(load(cfg, "channels.private_message.trust.min_posts: 3\n"
                               "channels.private_message.limits.sender.rates: [\"1/1m\"]\n"
                               "scores.TRUST_MIN_POSTS: 8\n"
                               "tenants.acme.channels.sms.hold: 1\n"),
                     0);
    acme = sg__config_policy(cfg, "acme");
    beta = sg__config_policy(cfg, "beta");
    assert_int_equal(acme->ch[SG_CH_PRIVATE_MESSAGE].min_posts, 5);
    assert_true(acme->ch[SG_CH_SMS].hold_at == 1);
    assert_int_equal(acme->ch[SG_CH_PRIVATE_MESSAGE].limits[SG_SCOPE_SENDER].rule.nwindows, 1);
    assert_window(&acme->ch[SG_CH_PRIVATE_MESSAGE].limits[SG_SCOPE_SENDER].rule, 0, 1, 60);
    assert_true(acme->score[SG_R_TRUST_MIN_POSTS] == 8);
    assert_true(beta->score[SG_R_TRUST_MIN_POSTS] == 4);
    assert_int_equal(beta->ch[SG_CH_PRIVATE_MESSAGE].min_posts, 3);

    /* A later file overriding a tenant's setting again replaces it. */
    assert_int_equal(load(cfg, "tenants: {acme: {channels: {private_message: {trust: {min_posts: 9}}}}}\n"), 0);
    assert_int_equal(sg__config_policy(cfg, "acme")->ch[SG_CH_PRIVATE_MESSAGE].min_posts, 9);
    assert_true(sg__config_policy(cfg, "acme")->ch[SG_CH_SMS].hold_at == 1);
    assert_int_equal(cfg->ntenants, 3);

    /* A default that would put a tenant's own hold above reject is refused, naming the tenant. */
    assert_int_equal(load(cfg, "tenants.acme.channels.email.hold: 8\n"), 0);
    assert_int_equal(load(cfg, "log.level: info\nchannels.email.reject: 7\n"), SG_ECONFIG);
    assert_string_equal(sg_config_errmsg(cfg),
                        "t.yaml:2: tenants.acme.channels.email: hold (8) must not be above reject (7)");
    sg_config_free(cfg);
}

struct error_case {
    const char *yaml;
    const char *message;
};

static const struct error_case error_cases[] = {
    /* unknown settings, also a channel name typo, nested and dotted */
    {"log:\n  level: info\n  colour: red\n", "t.yaml:3: log.colour: unknown setting"},
    {"channels:\n  email: {}\n\n  private_mesage:\n    trust:\n      min_posts: 2\n",
     "t.yaml:4: channels.private_mesage: unknown setting"},
    {"channels.private_mesage.trust.min_posts: 2\n",
     "t.yaml:1: channels.private_mesage: unknown setting"},
    {"channels.email.hold.x: 2\n", "t.yaml:1: channels.email.hold.x: unknown setting"},
    {"scores:\n  NOT_A_CODE: 1\n", "t.yaml:2: scores.NOT_A_CODE: unknown setting"},
    {"tenants:\n  acme:\n    log.level: debug\n", "t.yaml:3: tenants.acme.log: unknown setting"},
    {"tenants.acme.channels.emial.hold: 1\n",
     "t.yaml:1: tenants.acme.channels.emial: unknown setting"},
    {"channels..email: 1\n", "t.yaml:1: \"channels..email\": empty part in a setting name"},
    /* wrong types */
    {"channels:\n  private_message:\n    trust:\n      min_posts: two\n",
     "t.yaml:4: channels.private_message.trust.min_posts: expected a whole number from 0 to "
     "1000000, got \"two\""},
    {"log.level: loud\n", "t.yaml:1: log.level: expected one of debug, info, warn, error, got \"loud\""},
    {"signup.block_disposable: maybe\n",
     "t.yaml:1: signup.block_disposable: expected true or false, got \"maybe\""},
    {"channels.email.hold: {a: 1}\n",
     "t.yaml:1: channels.email.hold: expected a number from 0 to 1000, got a mapping"},
    {"channels.email.hold:\n", "t.yaml:1: channels.email.hold: expected a number from 0 to 1000, got nothing"},
    {"channels.email.hold: nan\n",
     "t.yaml:1: channels.email.hold: expected a number from 0 to 1000, got \"nan\""},
    {"channels.email.trust.min_account_age: 3 days\n",
     "t.yaml:1: channels.email.trust.min_account_age: expected a duration like 90s, 15m, 24h or 7d, "
     "from 0s to 366d, got \"3 days\""},
    {"channels: 5\n", "t.yaml:1: channels: expected a mapping of settings, got \"5\""},
    {"tenants:\n  acme: [1]\n", "t.yaml:2: tenants.acme: expected a mapping of settings, got a list"},
    {"- a\n- b\n", "t.yaml:1: expected a mapping of settings, got a list"},
    {"channels.sms.limits.sender.rates: \"2/1m\"\n",
     "t.yaml:1: channels.sms.limits.sender.rates: expected a list of rates like [\"2/1m\", "
     "\"20/1h\"] ([] for no limit), got \"2/1m\""},
    /* out of bounds */
    {"store:\n  batch: 0\n", "t.yaml:2: store.batch: expected a whole number from 1 to 100000, got \"0\""},
    {"limiter.shards: 4097\n",
     "t.yaml:1: limiter.shards: expected a whole number from 1 to 4096, got \"4097\""},
    {"channels.sms.reject: 1001\n",
     "t.yaml:1: channels.sms.reject: expected a number from 0 to 1000, got \"1001\""},
    {"scores.RATE_IP: -1000.5\n",
     "t.yaml:1: scores.RATE_IP: expected a number from -1000 to 1000, got \"-1000.5\""},
    {"channels.email.fanout.window: 30s\n",
     "t.yaml:1: channels.email.fanout.window: expected a duration like 90s, 15m, 24h or 7d, from "
     "1m to 30d, got \"30s\""},
    /* rates */
    {"channels:\n  private_message:\n    limits:\n      sender:\n        rates:\n"
     "          - 2/1m\n          - 2/1x\n",
     "t.yaml:7: channels.private_message.limits.sender.rates: expected a rate N/DURATION like "
     "\"2/1m\" (N from 1 to 1000000000, DURATION from 1s to 366d), got \"2/1x\""},
    {"channels.email.limits.sender.rates: [\"0/1m\"]\n",
     "t.yaml:1: channels.email.limits.sender.rates: expected a rate N/DURATION like \"2/1m\" (N "
     "from 1 to 1000000000, DURATION from 1s to 366d), got \"0/1m\""},
    {"channels.email.limits.sender.rates: [\"5/367d\"]\n",
     "t.yaml:1: channels.email.limits.sender.rates: expected a rate N/DURATION like \"2/1m\" (N "
     "from 1 to 1000000000, DURATION from 1s to 366d), got \"5/367d\""},
    {"channels.email.limits.sender.rates: [\"1/1s\", \"2/1m\", \"3/1h\", \"4/1d\", \"5/1w\"]\n",
     "t.yaml:1: channels.email.limits.sender.rates: at most 4 rates, got 5"},
    {"channels.email.limits.sender.rates: [\"1/1m\", \"2/60s\"]\n",
     "t.yaml:1: channels.email.limits.sender.rates: two rates for the same period 1m"},
    {"channels.email.limits.sender.cost: bytes\n",
     "t.yaml:1: channels.email.limits.sender.cost: expected one of messages, recipients, got \"bytes\""},
    /* hold above reject, for the defaults and for a tenant */
    {"channels:\n  comment:\n    hold: 12\n",
     "t.yaml:3: channels.comment: hold (12) must not be above reject (10)"},
    {"tenants:\n  acme:\n    channels.sms.reject: 4\n",
     "t.yaml:3: tenants.acme.channels.sms: hold (5) must not be above reject (4)"},
    /* set twice */
    {"channels.email.hold: 3\nchannels:\n  email:\n    hold: 4\n",
     "t.yaml:4: channels.email.hold: set twice (first on line 1)"},
    {"tenants.a.scores.RATE_IP: 1\ntenants:\n  a:\n    scores: {RATE_IP: 2}\n",
     "t.yaml:4: tenants.a.scores.RATE_IP: set twice (first on line 1)"},
    /* tenant ids */
    {"tenants:\n  \"\": {}\n", "t.yaml:2: tenants: a tenant id is 1 to 256 bytes, got 0"},
    /* YAML itself */
    {"log:\n  level: info\nstore: batch: 3\n",
     "t.yaml:3: invalid YAML: invalid nested block mapping on the same line"},
    {"log:\n  level: info\n\tstore: 1\n", "t.yaml:3: invalid YAML: invalid tab used as indentation"},
    {"log.level: info\nlog.level: warn\n", "t.yaml:2: invalid YAML: duplicate key"},
    {"store.batch: 10\n---\nstore.batch: 20\n",
     "t.yaml:2: a second YAML document; put every setting in one"},
    {"x: &n 5\nstore.batch: *n\n", "t.yaml:1: x: unknown setting"},
    /* checked before libfyaml sees the text (it mishandles these, see config.c) */
    {"store.batch: 1\n%YAML 1.2\n---\n", "t.yaml:2: YAML directives (%YAML, %TAG) are not supported"},
    {"log.level: info\nstore.batch: \"\xaa\"\n", "t.yaml:2: not valid UTF-8"},
    {"log.level: info\n\nstore.batch: \x01\n", "t.yaml:3: control character 0x01 in the text"},
    {"store.batch: &n 5\nlimiter.shards: *n\n", "t.yaml:2: limiter.shards: YAML aliases are not supported"},
};

static void test_errors(void **state)
{
    struct sg_config *cfg = new_config();
    char *before = dump(cfg);
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        int rc = load(cfg, c->yaml);
        if (rc != SG_ECONFIG || strcmp(sg_config_errmsg(cfg), c->message) != 0) {
            print_error("case %zu: rc %d\n  got:  %s\n  want: %s\n", i, rc, sg_config_errmsg(cfg),
                        c->message);
            fail();
        }
    }
    /* None of them changed anything. */
    char *after = dump(cfg);
    assert_string_equal(before, after);
    sg_free(before);
    sg_free(after);
    sg_config_free(cfg);
}

/* Settings before the error were applied to the work copy only. */
static void test_failed_load_leaves_config_unchanged(void **state)
{
    struct sg_config *cfg = new_config();
    assert_int_equal(load(cfg, "tenants.acme.channels.email.hold: 2\nlog.level: warn\n"), 0);
    char *before = dump(cfg);
    assert_int_equal(load(cfg, "log.level: debug\n"
                               "store.batch: 7\n"
                               "tenants.acme.channels.email.hold: 3\n"
                               "tenants.zed.channels.email.hold: 3\n"
                               "channels.email.hold: oops\n"),
                     SG_ECONFIG);
    assert_string_equal(sg_config_errmsg(cfg),
                        "t.yaml:5: channels.email.hold: expected a number from 0 to 1000, got \"oops\"");
    char *after = dump(cfg);
    assert_string_equal(before, after);
    assert_int_equal(cfg->log_level, SG_LOG_WARN);
    assert_int_equal(cfg->store_batch, 2000);
    assert_int_equal(cfg->ntenants, 1);
    assert_true(sg__config_policy(cfg, "acme")->ch[SG_CH_EMAIL].hold_at == 2);

    /* The next good load clears the message. */
    assert_int_equal(load(cfg, "log.level: info\n"), 0);
    assert_string_equal(sg_config_errmsg(cfg), "");
    sg_free(before);
    sg_free(after);
    sg_config_free(cfg);
}

static void test_dump_round_trip(void **state)
{
    struct sg_config *cfg = new_config();
    assert_int_equal(load(cfg, "signup.disposable_file: \"/tmp/a \\\"b\\\"\\u00e9\\u2028x\"\n"
                               "channels.sms.hold: 0.1\n"
                               "channels.sms.reject: 123.456789\n"
                               "scores.RATE_IP: -0.001\n"
                               "tenants:\n"
                               "  \"forum.example.org\":\n"
                               "    scores: {RATE_IP: 3}\n"
                               "    channels.email.limits.recipient.rates: [\"3/1d\", \"1/90s\"]\n"
                               "    channels.email.trust.min_account_age: 36h\n"
                               "  'quote\"d: # \\id':\n"
                               "    channels.post.trust.require_verified: true\n"
                               "  acme:\n"
                               "    channels: {sms: {limits: {ip: {cost: recipients}}}, email: {hold: 1}}\n"),
                     0);
    char *first = dump(cfg);
    struct sg_config *again = new_config();
    assert_int_equal(sg_config_load_string(again, "dump", first, strlen(first)), 0);
    char *second = dump(again);
    assert_string_equal(first, second);
    assert_string_equal(again->disposable_file, "/tmp/a \"b\"\xc3\xa9\xe2\x80\xa8x");
    const struct sg_policy *q = sg__config_policy(again, "quote\"d: # \\id");
    assert_true(q->ch[SG_CH_POST].require_verified);
    const struct sg_policy *f = sg__config_policy(again, "forum.example.org");
    assert_int_equal(f->ch[SG_CH_EMAIL].min_account_age_s, 36 * 3600);
    assert_window(&f->ch[SG_CH_EMAIL].limits[SG_SCOPE_RECIPIENT].rule, 0, 1, 90);
    assert_true(again->base.ch[SG_CH_SMS].reject_at == 123.456789);
    assert_true(again->base.score[SG_R_RATE_IP] == -0.001);
    /* Tenants show only what they override. */
    assert_non_null(strstr(first, "  \"acme\":\n    channels:\n      email:\n        hold: 1\n"));

    /* The dump is also a whole config for a fresh load. */
    sg_free(second);
    sg_free(first);
    sg_config_free(again);
    sg_config_free(cfg);
}

static void test_copy(void **state)
{
    struct sg_config *cfg = new_config();
    assert_int_equal(load(cfg, "signup.disposable_file: /x\ntenants.acme.channels.email.hold: 2\n"), 0);
    struct sg_config *copy = NULL;
    assert_int_equal(sg__config_copy(cfg, &copy), 0);
    char *a = dump(cfg), *b = dump(copy);
    assert_string_equal(a, b);
    assert_ptr_not_equal(copy->disposable_file, cfg->disposable_file);
    assert_ptr_not_equal(copy->tenants, cfg->tenants);
    /* Independent: changing one leaves the other. */
    assert_int_equal(load(copy, "tenants.acme.channels.email.hold: 4\n"), 0);
    assert_true(sg__config_policy(cfg, "acme")->ch[SG_CH_EMAIL].hold_at == 2);
    assert_true(sg__config_policy(copy, "acme")->ch[SG_CH_EMAIL].hold_at == 4);
    sg_free(a);
    sg_free(b);
    sg_config_free(copy);
    sg_config_free(cfg);
    sg_config_free(NULL);
}

static void test_load_file(void **state)
{
    struct sg_config *cfg = new_config();
    const char *missing = "/nonexistent/sendguard-test/none.yaml";
    assert_int_equal(sg_config_load_file(cfg, missing), SG_EIO);
    assert_non_null(strstr(sg_config_errmsg(cfg), missing));

    char path[] = "/tmp/sg_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("# a comment\nchannels:\n  sms:\n    trust:\n      min_posts: -1\n", f);
    fclose(f);
    assert_int_equal(sg_config_load_file(cfg, path), SG_ECONFIG);
    char want[256];
    snprintf(want, sizeof want,
             "%s:5: channels.sms.trust.min_posts: expected a whole number from 0 to 1000000, got \"-1\"",
             path);
    assert_string_equal(sg_config_errmsg(cfg), want);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("channels.sms.trust.min_posts: 1\n", f);
    fclose(f);
    assert_int_equal(sg_config_load_file(cfg, path), 0);
    assert_int_equal(cfg->base.ch[SG_CH_SMS].min_posts, 1);
    remove(path);
    sg_config_free(cfg);
}

/* Inputs that are not text or not sized like a config still give a clean error. */
static void test_odd_inputs(void **state)
{
    struct sg_config *cfg = new_config();
    static const char nul[] = "store.batch: 1\0\nlog.level: debug\n";
    assert_int_equal(sg_config_load_string(cfg, NULL, nul, sizeof nul - 1), SG_ECONFIG);
    assert_string_equal(sg_config_errmsg(cfg), "<string>:1: control character 0x00 in the text");
    assert_int_equal(sg_config_load_string(cfg, "x", NULL, 0), 0);
    assert_int_equal(sg_config_load_string(cfg, "x", NULL, 5), SG_EINVAL);
    assert_int_equal(load(cfg, "\"\\0\": 1\n"), SG_ECONFIG);
    assert_string_equal(sg_config_errmsg(cfg), "t.yaml:1: setting names have no control characters");
    char big[256 + 64]; /* an id longer than the 256 bytes allowed */
    memset(big, 'a', sizeof big);
    memcpy(big, "tenants:\n  ", 11);
    memcpy(big + sizeof big - 6, ": {}\n", 5);
    big[sizeof big - 1] = '\0';
    assert_int_equal(load(cfg, big), SG_ECONFIG);
    assert_non_null(strstr(sg_config_errmsg(cfg), "a tenant id is 1 to 256 bytes"));
    sg_config_free(cfg);
}

/* Fails the allocation after `budget` more succeed, to walk every out-of-memory path. */
static long budget = -1;

static void *failing_realloc(void *ptr, size_t size)
{
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (budget == 0)
        return NULL;
    if (budget > 0)
        budget--;
    return realloc(ptr, size);
}

static void test_out_of_memory(void **state)
{
    static const char yaml[] = "channels.email.hold: 2\nsignup.disposable_file: /x\n"
                               "tenants: {a: {scores: {RATE_IP: 1}}, b: {channels.sms.hold: 1}}\n";
    sg_set_allocator(failing_realloc);
    bool succeeded = false;
    for (long n = 0; n < 100000 && !succeeded; n++) {
        budget = n;
        struct sg_config *cfg = NULL, *copy = NULL;
        char *out = NULL;
        int rc = sg_config_new(&cfg);
        if (rc == 0)
            rc = sg_config_load_string(cfg, "t.yaml", yaml, strlen(yaml));
        if (rc == 0)
            rc = sg__config_copy(cfg, &copy);
        if (rc == 0)
            rc = sg_config_dump(copy, &out);
        assert_true(rc == 0 || rc == SG_ENOMEM);
        if (rc == 0) {
            assert_int_equal(copy->ntenants, 2);
            succeeded = true;
        }
        sg_free(out);
        sg_config_free(copy);
        sg_config_free(cfg);
    }
    budget = -1;
    sg_set_allocator(NULL);
    assert_true(succeeded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shipped_file_is_the_default),
        cmocka_unit_test(test_load_overrides),
        cmocka_unit_test(test_tenant_overrides_follow_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_failed_load_leaves_config_unchanged),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_odd_inputs),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
