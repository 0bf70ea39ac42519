/* Compiles every regex and words rule of a ruleset into ONE Hyperscan block-mode database, so a
 * message is scanned once whatever the number of rules. Each rule is one expression whose id is
 * the rule's index; patterns are caseless UTF-8, and report where a match
 * starts (SOM) so a reason can quote the original words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/hscache.h"
#include "rules/regex_memo.h"
#include "rules/internal.h"
#include "util/alloc.h"

/* Byte-wise, without HS_FLAG_UTF8: a class like [^ ]{1,25} is then one byte class instead of a
 * UTF-8 automaton, which makes both compiling and scanning several times faster. pattern.c
 * turns non-ASCII letters into byte sequences (grouped, so quantifiers apply to the letter) and
 * takes them out of classes. \w and \b are ASCII, which suits the Latin-script languages the
 * rules are written for; pattern.c drops a \b next to a non-ASCII letter, where it could never
 * match. Caseless folds ASCII only: the text is case-folded already. */
#define BASE_FLAGS HS_FLAG_CASELESS
#define MAX_COMPILED ((size_t)1 << 20) /* one rule's expression after normalisation */

const char *sg__rules_check_regex(struct sg__regex_memo *memo, const char *re, char *buf,
                                  size_t size)
{
    if (sg__regex_memo_known(memo, re, BASE_FLAGS))
        return NULL;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_expression_info(re, BASE_FLAGS, &info, &cerr) != HS_SUCCESS) {
        snprintf(buf, size, "%s", cerr && cerr->message ? cerr->message : "invalid");
        hs_free_compile_error(cerr);
        return buf;
    }
    const char *problem = NULL;
    if (info->min_width == 0) {
        snprintf(buf, size, "matches the empty text; every message would match");
        problem = buf;
    }
    free(info); /* allocated by Hyperscan's default allocator */
    if (!problem)
        sg__regex_memo_add(memo, re, BASE_FLAGS);
    return problem;
}

/* Builds one expression of rule r into sb: regex alternative k, or (k == 0) the whole word
 * list. Each regex alternative is its own Hyperscan expression with the rule's id: Hyperscan
 * analyses one huge alternation far more slowly than many small expressions. */
static void build_expression(struct sg_rules *rs, const struct sg__rule *r, size_t k,
                             struct sg_strbuf *sb, const char **problem)
{
    if (r->kind == SG__RK_REGEX) {
        const char *why = sg__norm_regex(rs->norm, r->items[k], strlen(r->items[k]), sb);
        if (why) {
            *problem = why;
            sb->failed = true;
        }
        return;
    }
    sg__sb_adds(sb, "(?:");
    for (size_t w = 0; w < r->nitems; w++) {
        if (w)
            sg__sb_addc(sb, '|');
        sg__norm_word(rs->norm, r->items[w], strlen(r->items[w]), sb);
    }
    sg__sb_addc(sb, ')');
}

/* Start-of-match makes Hyperscan's compile time and database explode for patterns with open
 * repeats (.*, \S+, {0,8}): only fixed-length patterns get it, the others are quoted from the
 * clause around their match end (scan.c). */
static bool wants_som(const struct sg__rule *r, size_t k)
{
    if (r->kind == SG__RK_WORDS)
        return true;
    const char *re = r->items[k];
    for (size_t i = 0; re[i]; i++) {
        if (re[i] == '\\' && re[i + 1]) {
            i++;
            continue;
        }
        if (re[i] == '*' || re[i] == '+' || (re[i] == '{' && re[i + 1] >= '0' && re[i + 1] <= '9'))
            return false;
    }
    return true;
}

struct expr {
    char *text;
    unsigned flags;
    uint32_t rule;
    int line;
    bool dropped;
};

int sg__rules_compile(struct sg_rules *rs, sg__rules_report_fn report, void *ud)
{
    int rc = 0;
    size_t n = 0, total = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        const struct sg__rule *r = &rs->rules[i];
        if (r->state != SG__RS_OFF)
            total += r->kind == SG__RK_REGEX ? r->nitems : r->kind == SG__RK_WORDS ? 1 : 0;
    }
    struct expr *ex = sg__calloc(total ? total : 1, sizeof *ex);
    const char **texts = sg__calloc(total ? total : 1, sizeof *texts);
    unsigned *flags = sg__calloc(total ? total : 1, sizeof *flags);
    unsigned *ids = sg__calloc(total ? total : 1, sizeof *ids);
    if (!ex || !texts || !flags || !ids) {
        rc = SG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < rs->nrules; i++) {
        struct sg__rule *r = &rs->rules[i];
        if ((r->kind != SG__RK_REGEX && r->kind != SG__RK_WORDS) || r->state == SG__RS_OFF)
            continue;
        size_t parts = r->kind == SG__RK_REGEX ? r->nitems : 1;
        for (size_t k = 0; k < parts; k++) {
            struct sg_strbuf sb;
            sg__sb_init(&sb, MAX_COMPILED);
            const char *problem = NULL;
            build_expression(rs, r, k, &sb, &problem);
            int line = r->kind == SG__RK_REGEX ? r->item_lines[k] : r->matcher_line;
            if (sb.failed) {
                char msg[256];
                snprintf(msg, sizeof msg, "regex: %s",
                         problem ? problem : "pattern too large after normalisation");
                sg__sb_release(&sb);
                report(ud, i, line, msg);
                continue;
            }
            ex[n].text = sg__sb_steal(&sb);
            if (!ex[n].text) {
                rc = SG_ENOMEM;
                goto out;
            }
            ex[n].flags = BASE_FLAGS | (wants_som(r, k) ? HS_FLAG_SOM_LEFTMOST : 0);
            ex[n].rule = (uint32_t)i;
            ex[n].line = line;
            n++;
        }
    }
    /* Compile the live expressions; one that fails with SOM is retried without it, one that
     * fails without is left out with an error naming its rule and line. */
    for (;;) {
        size_t live = 0;
        for (size_t k = 0; k < n; k++) {
            if (ex[k].dropped)
                continue;
            texts[live] = ex[k].text;
            flags[live] = ex[k].flags;
            ids[live] = (unsigned)live;
            live++;
        }
        if (live == 0)
            break;
        hs_compile_error_t *cerr = NULL;
        hs_database_t *db = NULL;
        if (sg__hs_compile_cached(texts, flags, ids, (unsigned)live, &db, &cerr) == HS_SUCCESS) {
            rs->expr_rule = sg__calloc(live, sizeof *rs->expr_rule);
            rs->expr_som = sg__calloc(live, sizeof *rs->expr_som);
            if (!rs->expr_rule || !rs->expr_som) {
                hs_free_database(db);
                rc = SG_ENOMEM;
                break;
            }
            size_t j = 0;
            for (size_t k = 0; k < n; k++) {
                if (ex[k].dropped)
                    continue;
                rs->expr_rule[j] = ex[k].rule;
                rs->expr_som[j] = (ex[k].flags & HS_FLAG_SOM_LEFTMOST) != 0;
                j++;
            }
            rs->db = db;
            rs->nexprs = live;
            for (size_t i = 0, last = (size_t)-1; i < live; i++)
                if (rs->expr_rule[i] != last) {
                    rs->npatterns++; /* a rule's expressions are consecutive */
                    last = rs->expr_rule[i];
                }
            break;
        }
        int bad = cerr ? cerr->expression : -1;
        if (bad < 0 || (size_t)bad >= live) {
            /* Not one expression's fault (out of memory, or the database as a whole). */
            char msg[512];
            snprintf(msg, sizeof msg, "the rules do not compile together: %s",
                     cerr && cerr->message ? cerr->message : "unknown error");
            hs_free_compile_error(cerr);
            report(ud, (size_t)-1, 0, msg);
            break;
        }
        /* The bad-th live expression. */
        size_t k = 0;
        for (size_t seen = 0;; k++)
            if (!ex[k].dropped && seen++ == (size_t)bad)
                break;
        if (ex[k].flags & HS_FLAG_SOM_LEFTMOST) {
            ex[k].flags &= ~(unsigned)HS_FLAG_SOM_LEFTMOST;
        } else {
            const struct sg__rule *r = &rs->rules[ex[k].rule];
            char msg[512];
            snprintf(msg, sizeof msg, "%s: %s", r->kind == SG__RK_WORDS ? "words" : "regex",
                     cerr->message ? cerr->message : "does not compile");
            report(ud, ex[k].rule, ex[k].line, msg);
            ex[k].dropped = true;
        }
        hs_free_compile_error(cerr);
    }
out:
    if (ex)
        for (size_t k = 0; k < n; k++)
            sg__free(ex[k].text);
    sg__free(ex);
    sg__free(texts);
    sg__free(flags);
    sg__free(ids);
    return rc;
}
