/* Normalisation (text/normalize.c): confusables fold to the same text, accented words of six
 * languages stay stable, invisible and bidi characters are removed and counted, the offset map
 * points at the right characters, the cache is safe across threads, and no read goes past the
 * end of the input (inputs sit right before a PROT_NONE page). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "text/normalize.h"
#include "util/arena.h"
#include "support/arena_fixture.h"


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

static struct sg_norm norm_of(const char *text)
{
    struct sg_norm n;
    size_t len = strlen(text);
    assert_int_equal(sg__normalize(arena, guarded(text, len), len, true, &n), 0);
    assert_int_equal(strlen(n.s), n.len);
    return n;
}

static void expect(const char *text, const char *want)
{
    struct sg_norm n = norm_of(text);
    if (strcmp(n.s, want) != 0)
        print_error("normalize(\"%s\") = \"%s\", want \"%s\"\n", text, n.s, want);
    assert_string_equal(n.s, want);
}

static void confusables(void **state)
{
    /* Greek lunate sigma, Cyrillic а і у о, Cyrillic Т */
    expect("\xCF\xB9l\xD0\xB0\xD1\x96m \xD1\x83\xD0\xBEur NF\xD0\xA2", "claim your nft");
    expect("Claim your NFT", "claim your nft");
    /* mixed-script word: Cyrillic а in paypal; Cyrillic І (capital) reads as i */
    expect("p\xD0\xB0ypal \xD0\x86NFO", "paypal info");
    /* fullwidth and mathematical letters, circled digits, ligatures (NFKC) */
    expect("\xF0\x9D\x90\x82\xF0\x9D\x90\xA5\xF0\x9D\x90\x9A\xF0\x9D\x90\xA2\xF0\x9D\x90\xA6 "
           "\xEF\xBD\x86\xEF\xBD\x92\xEF\xBD\x85\xEF\xBD\x85 \xE2\x91\xA0 \xEF\xAC\x81",
           "claim free 1 fi");
    /* Latin look-alikes: dotless i, Latin alpha */
    expect("cl\xC9\x91\xC4\xB1m", "claim");
    /* ASCII is never remapped: TR39 would write m as rn, 0 as O, 1 and I as l */
    expect("rn m 0 1 I l |", "rn m 0 1 i l |");
    /* quotes, dashes, ellipsis, fractions */
    expect("\xE2\x80\x9CHi\xE2\x80\x9D \xE2\x80\x93 don\xE2\x80\x99t\xE2\x80\xA6 \xC2\xBD",
           "\"hi\" - don't... 1/2");
    /* other digit systems are ASCII digits */
    expect("\xD9\xA3\xD9\xA4\xD9\xA5 \xE0\xA5\xA8", "345 2");
    /* strike-through and Zalgo marks on ASCII letters are dropped */
    expect("c\xCC\xB8l\xCC\xB8" "a\xCC\xB6\xCC\xB7im", "claim");
}

static void languages(void **state)
{
    expect("You have WON a prize!", "you have won a prize!");
    expect("Voc\xC3\xAA est\xC3\xA1 pronto? Aten\xC3\xA7\xC3\xA3o, a\xC3\xA7\xC3\xA3o!",
           "voc\xC3\xAA est\xC3\xA1 pronto? aten\xC3\xA7\xC3\xA3o, a\xC3\xA7\xC3\xA3o!");
    expect("Stra\xC3\x9F" "e GR\xC3\x96SSE \xC3\x9C" "bung", "strasse gr\xC3\xB6sse \xC3\xBC" "bung");
    expect("\xC5\x92uvre \xC3\xA7\xC3\xA0 et l\xC3\xA0, \xC3\xA9l\xC3\xA8ve na\xC3\xAFve",
           "oeuvre \xC3\xA7\xC3\xA0 et l\xC3\xA0, \xC3\xA9l\xC3\xA8ve na\xC3\xAFve");
    expect("\xC3\x89\xC3\xA9n caf\xC3\xA9, ijs", "\xC3\xA9\xC3\xA9n caf\xC3\xA9, ijs");
    expect("\xC2\xBF" "A\xC3\xB1o ni\xC3\xB1o? \xC2\xA1S\xC3\xAD!",
           "\xC2\xBF" "a\xC3\xB1o ni\xC3\xB1o? \xC2\xA1s\xC3\xAD!");
    /* decomposed input reads as the composed form */
    expect("e\xCC\x81t\xC3\xA9", "\xC3\xA9t\xC3\xA9");
    /* whole words of other scripts stay in their script */
    expect("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80",
           "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80");
    expect("\xCE\x91\xCE\x92\xCE\x93", "\xCE\xB1\xCE\xB2\xCE\xB3");
    expect("\xD9\x87\xD8\xA7", "\xD9\x87\xD8\xA7"); /* Arabic is never read as Latin */
}

static void invisibles(void **state)
{
    struct sg_norm n = norm_of("pay\xE2\x80\x8Bpal \xE2\x80\xAE" "abc\xE2\x80\xAC c\xC2\xADl"
                               "\xE2\x81\xA0" "a\xEF\xBB\xBFim \xE2\x80\x8F!");
    assert_string_equal(n.s, "paypal abc claim !");
    assert_int_equal(n.zero_width, 4);
    assert_int_equal(n.bidi_controls, 3);
    /* a joiner inside an emoji sequence or a Persian word is spelling, not a trick */
    n = norm_of("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 \xD9\x85\xDB\x8C\xE2\x80\x8C"
                "\xD8\xB1\xD9\x88\xD9\x85");
    assert_int_equal(n.zero_width, 0);
    /* variation selectors vanish silently */
    n = norm_of("\xE2\x9D\xA4\xEF\xB8\x8F ok");
    assert_string_equal(n.s, "\xE2\x9D\xA4 ok");
    assert_int_equal(n.zero_width, 0);
}

/* Latin words with Cyrillic or Greek look-alikes are counted; whole words of one script, and
 * Latin letters of other languages (Turkish ı, German ß, French é), are not. */
static void mixed_script_words(void **state)
{
    /* "PаyPаl cоnfirm" with Cyrillic а and о, then a whole Russian word */
    struct sg_norm n = norm_of("P\xD0\xB0yP\xD0\xB0l c\xD0\xBEnfirm \xD0\xBC\xD0\xB8\xD1\x80");
    assert_string_equal(n.s, "paypal confirm \xD0\xBC\xD0\xB8\xD1\x80");
    assert_int_equal(n.mixed_script_words, 2);
    /* Greek omicron inside "g\u03bfogle" */
    n = norm_of("g\xCE\xBFogle");
    assert_int_equal(n.mixed_script_words, 1);
    n = norm_of("K\xC4\xB1rm\xC4\xB1z\xC4\xB1 Stra\xC3\x9F" "e caf\xC3\xA9 \xCE\x91\xCE\x92\xCE\x93");
    assert_int_equal(n.mixed_script_words, 0);
}

static void whitespace(void **state)
{
    expect("  a \t\r\n b\xC2\xA0\xC2\xA0" "c\xE3\x80\x80" "d\xE2\x80\xA8 ", "a b c d");
    expect("", "");
    expect(" \n\t ", "");
    expect("a\x01" "b\x7f" "c", "a b c");
}

static void offsets(void **state)
{
    const char *text = "Hi \xCF\xB9l\xD0\xB0\xD1\x96m  \xF0\x9D\x90\x82 e\xCC\x81 \xC3\x9F!";
    struct sg_norm n = norm_of(text);
    assert_string_equal(n.s, "hi claim c \xC3\xA9 ss!");
    size_t len = strlen(text);
    assert_int_equal(n.map[n.len], len);
    static const uint32_t want[] = {0, 1, 2, 3, 5, 6, 8, 10, 11, 13, 17, 18, 18, 21, 22, 22, 24};
    assert_int_equal(n.len, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n.len; i++) {
        if (n.map[i] != want[i])
            print_error("map[%zu] = %u, want %u\n", i, n.map[i], want[i]);
        assert_int_equal(n.map[i], want[i]);
        /* every entry is the start of a character, and they never go backwards */
        assert_true(((unsigned char)text[n.map[i]] & 0xC0) != 0x80);
        if (i)
            assert_true(n.map[i] >= n.map[i - 1]);
    }
    /* quoting the original words of a match: "claim" in norm is "Ϲlаіm" in text */
    const char *hit = strstr(n.s, "claim");
    size_t from = n.map[hit - n.s], to = n.map[hit - n.s + 5];
    assert_int_equal(to - from, 8);
    assert_memory_equal(text + from, "\xCF\xB9l\xD0\xB0\xD1\x96m", 8);
}

static void invalid_utf8(void **state)
{
    expect("a\xFF" "b\xC3", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    expect("\xE2\x82", "\xEF\xBF\xBD");
    expect("\xED\xA0\x80x", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx"); /* a surrogate */
    size_t n;
    char *c = sg__utf8_clean(arena, "a\0b\xFF", 4, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(c, "a b\xEF\xBF\xBD", 6);
    c = sg__utf8_clean(arena, "caf\xC3\xA9", 5, &n);
    assert_string_equal(c, "caf\xC3\xA9");
}

static void labels(void **state)
{
    const char *cyr = "\xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0\xD3\x8F"; /* раураӏ */
    assert_true(sg__label_confusable(cyr, strlen(cyr)));
    assert_true(sg__label_confusable("p\xD0\xB0ypal", 7));  /* mixed scripts */
    assert_false(sg__label_confusable("paypal", 6));
    assert_false(sg__label_confusable("m\xC3\xBCnchen", 8));
    assert_false(sg__label_confusable("\xE4\xBE\x8B\xE3\x81\x88", 6)); /* 例え */
    assert_false(sg__label_confusable("\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80", 12));
}

/* The mapping cache is filled by whichever thread sees a character first. */
static const char *const mixed =
    "\xCF\xB9l\xD0\xB0\xD1\x96m \xD1\x83\xD0\xBEur NF\xD0\xA2 \xC3\xA9t\xC3\xA9 "
    "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE4\xBE\x8B\xE3\x81\x88 "
    "\xF0\x9F\x98\x80 \xE2\x91\xA0\xE2\x91\xA1 \xC5\x92 \xCE\xB1\xCE\xB2\xCE\xB3";

static void *worker(void *arg)
{
    struct sg_arena *a = sg__arena_new(0);
    const char *want = arg;
    for (int i = 0; i < 200; i++) {
        struct sg_norm n;
        if (sg__normalize(a, mixed, strlen(mixed), true, &n) != 0 || strcmp(n.s, want) != 0) {
            sg__arena_free(a);
            return (void *)1;
        }
        sg__arena_reset(a);
    }
    sg__arena_free(a);
    return NULL;
}

static void threads(void **state)
{
    struct sg_norm ref = norm_of(mixed);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)ref.s), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confusables), cmocka_unit_test(languages),
        cmocka_unit_test(invisibles),  cmocka_unit_test(whitespace),
        cmocka_unit_test(mixed_script_words),
        cmocka_unit_test(offsets),     cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(labels),      cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
