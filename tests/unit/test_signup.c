/* Signup screening: disposable email domains (the shipped list and a local file) block the
 * account; a malformed address sends it to review; ordinary signups pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "support/engine_harness.h"

static json_t *signup(struct harness *h, const char *id, const char *email)
{
    return harness_submit(h, 0, "{\"type\":\"account\",\"tenant\":\"forum\",\"account\":\"%s\",\"email\":\"%s\"}", id, email);
}

static void disposable_blocked(void **state)
{
    struct harness *h = harness_new(NULL);
    /* mailinator.com and 10minutemail.com are in the shipped list; case and subdomains too. */
    const char *bad[] = {"a@mailinator.com", "b@MAILINATOR.com", "c@eu.mailinator.com", "d@10minutemail.com"};
    for (size_t i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "b%zu", i);
        json_t *r = signup(h, id, bad[i]);
        assert_action(r, "block");
        assert_true(j_has_reason(r, "SIGNUP_DISPOSABLE_DOMAIN"));
        assert_non_null(strstr(j_reason_message(r, "SIGNUP_DISPOSABLE_DOMAIN"), "disposable"));
        json_decref(r);
    }
    const char *good[] = {"ann@gmail.com", "bob@clinic-example.nl", "c@mailinator.com.example.org"};
    for (size_t i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "g%zu", i);
        json_t *r = signup(h, id, good[i]);
        assert_action(r, "allow");
        json_decref(r);
    }
    /* A blocked signup cannot send. */
    json_t *r = harness_pm(h, "forum", "m1", "b0", "\"u\"", "hi");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "ACCOUNT_BLOCKED"));
    json_decref(r);
    harness_free(h);
}

static void bad_address_reviewed(void **state)
{
    struct harness *h = harness_new(NULL);
    json_t *r = signup(h, "x", "not-an-address");
    assert_action(r, "review");
    assert_true(j_has_reason(r, "SIGNUP_BAD_EMAIL"));
    json_decref(r);
    harness_free(h);
}

static void switch_off_and_extra_file(void **state)
{
    struct harness *h = harness_new("signup:\n  block_disposable: false\n");
    json_t *r = signup(h, "a", "a@mailinator.com");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);

    char path[] = "/tmp/sg-disposable-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# local additions\nthrowaway.example\nBurner.Example # comment\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char yaml[256];
    snprintf(yaml, sizeof yaml, "signup:\n  disposable_file: %s\n", path);
    h = harness_new(yaml);
    r = signup(h, "a", "a@throwaway.example");
    assert_action(r, "block");
    json_decref(r);
    r = signup(h, "b", "b@x.burner.example");
    assert_action(r, "block");
    json_decref(r);
    r = signup(h, "c", "c@example.com");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disposable_blocked),
        cmocka_unit_test(bad_address_reviewed),
        cmocka_unit_test(switch_off_and_extra_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
