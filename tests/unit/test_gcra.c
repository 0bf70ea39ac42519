/* Unit tests for the GCRA limiter: limits at their exact boundaries, retry accuracy, several
 * windows at once, backwards clocks, idle expiry, memory per key, snapshots and threads, plus
 * a model check of the open-addressing table under random inserts, resets and sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "util/gcra.h"

#define S(x) ((int64_t)(x) * 1000000)
/* 2026-11-23T00:00:00Z: a realistic clock, far from 0. */
#define T0 S(1795392000)

static struct sg_gcra_rule rule1(uint32_t limit, uint32_t period_s)
{
    struct sg_gcra_rule r;
    memset(&r, 0, sizeof r);
    r.nwindows = 1;
    r.w[0].limit = limit;
    r.w[0].period_s = period_s;
    return r;
}

static struct sg_gcra_rule rule2(uint32_t l0, uint32_t p0, uint32_t l1, uint32_t p1)
{
    struct sg_gcra_rule r = rule1(l0, p0);
    r.nwindows = 2;
    r.w[1].limit = l1;
    r.w[1].period_s = p1;
    return r;
}

static void test_exact_limit(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    assert_non_null(t);
    struct sg_gcra_rule r = rule1(2, 60);
    int64_t retry = 12345;
    assert_int_equal(sg__gcra_take(t, 7, &r, 1, T0, &retry), 1);
    assert_int_equal(retry, 0);
    assert_int_equal(sg__gcra_take(t, 7, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 7, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(30));
    /* Another key is not affected. */
    assert_int_equal(sg__gcra_take(t, 8, &r, 1, T0, &retry), 1);
    sg__gcra_free(t);
}

static void test_burst(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(1);
    struct sg_gcra_rule r = rule1(10, 10);
    int64_t retry;
    for (int i = 0; i < 10; i++)
        assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(1));

    /* 3 per 10 s: the interval (3.333… s) is not a whole number of µs, yet 3 fit at once and
     * the 4th waits 10/3 s within a microsecond. */
    struct sg_gcra_rule r3 = rule1(3, 10);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sg__gcra_take(t, 2, &r3, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 2, &r3, 1, T0, &retry), 0);
    assert_true(retry >= 3333332 && retry <= 3333334);
    /* After a whole period the burst is available again. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sg__gcra_take(t, 2, &r3, 1, T0 + S(10), &retry), 1);
    assert_int_equal(sg__gcra_take(t, 2, &r3, 1, T0 + S(10), &retry), 0);
    sg__gcra_free(t);
}

static void test_retry_accuracy(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(2);
    struct sg_gcra_rule r = rule1(2, 60);
    int64_t retry;
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_peek(t, 1, &r, 1, T0 + S(2), &retry), 0);
    assert_int_equal(retry, S(28));
    /* Denied one microsecond early, allowed exactly when the retry has elapsed. */
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0 + S(30) - 1, &retry), 0);
    assert_int_equal(retry, 1);
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0 + S(30), &retry), 1);
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0 + S(30), &retry), 0);
    assert_int_equal(retry, S(30));
    sg__gcra_free(t);
}

static void test_allowed_when_retry_elapses(void **state)
{
    /* Whatever the rule, waiting exactly retry_us makes the request fit. */
    struct sg_gcra_table *t = sg__gcra_new(2);
    struct sg_gcra_rule rules[] = {rule1(2, 60), rule1(3, 10), rule1(7, 3600),
                                   rule2(2, 60, 20, 3600)};
    for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
        int64_t now = T0, retry;
        int denied = 0;
        for (int i = 0; i < 50 && denied < 5; i++) {
            if (sg__gcra_take(t, 100 + k, &rules[k], 1, now, &retry) == 1) {
                now += S(1) / 3;
                continue;
            }
            denied++;
            assert_true(retry > 0);
            assert_int_equal(sg__gcra_peek(t, 100 + k, &rules[k], 1, now + retry - 1, NULL), 0);
            now += retry;
            assert_int_equal(sg__gcra_take(t, 100 + k, &rules[k], 1, now, &retry), 1);
        }
        assert_int_equal(denied, 5);
    }
    sg__gcra_free(t);
}

static void test_several_windows(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule2(2, 60, 3, 3600);
    int64_t retry;
    assert_int_equal(sg__gcra_take(t, 9, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 9, &r, 1, T0 + S(30), &retry), 1);
    assert_int_equal(sg__gcra_take(t, 9, &r, 1, T0 + S(60), &retry), 1);
    /* The minute window alone would allow the 4th at +120 s; the hour window blocks it:
     * its TAT is T0 + 3 * 1200 s, so the next unit fits at T0 + 4800 - 3600 = T0 + 1200 s. */
    struct sg_gcra_rule minute = rule1(2, 60);
    assert_int_equal(sg__gcra_peek(t, 9, &minute, 1, T0 + S(120), &retry), 1);
    assert_int_equal(sg__gcra_take(t, 9, &r, 1, T0 + S(120), &retry), 0);
    assert_int_equal(retry, S(1080));
    assert_int_equal(sg__gcra_take(t, 9, &r, 1, T0 + S(1200), &retry), 1);

    /* Both windows limited: retry is the larger of the two. */
    struct sg_gcra_rule r2 = rule2(2, 60, 2, 600);
    assert_int_equal(sg__gcra_take(t, 10, &r2, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 10, &r2, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 10, &r2, 1, T0, &retry), 0);
    assert_int_equal(retry, S(300));
    sg__gcra_free(t);
}

static void test_cost(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule1(5, 60);
    int64_t retry;
    assert_int_equal(sg__gcra_take(t, 3, &r, 3, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 3, &r, 3, T0, &retry), 0);
    /* TAT is T0+36 s; 3 more units need it at T0+24 s: 12 s to wait. */
    assert_int_equal(retry, S(12));
    assert_int_equal(sg__gcra_take(t, 3, &r, 2, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 3, &r, 1, T0, &retry), 0);
    /* A whole-limit cost fits a fresh key exactly. */
    assert_int_equal(sg__gcra_take(t, 4, &r, 5, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 4, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(12));
    /* cost 0 always fits and counts nothing. */
    assert_int_equal(sg__gcra_take(t, 5, &r, 0, T0, &retry), 1);
    assert_int_equal(sg__gcra_count(t), 2);
    sg__gcra_free(t);
}

static void test_cost_over_limit(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule1(5, 60);
    int64_t retry = 0;
    assert_int_equal(sg__gcra_peek(t, 3, &r, 6, T0, &retry), 0);
    assert_int_equal(retry, -1);
    assert_int_equal(sg__gcra_take(t, 3, &r, 6, T0, &retry), 0);
    assert_int_equal(retry, -1);
    assert_int_equal(sg__gcra_count(t), 0); /* a refused take charges nothing */
    /* -1 wins over a finite retry from another window, whichever comes first. */
    struct sg_gcra_rule a = rule2(1, 60, 2, 3600), b = rule2(2, 3600, 1, 60);
    assert_int_equal(sg__gcra_take(t, 4, &a, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_peek(t, 4, &a, 2, T0, &retry), 0);
    assert_int_equal(retry, -1);
    assert_int_equal(sg__gcra_take(t, 5, &b, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_peek(t, 5, &b, 2, T0, &retry), 0);
    assert_int_equal(retry, -1);
    /* A limit of 0 never fits; no windows never limit. */
    struct sg_gcra_rule zero = rule1(0, 60), none;
    memset(&none, 0, sizeof none);
    assert_int_equal(sg__gcra_peek(t, 6, &zero, 1, T0, &retry), 0);
    assert_int_equal(retry, -1);
    assert_int_equal(sg__gcra_take(t, 6, &none, 1000, T0, &retry), 1);
    /* charge never refuses, even above the limit: the key is then held for 2 periods. */
    assert_int_equal(sg__gcra_charge(t, 7, &r, 10, T0), 0);
    assert_int_equal(sg__gcra_peek(t, 7, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(72));
    sg__gcra_free(t);
}

static int64_t tat_of_key;
static uint64_t wanted_key;
static int grab_tat(void *ud, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS])
{
    if (key == wanted_key)
        tat_of_key = tat[0];
    return 0;
}

static int64_t tat0(struct sg_gcra_table *t, uint64_t key)
{
    wanted_key = key;
    tat_of_key = -1;
    sg__gcra_foreach(t, grab_tat, NULL);
    return tat_of_key;
}

static void test_clock_backwards(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule1(2, 60);
    int64_t retry;
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(tat0(t, 1), T0 + S(30));
    /* The clock steps back 10 minutes: TAT never decreases, retry never negative. */
    for (int64_t back = 0; back <= S(600); back += S(7)) {
        int rc = sg__gcra_peek(t, 1, &r, 1, T0 - back, &retry);
        assert_true(rc == 1 || retry > 0);
        assert_true(retry >= 0);
    }
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0 - S(10), &retry), 0);
    assert_true(retry > 0);
    assert_int_equal(tat0(t, 1), T0 + S(30));
    /* A charge at the earlier time still moves the TAT forward from where it was. */
    assert_int_equal(sg__gcra_charge(t, 1, &r, 1, T0 - S(600)), 0);
    assert_int_equal(tat0(t, 1), T0 + S(60));
    /* Stricter, never looser: at T0 the key is full; back in time it is still full. */
    assert_int_equal(sg__gcra_peek(t, 1, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(30));
    assert_int_equal(sg__gcra_peek(t, 1, &r, 1, T0 - S(5), &retry), 0);
    assert_true(retry >= S(30));
    struct sg_gcra_state st;
    assert_int_equal(sg__gcra_state(t, 1, &r, T0 - S(600), &st), 1);
    assert_true(st.used <= 2.0 && st.used > 0);
    assert_true(st.retry_us > 0);
    /* A negative clock is clamped to 0 rather than wrapping. */
    assert_int_equal(sg__gcra_take(t, 2, &r, 1, -5, &retry), 1);
    assert_true(tat0(t, 2) == S(30));
    sg__gcra_free(t);
}

static void test_peek_does_not_charge(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule1(2, 60);
    int64_t retry;
    for (int i = 0; i < 10; i++)
        assert_int_equal(sg__gcra_peek(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_count(t), 0);
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sg__gcra_peek(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_peek(t, 1, &r, 1, T0, &retry), 0);
    /* A denied take leaves the state as it was. */
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(30));
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(30));
    /* The engine's split: peek, then charge after the verdict. */
    assert_int_equal(sg__gcra_peek(t, 2, &r, 2, T0, &retry), 1);
    assert_int_equal(sg__gcra_charge(t, 2, &r, 2, T0), 0);
    assert_int_equal(sg__gcra_peek(t, 2, &r, 1, T0, &retry), 0);
    sg__gcra_free(t);
}

static void test_state(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule2(2, 60, 20, 3600);
    struct sg_gcra_state st[2];
    assert_int_equal(sg__gcra_state(t, 1, &r, T0, st), 0);
    assert_int_equal(st[0].limit, 2);
    assert_int_equal(st[0].period_s, 60);
    assert_true(st[0].used == 0.0 && st[1].used == 0.0);
    assert_int_equal(st[0].retry_us, 0);
    assert_int_equal(sg__gcra_charge(t, 1, &r, 1, T0), 0);
    assert_int_equal(sg__gcra_state(t, 1, &r, T0, st), 1);
    assert_true(st[0].used > 0.999999 && st[0].used < 1.000001);
    assert_true(st[1].used > 0.999999 && st[1].used < 1.000001);
    assert_int_equal(st[0].retry_us, 0);
    assert_int_equal(sg__gcra_charge(t, 1, &r, 1, T0), 0);
    assert_int_equal(sg__gcra_state(t, 1, &r, T0 + S(15), st), 1);
    assert_true(st[0].used > 1.499999 && st[0].used < 1.500001);
    assert_int_equal(st[0].retry_us, S(15));
    assert_int_equal(st[1].retry_us, 0);
    sg__gcra_free(t);
}

static void test_idle_expiry(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(8);
    struct sg_gcra_rule r = rule2(2, 60, 3, 3600);
    for (uint64_t k = 1; k <= 1000; k++)
        assert_int_equal(sg__gcra_charge(t, k * 0x9e3779b97f4a7c15ULL, &r, 1, T0), 0);
    assert_int_equal(sg__gcra_count(t), 1000);
    sg__gcra_expire(t, T0 + S(60));
    assert_int_equal(sg__gcra_count(t), 1000); /* the hour window still counts them */
    sg__gcra_expire(t, T0 + S(1200) - 1);
    assert_int_equal(sg__gcra_count(t), 1000);
    sg__gcra_expire(t, T0 + S(1200));
    assert_int_equal(sg__gcra_count(t), 0);
    /* Shrinking gave the memory back. */
    assert_true(sg__gcra_bytes(t) < 8 * 1024);

    /* An idle key's state equals a fresh key's, before and after the sweep. */
    struct sg_gcra_state fresh[2], old[2];
    assert_int_equal(sg__gcra_charge(t, 42, &r, 2, T0), 0);
    int64_t later = T0 + S(3600);
    assert_int_equal(sg__gcra_state(t, 43, &r, later, fresh), 0);
    assert_int_equal(sg__gcra_state(t, 42, &r, later, old), 0);
    assert_memory_equal(fresh, old, sizeof fresh);
    sg__gcra_expire(t, later);
    assert_int_equal(sg__gcra_count(t), 0);
    assert_int_equal(sg__gcra_state(t, 42, &r, later, old), 0);
    assert_memory_equal(fresh, old, sizeof fresh);

    /* Without any sweep call, ordinary traffic reclaims idle keys incrementally. */
    for (uint64_t k = 1; k <= 1000; k++)
        assert_int_equal(sg__gcra_charge(t, k * 0x9e3779b97f4a7c15ULL, &r, 1, T0), 0);
    assert_int_equal(sg__gcra_count(t), 1000);
    for (uint64_t k = 1; k <= 20000; k++)
        sg__gcra_peek(t, k * 0xc2b2ae3d27d4eb4fULL, &r, 1, later, NULL);
    assert_int_equal(sg__gcra_count(t), 0);
    sg__gcra_free(t);
}

static void test_memory(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(16);
    struct sg_gcra_rule r = rule2(2, 60, 50, 86400);
    const size_t n = 100000;
    for (size_t k = 1; k <= n; k++)
        assert_int_equal(sg__gcra_charge(t, k, &r, 1, T0), 0);
    assert_int_equal(sg__gcra_count(t), n);
    size_t bytes = sg__gcra_bytes(t);
    double per_key = (double)bytes / (double)n;
    printf("gcra: %zu keys, %zu bytes, %.1f bytes/key\n", n, bytes, per_key);
    assert_true(bytes / n <= 256);
    /* Every key still answers correctly after all that growth. */
    int64_t retry;
    for (size_t k = 1; k <= n; k += 997) {
        assert_int_equal(sg__gcra_peek(t, k, &r, 1, T0, &retry), 1);
        assert_int_equal(sg__gcra_take(t, k, &r, 2, T0, &retry), 0);
    }
    /* Keys that keep being renewed while others go idle: growth stays bounded by live keys. */
    struct sg_gcra_table *u = sg__gcra_new(4);
    struct sg_gcra_rule minute = rule1(2, 60);
    for (size_t k = 1; k <= 200000; k++)
        assert_int_equal(sg__gcra_charge(u, k, &minute, 1, T0 + (int64_t)k * 1000), 0);
    /* Only the last 30 s of keys (30000) are live at the end; the table never held much more
     * than that, and after a sweep it holds exactly those. */
    assert_true(sg__gcra_bytes(u) <= 30000 * 256);
    sg__gcra_expire(u, T0 + (int64_t)200000 * 1000);
    assert_int_equal(sg__gcra_count(u), 30000);
    sg__gcra_free(u);
    sg__gcra_free(t);
}

struct snap {
    size_t n;
    uint64_t keys[64];
    int64_t tats[64][SG_GCRA_MAX_WINDOWS];
};

static int collect(void *ud, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS])
{
    struct snap *s = ud;
    if (s->n == 64)
        return 1;
    s->keys[s->n] = key;
    memcpy(s->tats[s->n], tat, sizeof s->tats[0]);
    s->n++;
    return 0;
}

static int find_snap(const struct snap *s, uint64_t key)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->keys[i] == key)
            return (int)i;
    return -1;
}

static int stop_at_first(void *ud, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS])
{
    (*(int *)ud)++;
    return 77;
}

static void test_foreach_restore(void **state)
{
    struct sg_gcra_table *a = sg__gcra_new(4), *b = sg__gcra_new(2);
    struct sg_gcra_rule r = rule2(2, 60, 20, 3600);
    for (uint64_t k = 0; k < 40; k++)
        assert_int_equal(sg__gcra_charge(a, k * 1000003, &r, 1 + (uint32_t)(k % 2), T0 + S(k)), 0);
    struct snap sa, sb;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    assert_int_equal(sg__gcra_foreach(a, collect, &sa), 0);
    assert_int_equal(sa.n, 40);
    assert_true(find_snap(&sa, 0) >= 0);
    for (size_t i = 0; i < sa.n; i++) {
        assert_int_equal(sa.tats[i][2], 0); /* unused windows read 0 */
        assert_int_equal(sg__gcra_restore(b, sa.keys[i], sa.tats[i]), 0);
    }
    assert_int_equal(sg__gcra_count(b), 40);
    assert_int_equal(sg__gcra_foreach(b, collect, &sb), 0);
    assert_int_equal(sb.n, 40);
    for (size_t i = 0; i < sa.n; i++) {
        int j = find_snap(&sb, sa.keys[i]);
        assert_true(j >= 0);
        assert_memory_equal(sa.tats[i], sb.tats[j], sizeof sa.tats[0]);
    }
    /* Both tables now give the same verdicts. */
    for (uint64_t k = 0; k < 40; k++) {
        int64_t ra, rb;
        int fa = sg__gcra_peek(a, k * 1000003, &r, 1, T0 + S(40), &ra);
        int fb = sg__gcra_peek(b, k * 1000003, &r, 1, T0 + S(40), &rb);
        assert_int_equal(fa, fb);
        assert_int_equal(ra, rb);
    }
    /* Restore merges: an older TAT does not lower a newer one. */
    int64_t older[SG_GCRA_MAX_WINDOWS] = {1, 1, 0, 0};
    assert_int_equal(sg__gcra_restore(b, sa.keys[3], older), 0);
    assert_int_equal(tat0(b, sa.keys[3]), sa.tats[3][0]);
    /* A non-zero callback return stops the walk and is passed back. */
    int calls = 0;
    assert_int_equal(sg__gcra_foreach(a, stop_at_first, &calls), 77);
    assert_int_equal(calls, 1);
    sg__gcra_free(a);
    sg__gcra_free(b);
}

static void test_reset(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule1(2, 60);
    int64_t retry;
    assert_int_equal(sg__gcra_reset(t, 1234), SG_ENOTFOUND);
    assert_int_equal(sg__gcra_take(t, 1234, &r, 2, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 1234, &r, 1, T0, &retry), 0);
    assert_int_equal(sg__gcra_reset(t, 1234), 0);
    assert_int_equal(sg__gcra_reset(t, 1234), SG_ENOTFOUND);
    assert_int_equal(sg__gcra_take(t, 1234, &r, 2, T0, &retry), 1);
    assert_int_equal(sg__gcra_count(t), 1);
    sg__gcra_free(t);
}

static void test_key_zero(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(4);
    struct sg_gcra_rule r = rule1(2, 60);
    int64_t retry;
    assert_int_equal(sg__gcra_reset(t, 0), SG_ENOTFOUND);
    assert_int_equal(sg__gcra_take(t, 0, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 0, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 0, &r, 1, T0, &retry), 0);
    assert_int_equal(retry, S(30));
    assert_int_equal(sg__gcra_take(t, 1, &r, 1, T0, &retry), 1);
    assert_int_equal(sg__gcra_count(t), 2);
    struct sg_gcra_state st;
    assert_int_equal(sg__gcra_state(t, 0, &r, T0, &st), 1);
    assert_true(st.used > 1.99 && st.used < 2.01);
    assert_int_equal(tat0(t, 0), T0 + S(60));
    assert_int_equal(sg__gcra_reset(t, 0), 0);
    assert_int_equal(sg__gcra_count(t), 1);
    assert_int_equal(sg__gcra_take(t, 0, &r, 2, T0, &retry), 1);
    sg__gcra_expire(t, T0 + S(60));
    assert_int_equal(sg__gcra_count(t), 0);
    sg__gcra_free(t);
}

struct hammer {
    struct sg_gcra_table *t;
    struct sg_gcra_rule rule;
    int ok;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 2000; i++) {
        int64_t retry;
        /* Other keys in between make the threads meet on the shard locks too. */
        sg__gcra_take(h->t, 1000 + (uint64_t)i, &h->rule, 1, T0, &retry);
        if (sg__gcra_take(h->t, 99, &h->rule, 1, T0 + i % 3, &retry) == 1)
            h->ok++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(2);
    enum { NT = 4, LIMIT = 150 };
    struct hammer h[NT];
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        h[i].t = t;
        h[i].rule = rule1(LIMIT, 3600);
        h[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        total += h[i].ok;
    }
    assert_int_equal(total, LIMIT);
    sg__gcra_free(t);
}

/* A model check of the table itself: random restores, resets and sweeps on one shard (long
 * clusters, many backward shifts, growth and shrinking), compared with a plain array. */
static void test_table_model(void **state)
{
    enum { NKEYS = 3000, NOPS = 200000 };
    static int64_t model[NKEYS]; /* 0: absent, else the TAT */
    memset(model, 0, sizeof model);
    struct sg_gcra_table *t = sg__gcra_new(1);
    uint64_t rng = 88172645463325252ULL;
    int64_t now = 1000;
    for (int op = 0; op < NOPS; op++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned k = (unsigned)(rng % NKEYS);
        /* Keys differing in high bits only and 0 are both included. */
        uint64_t key = (uint64_t)k << 40;
        unsigned what = (unsigned)(rng >> 32) % 100;
        if (what < 60) {
            int64_t tat[SG_GCRA_MAX_WINDOWS] = {now + (int64_t)((rng >> 20) % 5000) + 1, 0, 0, 0};
            assert_int_equal(sg__gcra_restore(t, key, tat), 0);
            if (tat[0] > model[k])
                model[k] = tat[0];
        } else if (what < 98) {
            int rc = sg__gcra_reset(t, key);
            assert_int_equal(rc, model[k] ? 0 : SG_ENOTFOUND);
            model[k] = 0;
        } else {
            now += 500;
            sg__gcra_expire(t, now);
            for (int i = 0; i < NKEYS; i++)
                if (model[i] && model[i] <= now)
                    model[i] = 0;
        }
    }
    size_t live = 0;
    for (int i = 0; i < NKEYS; i++) {
        live += model[i] != 0;
        int64_t got = tat0(t, (uint64_t)i << 40);
        assert_int_equal(got, model[i] ? model[i] : -1);
    }
    assert_int_equal(sg__gcra_count(t), live);
    sg__gcra_free(t);
}

static void test_extremes(void **state)
{
    struct sg_gcra_table *t = sg__gcra_new(2);
    int64_t retry;
    /* The largest window: a whole-limit cost fits exactly, one more never. */
    struct sg_gcra_rule big = rule1(UINT32_MAX, UINT32_MAX);
    assert_int_equal(sg__gcra_take(t, 1, &big, UINT32_MAX, T0, &retry), 1);
    assert_int_equal(sg__gcra_take(t, 1, &big, 1, T0, &retry), 0);
    assert_int_equal(retry, S(1));
    /* A charge far past any limit saturates instead of wrapping. */
    struct sg_gcra_rule one = rule1(1, UINT32_MAX);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sg__gcra_charge(t, 2, &one, UINT32_MAX, T0), 0);
    assert_int_equal(sg__gcra_peek(t, 2, &one, 1, T0, &retry), 0);
    assert_true(retry > S(INT64_C(1) << 32));
    struct sg_gcra_state st;
    assert_int_equal(sg__gcra_state(t, 2, &one, T0, &st), 1);
    assert_true(st.used == 1.0);
    assert_true(st.retry_us > 0);
    /* Rates finer than 1 µs are capped at one unit per µs, never unlimited. */
    struct sg_gcra_rule fast = rule1(3000000, 1);
    int ok = 0;
    for (int i = 0; i < 4000000; i++)
        ok += sg__gcra_take(t, 3, &fast, 1, T0, NULL);
    assert_int_equal(ok, 1000000);
    sg__gcra_free(t);
}

static void test_new_free(void **state)
{
    sg__gcra_free(NULL);
    struct sg_gcra_table *t = sg__gcra_new(0);
    assert_non_null(t);
    sg__gcra_free(t);
    t = sg__gcra_new(100000); /* capped at 4096 shards */
    assert_non_null(t);
    assert_true(sg__gcra_bytes(t) <= 4096 * 256 + 4096);
    struct sg_gcra_rule r = rule1(1, 1);
    assert_int_equal(sg__gcra_take(t, 5, &r, 1, T0, NULL), 1);
    assert_int_equal(sg__gcra_take(t, 5, &r, 1, T0, NULL), 0);
    sg__gcra_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_limit),
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_retry_accuracy),
        cmocka_unit_test(test_allowed_when_retry_elapses),
        cmocka_unit_test(test_several_windows),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_cost_over_limit),
        cmocka_unit_test(test_clock_backwards),
        cmocka_unit_test(test_peek_does_not_charge),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_idle_expiry),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_foreach_restore),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_key_zero),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_table_model),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_new_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
