/* Test support: an engine over an in-memory store on a virtual clock, fed JSON events, with
 * results parsed back by jansson so tests assert on the same JSON a platform receives.
 * Header-only: each unit-test runner is one program. */
#ifndef SG_TEST_ENGINE_HARNESS_H
#define SG_TEST_ENGINE_HARNESS_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"

struct harness {
    struct sg_config *cfg;
    struct sg_store *store;
    struct sg_engine *engine;
    sg_time now;
};

static inline sg_time harness_clock(void *ud) { return ((struct harness *)ud)->now; }
/* A clock reading the sg_time ud points at, for tests that open their own engines. */
static inline sg_time harness_fixed_clock(void *ud) { return *(sg_time *)ud; }

/* 2026-11-23T00:00:00Z */
#define H_T0 ((sg_time)1795392000 * 1000000)
#define H_SEC ((sg_time)1000000)

/* yaml may be NULL (the shipped defaults). */
static inline struct harness *harness_new(const char *yaml)
{
    struct harness *h = calloc(1, sizeof *h);
    h->now = H_T0;
    assert_int_equal(sg_config_new(&h->cfg), 0);
    if (yaml) {
        int rc = sg_config_load_string(h->cfg, "test.yaml", yaml, strlen(yaml));
        if (rc)
            fprintf(stderr, "config: %s\n", sg_config_errmsg(h->cfg));
        assert_int_equal(rc, 0);
    }
    assert_int_equal(sg_store_open(NULL, &h->store), 0);
    struct sg_clock clock = {harness_clock, h};
    assert_int_equal(sg_engine_new(h->cfg, h->store, &clock, &h->engine), 0);
    return h;
}

static inline void harness_free(struct harness *h)
{
    sg_engine_free(h->engine);
    sg_store_close(h->store);
    sg_config_free(h->cfg);
    free(h);
}

/* Submits one event (printf-style JSON) and returns the parsed result; caller json_decref()s. */
__attribute__((format(printf, 3, 4))) static inline json_t *harness_submit(struct harness *h, unsigned flags,
                                                                    const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    struct sg_event *ev;
    char *err = NULL;
    int rc = sg_event_parse(buf, (size_t)n, -1, &ev, &err);
    if (rc)
        fprintf(stderr, "event: %s\n", err);
    assert_int_equal(rc, 0);
    struct sg_result *res;
    assert_int_equal(sg_engine_submit(h->engine, ev, flags, &res), 0);
    json_error_t jerr;
    json_t *out = json_loads(sg_result_json(res), 0, &jerr);
    assert_non_null(out);
    sg_result_free(res);
    sg_event_free(ev);
    return out;
}

static inline const char *j_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Does the result carry reason code? */
static inline int j_has_reason(json_t *res, const char *code)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "reasons"), i, r) if (strcmp(j_str(r, "code"), code) == 0) return 1;
    return 0;
}

static inline const char *j_reason_message(json_t *res, const char *code)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "reasons"), i, r) if (strcmp(j_str(r, "code"), code) == 0) return j_str(r, "message");
    return NULL;
}

/* Asserts the action and returns the result for further checks (caller decrefs). */
#define assert_action(res, act) assert_string_equal(j_str((res), "action"), (act))

/* An account with `posts` posts, created `age_s` seconds before now. */
static inline void harness_account(struct harness *h, const char *tenant, const char *id, int posts,
                            long long age_s)
{
    char created[21];
    sg_time_format(h->now - age_s * H_SEC, created);
    json_decref(harness_submit(h, 0,
                               "{\"type\":\"account\",\"tenant\":\"%s\",\"account\":\"%s\","
                               "\"email\":\"%s@example.org\",\"created_at\":\"%s\"}",
                               tenant, id, id, created));
    for (int i = 0; i < posts; i++)
        json_decref(harness_submit(h, 0, "{\"type\":\"activity\",\"tenant\":\"%s\",\"account\":\"%s\",\"kind\":\"post\"}",
                                   tenant, id));
}

/* A private message from sender to recipients (a JSON array body like "\"a\",\"b\""). */
static inline json_t *harness_pm(struct harness *h, const char *tenant, const char *id, const char *sender,
                          const char *recipients, const char *body)
{
    return harness_submit(h, 0,
                          "{\"type\":\"message\",\"tenant\":\"%s\",\"id\":\"%s\",\"channel\":\"private_message\","
                          "\"sender\":\"%s\",\"recipients\":[%s],\"body\":\"%s\"}",
                          tenant, id, sender, recipients, body);
}

#endif
