/* The engine's facts for content rules: first_message and SENDER_MESSAGES count a sender's
 * delivered messages, URL_NEW_DOMAIN the link domains its tenant never delivered (and
 * URL_UNFAMILIAR_DOMAIN those of them nobody vouches for either); neither moves
 * on dry runs or on messages that were not allowed, both survive a restart. Observed through
 * monitor rules (score 0) in a local rules directory that show each fact as it is, plus the
 * shipped OBSCURED_LINK_FIRST_MESSAGE, and the verdict's url_domains. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "engine/domains.h"
#include "store/store.h"
#include "support/engine_harness.h"
#include "support/tmpdir.h"

static const char facts_rules[] =
    "rules:\n"
    "  - {code: T_FIRST, state: monitor, score: 1, description: first, expr: first_message}\n"
    "  - {code: T_NOT_FIRST, state: monitor, score: 1, description: not first, expr: '!first_message'}\n"
    "  - {code: T_SENT_2, state: monitor, score: 1, description: two sent, expr: SENDER_MESSAGES == 2}\n"
    "  - {code: T_NEW, state: monitor, score: 1, description: new domain, expr: URL_NEW_DOMAIN > 0}\n"
    "  - {code: T_NEW_2, state: monitor, score: 1, description: two new, expr: URL_NEW_DOMAIN == 2}\n"
    "  - {code: T_OLD, state: monitor, score: 1, description: known, expr: URL_NEW_DOMAIN == 0}\n"
    "  - {code: T_UNFAMILIAR_0, state: monitor, score: 1, description: none unfamiliar, expr: URL_UNFAMILIAR_DOMAIN == 0}\n"
    "  - {code: T_UNFAMILIAR_1, state: monitor, score: 1, description: one unfamiliar, expr: URL_UNFAMILIAR_DOMAIN == 1}\n";

/* One rules directory for the whole run, so the ruleset is compiled once. */
static char rules_dir[] = "/tmp/sg-facts-rules-XXXXXX";
static char config_yaml[256];

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(rules_dir))
        return -1;
    char path[96];
    snprintf(path, sizeof path, "%s/facts.yaml", rules_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(facts_rules, f);
    fclose(f);
    /* No history needed before URL_NEW_DOMAIN speaks: these tenants are new on purpose
     * (history_makes_new_domains_known tests the default). */
    snprintf(config_yaml, sizeof config_yaml, "rules:\n  local_dir: %s\n  new_domain_history: 0\n",
             rules_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "%s/facts.yaml", rules_dir);
    unlink(path);
    return rmdir(rules_dir);
}

/* An email (no trust gates by default) from sender with body; flags as for submit. */
static json_t *mail(struct harness *h, unsigned flags, const char *tenant, const char *id,
                    const char *sender, const char *body)
{
    h->now += 60 * H_SEC; /* clear of the sender's rate limit */
    return harness_submit(h, flags,
                          "{\"type\":\"message\",\"tenant\":\"%s\",\"id\":\"%s\",\"channel\":\"email\","
                          "\"sender\":\"%s\",\"recipients\":[\"p1\"],\"body\":\"%s\"}",
                          tenant, id, sender, body);
}

/* Asserts which of the fact rules fired; then drops the result. */
static void expect(json_t *r, const char *action, int first, int is_new)
{
    assert_string_equal(j_str(r, "action"), action);
    assert_int_equal(j_has_reason(r, "T_FIRST"), first);
    assert_int_equal(j_has_reason(r, "T_NOT_FIRST"), !first);
    assert_int_equal(j_has_reason(r, "T_NEW"), is_new);
    json_decref(r);
}

static uint32_t stored_messages(struct harness *h, const char *tenant, const char *account)
{
    assert_int_equal(sg_store_flush(h->store), 0);
    char buf[2048];
    struct sg_account_row row;
    assert_int_equal(sg__store_account_get(h->store, tenant, account, &row, buf, sizeof buf), 0);
    return row.messages;
}

static void first_message_then_not(void **state)
{
    (void)state;
    struct harness *h = harness_new(config_yaml);
    harness_account(h, "clinic", "s", 0, 30 * 86400);
    json_t *r = mail(h, 0, "clinic", "m1", "s", "see https://bit.ly/abc");
    assert_true(j_has_reason(r, "OBSCURED_LINK_FIRST_MESSAGE"));
    expect(r, "allow", 1, 1);
    r = mail(h, 0, "clinic", "m2", "s", "see https://bit.ly/abc");
    assert_false(j_has_reason(r, "OBSCURED_LINK_FIRST_MESSAGE"));
    expect(r, "allow", 0, 0);
    r = mail(h, 0, "clinic", "m3", "s", "no link");
    assert_true(j_has_reason(r, "T_SENT_2"));
    assert_true(j_has_reason(r, "T_OLD")); /* no links: nothing new, and that is known */
    expect(r, "allow", 0, 0);
    assert_int_equal(stored_messages(h, "clinic", "s"), 3);
    /* A sender the engine has never seen is on its first message too. */
    expect(mail(h, 0, "clinic", "g1", "ghost", "hello"), "allow", 1, 0);
    expect(mail(h, 0, "clinic", "g2", "ghost", "hello"), "allow", 0, 0);
    harness_free(h);
}

static void dry_runs_do_not_count(void **state)
{
    (void)state;
    struct harness *h = harness_new(config_yaml);
    harness_account(h, "clinic", "s", 0, 30 * 86400);
    for (int i = 0; i < 2; i++)
        expect(mail(h, SG_SUBMIT_DRY_RUN, "clinic", "d", "s", "https://bird-notes.io/win"), "allow", 1, 1);
    /* An unknown sender's dry run creates nothing, so its real first message is still first. */
    expect(mail(h, SG_SUBMIT_DRY_RUN, "clinic", "d", "ghost", "hi"), "allow", 1, 0);
    expect(mail(h, 0, "clinic", "g1", "ghost", "hi"), "allow", 1, 0);
    expect(mail(h, 0, "clinic", "m1", "s", "https://bird-notes.io/win"), "allow", 1, 1);
    /* The dry run sees the stored state: not first, domain known. */
    expect(mail(h, SG_SUBMIT_DRY_RUN, "clinic", "d", "s", "https://bird-notes.io/win"), "allow", 0, 0);
    assert_int_equal(stored_messages(h, "clinic", "s"), 1);
    harness_free(h);
}

static void refused_messages_do_not_count(void **state)
{
    (void)state;
    struct harness *h = harness_new(config_yaml);
    /* No posts: private messages are rejected (the two-posts rule). */
    harness_account(h, "forum", "zero", 0, 30 * 86400);
    json_t *r = harness_pm(h, "forum", "p1", "zero", "\"u1\"", "https://rejected.example/x");
    expect(r, "reject", 1, 1);
    /* One hour old with posts: links are held for a moderator. */
    harness_account(h, "forum", "young", 2, 3600);
    r = harness_pm(h, "forum", "p2", "young", "\"u1\"", "https://held.example/x");
    expect(r, "hold", 1, 1);
    /* Neither counted: the next messages are still first, their domains still new. */
    h->now += 60 * H_SEC;
    expect(harness_pm(h, "forum", "p3", "zero", "\"u1\"", "https://held.example/x"), "reject", 1, 1);
    expect(mail(h, 0, "forum", "e1", "zero", "https://rejected.example/x"), "allow", 1, 1);
    expect(mail(h, 0, "forum", "e2", "young", "https://held.example/x"), "allow", 1, 1);
    expect(mail(h, 0, "forum", "e3", "young", "https://held.example/x"), "allow", 0, 0);
    harness_free(h);
}

static void new_domains_per_tenant(void **state)
{
    (void)state;
    struct harness *h = harness_new(config_yaml);
    json_t *r = mail(h, 0, "a", "m1", "s",
                     "https://www.bird-notes.io/win and http://shop.example.co.uk/ and bird-notes.io/x");
    assert_true(j_has_reason(r, "T_NEW_2")); /* two registrable domains, both new */
    json_t *domains = json_object_get(r, "url_domains");
    assert_int_equal(json_array_size(domains), 2);
    assert_string_equal(json_string_value(json_array_get(domains, 0)), "bird-notes.io");
    assert_string_equal(json_string_value(json_array_get(domains, 1)), "example.co.uk");
    expect(r, "allow", 1, 1);
    /* Known in tenant a now, on any host of the registrable domain... */
    r = mail(h, 0, "a", "m2", "s", "https://cdn.bird-notes.io/img and https://other.example/");
    assert_true(j_has_reason(r, "T_NEW") && !j_has_reason(r, "T_NEW_2"));
    json_decref(r);
    expect(mail(h, 0, "a", "m3", "s", "http://bird-notes.io"), "allow", 0, 0);
    /* ...but not in tenant b, which never delivered it. */
    expect(mail(h, 0, "b", "m1", "s", "http://bird-notes.io"), "allow", 1, 1);
    expect(mail(h, 0, "b", "m2", "s", "http://bird-notes.io"), "allow", 0, 0);
    /* IP literals have no registrable domain: neither new nor listed. */
    r = mail(h, 0, "a", "m4", "s", "http://192.0.2.7/login");
    assert_int_equal(json_array_size(json_object_get(r, "url_domains")), 0);
    assert_true(j_has_reason(r, "T_OLD"));
    json_decref(r);
    /* The stored verdict keeps the domains. */
    assert_int_equal(sg_store_flush(h->store), 0);
    char *json;
    assert_int_equal(sg__store_verdict_get(h->store, "a", "m1", &json), 0);
    assert_non_null(strstr(json, "\"url_domains\":[\"bird-notes.io\",\"example.co.uk\"]"));
    sg_free(json);
    harness_free(h);
}

static int count_one(void *ud, uint64_t key)
{
    (void)key;
    ++*(uint64_t *)ud;
    return 0;
}

static json_t *submit(struct sg_engine *e, const char *json)
{
    struct sg_event *ev;
    struct sg_result *res;
    assert_int_equal(sg_event_parse(json, strlen(json), -1, &ev, NULL), 0);
    assert_int_equal(sg_engine_submit(e, ev, 0, &res), 0);
    json_t *out = json_loads(sg_result_json(res), 0, NULL);
    assert_non_null(out);
    sg_result_free(res);
    sg_event_free(ev);
    return out;
}

static void facts_survive_restart(void **state)
{
    struct tmp *t = *state;
    sg_time now = H_T0;
    struct sg_clock clock = {harness_fixed_clock, &now};
    struct sg_config *cfg;
    assert_int_equal(sg_config_new(&cfg), 0);
    assert_int_equal(sg_config_load_string(cfg, "t.yaml", config_yaml, strlen(config_yaml)), 0);
    const char *msg = "{\"type\":\"message\",\"tenant\":\"c\",\"id\":\"m\",\"channel\":\"email\","
                      "\"sender\":\"s\",\"recipients\":[\"p\"],\"body\":\"https://bird-notes.io\"}";
    const char *other = "{\"type\":\"message\",\"tenant\":\"c\",\"id\":\"o\",\"channel\":\"email\","
                        "\"sender\":\"s2\",\"recipients\":[\"p\"],\"body\":\"https://bird-notes.io\"}";
    for (int round = 0; round < 2; round++) {
        struct sg_store *store;
        struct sg_engine *e;
        assert_int_equal(sg_store_open(t->path, &store), 0);
        assert_int_equal(sg_engine_new(cfg, store, &clock, &e), 0);
        json_t *r = submit(e, msg);
        /* Round 0: first message, new domain. Round 1, after the restart: both remembered. */
        assert_int_equal(j_has_reason(r, "T_FIRST"), round == 0);
        assert_int_equal(j_has_reason(r, "T_NEW"), round == 0);
        json_decref(r);
        if (round == 1) { /* another sender of the same tenant: first, but the domain is known */
            r = submit(e, other);
            assert_true(j_has_reason(r, "T_FIRST") && !j_has_reason(r, "T_NEW"));
            json_decref(r);
        }
        sg_engine_free(e);
        sg_store_close(store);
        now += 60 * H_SEC;
    }
    sg_config_free(cfg);
}

/* Different senders of one tenant are judged in parallel (stripes are per account), so the
 * domain set is shared: every thread sends the same ten domains; each is learnt and stored once,
 * and every sender's count is exact. */
struct worker {
    struct harness *h;
    int id;
};

static void *send_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 25; i++) { /* inside the sender's 30 a minute: all allowed */
        char json[512];
        int n = snprintf(json, sizeof json,
                         "{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m%d-%d\",\"channel\":\"email\","
                         "\"sender\":\"s%d\",\"recipients\":[\"p\"],\"body\":\"see https://d%d.example/ and "
                         "https://d%d.example/\"}",
                         w->id, i, w->id, i % 10, (i + w->id) % 10);
        struct sg_event *ev;
        struct sg_result *res;
        if (sg_event_parse(json, (size_t)n, -1, &ev, NULL) != 0)
            return (void *)1;
        int rc = sg_engine_submit(w->h->engine, ev, 0, &res);
        sg_event_free(ev);
        if (rc)
            return (void *)1;
        sg_result_free(res);
    }
    return NULL;
}

static void parallel_senders_share_domains(void **state)
{
    (void)state;
    struct harness *h = harness_new(config_yaml);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){h, i};
        assert_int_equal(pthread_create(&th[i], NULL, send_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
    assert_int_equal(sg_store_flush(h->store), 0);
    uint64_t n = 0;
    assert_int_equal(sg__store_seen_domains_each(h->store, count_one, &n), 0);
    assert_int_equal(n, 10);
    for (int i = 0; i < 4; i++) {
        char sender[8];
        snprintf(sender, sizeof sender, "s%d", i);
        assert_int_equal(stored_messages(h, "t", sender), 25);
    }
    harness_free(h);
}

/* URL_UNFAMILIAR_DOMAIN: a link domain counts unless it is widely known, a brand's, the
 * tenant's own name, the raw mail's From domain, or delivered in the tenant before; it speaks
 * from a tenant's first message (no history needed, unlike URL_NEW_DOMAIN by default). */
static void unfamiliar_domains(void **state)
{
    (void)state;
    struct harness *h = harness_new(config_yaml);
    harness_account(h, "hikerhub", "s", 0, 30 * 86400);
    json_t *r = mail(h, 0, "hikerhub", "k1", "s",
                     "https://www.youtube.com/watch?v=x https://www.paypal.com/x "
                     "https://hikerhub.co.uk/trail https://www.gov.uk/tax https://amazon.de/x "
                     "https://www.nus.edu.sg/x https://www.ox.ac.uk/y https://nasa.gov/z");
    assert_true(j_has_reason(r, "T_UNFAMILIAR_0"));
    json_decref(r);
    r = mail(h, 0, "hikerhub", "k2", "s",
             "https://bird-notes.io/win https://maps.google.com/x https://bit.ly/abc");
    assert_false(j_has_reason(r, "T_UNFAMILIAR_0")); /* bird-notes.io and the shortener */
    assert_false(j_has_reason(r, "T_UNFAMILIAR_1"));
    json_decref(r);
    /* Delivered in hikerhub now: familiar there, still unfamiliar to another tenant. */
    r = mail(h, 0, "hikerhub", "k3", "s", "https://bird-notes.io/again");
    assert_true(j_has_reason(r, "T_UNFAMILIAR_0"));
    json_decref(r);
    r = mail(h, 0, "otherclub", "k4", "s", "https://www.bird-notes.io/again");
    assert_true(j_has_reason(r, "T_UNFAMILIAR_1"));
    json_decref(r);
    /* A brand-looking host is no brand's own; a raw mail's links to its From domain are. */
    r = mail(h, 0, "otherclub", "k5", "s", "https://paypal-secure.example/login");
    assert_true(j_has_reason(r, "T_UNFAMILIAR_1"));
    json_decref(r);
    h->now += 60 * H_SEC;
    r = harness_submit(h, 0,
                       "{\"type\":\"message\",\"tenant\":\"otherclub\",\"id\":\"k6\","
                       "\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"p1\"],"
                       "\"raw\":\"From: Shop <news@mail.flowershop.example>\\r\\nTo: p1@x.example\\r\\n"
                       "Subject: Sale\\r\\n\\r\\nSee https://www.flowershop.example/sale\\r\\n\"}");
    assert_true(j_has_reason(r, "T_UNFAMILIAR_0"));
    json_decref(r);
    harness_free(h);
}

/* The set itself: bounded, and past the bound a domain it does not hold is unknown. */
static void seen_set_bound(void **state)
{
    (void)state;
    struct sg_seen_domains *s = sg__seen_domains_new(3);
    assert_non_null(s);
    uint64_t keys[5] = {0, 11, 22, 33, 44}; /* 0 is a valid key too */
    bool added[5], dropped;
    int8_t seen[5];
    assert_int_equal(sg__seen_domains_add(s, keys, 2, added, &dropped), 2);
    assert_true(added[0] && added[1] && !dropped);
    assert_int_equal(sg__seen_domains_add(s, keys, 2, added, &dropped), 0); /* known: no change */
    assert_false(added[0] || added[1] || dropped);
    assert_int_equal(sg__seen_domains_add(s, keys + 2, 3, added, &dropped), 1);
    assert_true(added[0] && !added[1] && !added[2] && dropped);
    assert_int_equal(sg__seen_domains_count(s), 3);
    assert_true(sg__seen_domains_full(s));
    sg__seen_domains_lookup(s, 0, 0, keys, 5, seen);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[2], 1);
    assert_int_equal(seen[3], -1);
    assert_int_equal(seen[4], -1);
    sg__seen_domains_free(s);
    /* Growth keeps every key. */
    s = sg__seen_domains_new(0);
    for (uint64_t k = 1; k <= 5000; k++) {
        uint64_t key = k * 0x9e3779b97f4a7c15ull;
        assert_int_equal(sg__seen_domains_add(s, &key, 1, added, NULL), 1);
    }
    for (uint64_t k = 1; k <= 5000; k++) {
        uint64_t key = k * 0x9e3779b97f4a7c15ull;
        sg__seen_domains_lookup(s, 0, 0, &key, 1, seen);
        assert_int_equal(seen[0], 1);
    }
    uint64_t absent = 7;
    sg__seen_domains_lookup(s, 0, 0, &absent, 1, seen);
    assert_int_equal(seen[0], 0);
    /* Without history enough a missing domain is unknown, a held one still known; each tenant
     * has its own history, through the tenant table's growth. */
    uint64_t held = 1 * 0x9e3779b97f4a7c15ull, lookup[2] = {held, absent};
    sg__seen_domains_lookup(s, 99, 3, lookup, 2, seen);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], -1);
    for (uint64_t t = 1; t <= 100; t++)
        assert_int_equal(sg__seen_domains_history_add(s, t, t), 0);
    assert_int_equal(sg__seen_domains_history_add(s, 99, 1), 0);
    sg__seen_domains_lookup(s, 99, 100, lookup, 2, seen);
    assert_int_equal(seen[1], 0); /* 99 + 1 messages: enough */
    sg__seen_domains_lookup(s, 98, 100, lookup, 2, seen);
    assert_int_equal(seen[1], -1);
    sg__seen_domains_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_message_then_not),
        cmocka_unit_test(dry_runs_do_not_count),
        cmocka_unit_test(refused_messages_do_not_count),
        cmocka_unit_test(new_domains_per_tenant),
        cmocka_unit_test_setup_teardown(facts_survive_restart, tmp_setup, tmp_teardown),
        cmocka_unit_test(parallel_senders_share_domains),
        cmocka_unit_test(seen_set_bound),
        cmocka_unit_test(unfamiliar_domains),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
