/* The public limiter the doors use (auth failures per address) and live config reload. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/engine_harness.h"

static void limiter_counts_per_key(void **state)
{
    struct sg_limiter *lim;
    assert_int_equal(sg_limiter_new(&lim), 0);
    sg_time now = H_T0;
    int64_t retry = -1;
    for (int i = 0; i < 20; i++)
        assert_int_equal(sg_limiter_take(lim, "192.0.2.1", 9, 20, 60, now, &retry), 1);
    assert_int_equal(sg_limiter_peek(lim, "192.0.2.1", 9, 20, 60, now, &retry), 0);
    assert_int_equal(sg_limiter_take(lim, "192.0.2.1", 9, 20, 60, now, &retry), 0);
    assert_int_equal(retry, 3); /* 20 a minute: one every 3 s once the burst is spent */
    /* Another key is untouched; a refused take was not counted. */
    assert_int_equal(sg_limiter_take(lim, "192.0.2.2", 9, 20, 60, now, NULL), 1);
    now += 3 * H_SEC;
    assert_int_equal(sg_limiter_take(lim, "192.0.2.1", 9, 20, 60, now, &retry), 1);
    assert_int_equal(sg_limiter_take(lim, "192.0.2.1", 9, 0, 60, now, &retry), SG_EINVAL);
    sg_limiter_free(lim);
    sg_limiter_free(NULL);
}

static void engine_reload_applies_new_policy(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 0, 30 * 86400);
    json_t *r = harness_pm(h, "forum", "m1", "a", "\"u\"", "hi");
    assert_action(r, "reject");
    json_decref(r);
    struct sg_config *cfg;
    assert_int_equal(sg_config_new(&cfg), 0);
    const char *yaml = "channels:\n  private_message:\n    trust:\n      min_posts: 0\n";
    assert_int_equal(sg_config_load_string(cfg, "reload.yaml", yaml, strlen(yaml)), 0);
    assert_int_equal(sg_engine_reload(h->engine, cfg), 0);
    sg_config_free(cfg);
    r = harness_pm(h, "forum", "m2", "a", "\"u\"", "hi");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limiter_counts_per_key),
        cmocka_unit_test(engine_reload_applies_new_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
