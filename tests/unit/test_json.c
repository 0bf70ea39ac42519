/* The hot-path JSON reader: RFC 8259 acceptance (checked against jansson on every sample),
 * escapes and surrogate pairs, UTF-8 validation, depth limits, error offsets, and no read past
 * the end (inputs sit right before a PROT_NONE page). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/json.h"

/* Copies text so its last byte is the last readable byte before an inaccessible page. */
static const char *guarded(const char *text, size_t len)
{
    static char *map;
    static size_t page;
    if (!map) {
        page = (size_t)sysconf(_SC_PAGESIZE);
        map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(map != MAP_FAILED);
        assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
    }
    assert_true(len <= page);
    memcpy(map + page - len, text, len);
    return map + page - len;
}

static int parse(const char *text, struct sg_json *j, struct sg_json_val *v)
{
    size_t len = strlen(text);
    sg__json_init(j, guarded(text, len), len, 16);
    return sg__json_value(j, v) == 0 && sg__json_end(j) == 0 ? 0 : -1;
}

static void agrees_with_jansson(void **state)
{
    static const char *const samples[] = {
        "{}", "[]", "{\"a\":1}", "[1,2.5,-0,1e10,1E-2,true,false,null,\"x\"]", "\"str\"", "0", "-1.5e+3",
        "{\"a\":{\"b\":[{}]}}", " \t\n{ \"k\" : \"v\" } \r\n", "\"\\u00e9\\ud83d\\ude00\\n\\\"\"",
        "\"caf\xc3\xa9\"", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "[01]", "[1.]", "[.5]", "[-]",
        "[1e]", "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\xc3\x28\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"a\x01\"", "[true", "{\"a\":1,}", "[1] x", "", "   ", "nul", "tru",
        "\"\\u0000\"", "{\"a\":1}{}", "[\"\xe2\x82\xac\"]", "[1,2", "{\"a\":\"b\",\"a\":\"c\"}",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        struct sg_json j;
        struct sg_json_val v;
        int mine = parse(samples[i], &j, &v);
        json_error_t err;
        json_t *ref = json_loadb(samples[i], strlen(samples[i]), JSON_DECODE_ANY, &err);
        if ((mine == 0) != (ref != NULL))
            fprintf(stderr, "disagree on %s: mine %d (%s), jansson %s\n", samples[i], mine,
                    j.error ? j.error : "ok", ref ? "ok" : err.text);
        assert_int_equal(mine == 0, ref != NULL);
        json_decref(ref);
    }
}

static void strings_decode(void **state)
{
    struct sg_json j;
    struct sg_json_val v;
    assert_int_equal(parse("\"a\\u00e9\\ud83d\\ude00\\t\\/\\\\\\\"z\"", &j, &v), 0);
    assert_true(v.escaped);
    char out[64];
    size_t n = sg__json_string(&v, out);
    assert_string_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\t/\\\"z");
    assert_int_equal(n, strlen(out));
    assert_true(sg__json_string_is(&v, "a\xc3\xa9\xf0\x9f\x98\x80\t/\\\"z"));
    assert_int_equal(parse("\"plain\"", &j, &v), 0);
    assert_false(v.escaped);
    assert_true(sg__json_string_is(&v, "plain"));
    assert_false(sg__json_string_is(&v, "plai"));
}

static void iterate(void **state)
{
    struct sg_json j;
    struct sg_json_val root, k, val, item;
    assert_int_equal(parse("{ \"a\" : [1, \"two\", {\"x\":null}] , \"b\":true,\"c\":{}}", &j, &root), 0);
    size_t pos = 0, n = 0;
    const char *keys[] = {"a", "b", "c"};
    while (sg__json_object_next(&root, &pos, &k, &val)) {
        assert_true(sg__json_string_is(&k, keys[n]));
        if (n == 0) {
            size_t apos = 0, m = 0;
            enum sg_json_type want[] = {SG_JSON_NUMBER, SG_JSON_STRING, SG_JSON_OBJECT};
            while (sg__json_array_next(&val, &apos, &item))
                assert_int_equal(item.type, want[m++]);
            assert_int_equal(m, 3);
        }
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(parse("[]", &j, &root), 0);
    pos = 0;
    assert_int_equal(sg__json_array_next(&root, &pos, &item), 0);
}

static void integers(void **state)
{
    struct sg_json j;
    struct sg_json_val v;
    int64_t x;
    assert_int_equal(parse("9223372036854775807", &j, &v), 0);
    assert_true(sg__json_int(&v, &x) && x == INT64_MAX);
    assert_int_equal(parse("-9223372036854775808", &j, &v), 0);
    assert_true(sg__json_int(&v, &x) && x == INT64_MIN);
    assert_int_equal(parse("9223372036854775808", &j, &v), 0);
    assert_false(sg__json_int(&v, &x));
    assert_int_equal(parse("1.0", &j, &v), 0);
    assert_false(sg__json_int(&v, &x));
    assert_int_equal(parse("1e3", &j, &v), 0);
    assert_false(sg__json_int(&v, &x));
}

static void depth_and_offsets(void **state)
{
    struct sg_json j;
    struct sg_json_val v;
    assert_int_equal(parse("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", &j, &v), 0);   /* 16 levels */
    assert_int_equal(parse("[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", &j, &v), -1); /* 17 */
    assert_string_equal(j.error, "nested too deeply");
    assert_int_equal(parse("{\"a\":1,\"b\":x}", &j, &v), -1);
    assert_int_equal(j.error_offset, 11);
    assert_string_equal(j.error, "invalid number");
    assert_int_equal(parse("\"abc", &j, &v), -1);
    assert_string_equal(j.error, "unterminated string");
    assert_int_equal(parse("\"\\u00", &j, &v), -1);
    assert_string_equal(j.error, "truncated \\u escape");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agrees_with_jansson),
        cmocka_unit_test(strings_decode),
        cmocka_unit_test(iterate),
        cmocka_unit_test(integers),
        cmocka_unit_test(depth_and_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
