/* Fuzz harness for the rule loader: any bytes as one rule file (alone, without the shipped
 * rules, so each input compiles only its own patterns). A failed load must explain itself; a
 * successful one scans a fixed message, which must not fail, and every hit must name a rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "sendguard.h"
#include "text/content.h"
#include "util/alloc.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char subject[] = "Re: Última chance — you have WON";
static const char body[] =
    "Congratulations! You've been selected to receive an exclusive NFT award. Claim your prize "
    "within 24 hours: https://bit.ly/x or message me on WhatsApp +44 7700 900123. Segue em anexo "
    "o seu prêmio. Sie haben gewonnen! Vous avez gagné. U heeft gewonnen. ¡Usted ha ganado! "
    "Reply with your wallet address. \xe2\x80\x8b\xe2\x80\xae\xff invalid bytes \x01 end";

/* The message is built once: it does not depend on the input. */
static const struct sg_content *message(void)
{
    static struct sg_arena *arena;
    static struct sg_content c;
    static struct sg_text_url urls[2];
    if (!arena) {
        arena = sg__arena_new(0);
        if (!arena || sg__rules_plain_content(arena, subject, sizeof subject - 1, body,
                                              sizeof body - 1, &c) != 0)
            abort();
        urls[0].flags = 1u << 1 | 1u << 4; /* shortener, anchor mismatch */
        urls[1].flags = 1u << 0;           /* IP literal */
        c.urls = urls;
        c.nurls = 2;
        c.from_name = "PayPal Support";
        c.from_addr = "help@paypal-support.example";
        c.password_inputs = 1;
    }
    return &c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct sg_content *c = message();
    struct sg_rules *rs = NULL;
    char *errors = NULL;
    int rc = sg__rules_load_string("fuzz.yaml", (const char *)data, size, SG_RULES_NO_BUILTIN, &rs,
                                   &errors);
    if (rc) {
        if (rs || ((rc == SG_ECONFIG) && (!errors || !errors[0])))
            abort(); /* a refused file always says why */
        sg__free(errors);
        return 0;
    }
    if (errors)
        abort();
    struct sg_rules_scratch *s = sg__rules_scratch_new(rs);
    struct sg_arena *a = sg__arena_new(1 << 20);
    size_t n = sg__rules_count(rs);
    struct sg_rule_hit *hits = calloc(n + 1, sizeof *hits);
    if (!s || !a || !hits)
        abort();
    struct sg_rules_facts f;
    sg__rules_facts_init(&f);
    f.v[SG_FACT_FIRST_MESSAGE] = 1;
    for (int channel = -1; channel < 2; channel++) {
        int got = sg__rules_scan(rs, s, c, &f, channel, a, hits, n);
        if (got < 0 || (size_t)got > n)
            abort();
        for (int i = 0; i < got; i++)
            if (!hits[i].code || !hits[i].description || (hits[i].quote && strlen(hits[i].quote) > 80))
                abort();
    }
    free(hits);
    sg__arena_free(a);
    sg__rules_scratch_free(s);
    sg__rules_free(rs);
    return 0;
}
