/* Boolean expressions of `expr:` rules, parsed once at load time into a small AST (an array of
 * nodes) and evaluated per message without any string work. Grammar, loosest first:
 *   or := and ('||' and)*   and := not ('&&' not)*   not := '!' not | cmp
 *   cmp := atom (('<' | '<=' | '>' | '>=' | '==' | '!=') atom)?   atom := NAME | NUMBER | '(' or ')' */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"
#include "util/alloc.h"

struct parser {
    struct sg__rule *r;
    const char *s;
    size_t n, pos;
    int depth;
    char *err;
    size_t errsize;
    bool failed;
};

static void perr(struct parser *p, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    if (p->pos >= p->n) {
        snprintf(p->err, p->errsize, "expr: %s at the end", what);
        return;
    }
    /* Show a little of what follows, without control characters (there are none: the file
     * was checked) and without cutting a UTF-8 sequence. */
    size_t k = 0;
    while (p->pos + k < p->n && k < 16)
        k++;
    while (p->pos + k < p->n && ((unsigned char)p->s[p->pos + k] & 0xc0) == 0x80)
        k++;
    snprintf(p->err, p->errsize, "expr: %s at column %zu (near \"%.*s\")", what, p->pos + 1,
             (int)k, p->s + p->pos);
}

static void skip_space(struct parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

static int new_node(struct parser *p, int op)
{
    struct sg__rule *r = p->r;
    if (r->nnodes >= SG_RULES_MAX_EXPR_NODES) {
        perr(p, "expression too long");
        return -1;
    }
    struct sg__expr_node *nd = &r->nodes[r->nnodes];
    memset(nd, 0, sizeof *nd);
    nd->op = (uint8_t)op;
    nd->a = nd->b = -1;
    return r->nnodes++;
}

/* Does the text at pos start with tok? Consumes it if so. */
static bool accept(struct parser *p, const char *tok)
{
    skip_space(p);
    size_t k = strlen(tok);
    if (p->n - p->pos >= k && memcmp(p->s + p->pos, tok, k) == 0) {
        p->pos += k;
        return true;
    }
    return false;
}

static int parse_or(struct parser *p);

static int parse_atom(struct parser *p)
{
    skip_space(p);
    if (p->pos >= p->n) {
        perr(p, "expected a rule code, a fact or a number");
        return -1;
    }
    char c = p->s[p->pos];
    if (c == '(') {
        p->pos++;
        int e = parse_or(p);
        if (e < 0)
            return -1;
        if (!accept(p, ")")) {
            perr(p, "expected \")\"");
            return -1;
        }
        return e;
    }
    if (is_name_start(c)) {
        size_t start = p->pos;
        while (p->pos < p->n && is_name(p->s[p->pos]))
            p->pos++;
        if (p->pos - start > SG_RULES_MAX_CODE) {
            p->pos = start;
            perr(p, "name longer than 64 characters");
            return -1;
        }
        int id = new_node(p, SG__EX_IDENT);
        if (id < 0)
            return -1;
        p->r->nodes[id].id_off = (uint32_t)start;
        p->r->nodes[id].id_len = (uint32_t)(p->pos - start);
        return id;
    }
    if (c >= '0' && c <= '9') {
        /* Plain decimals only: strtod would also take hex, inf and nan. */
        size_t start = p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (p->pos < p->n && p->s[p->pos] == '.') {
            p->pos++;
            if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9') {
                perr(p, "expected a digit after \".\"");
                return -1;
            }
            while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
                p->pos++;
        }
        if (p->pos < p->n && is_name(p->s[p->pos])) {
            perr(p, "expected an operator after the number");
            return -1;
        }
        char buf[40];
        if (p->pos - start >= sizeof buf) {
            p->pos = start;
            perr(p, "number too long");
            return -1;
        }
        memcpy(buf, p->s + start, p->pos - start);
        buf[p->pos - start] = '\0';
        int id = new_node(p, SG__EX_NUM);
        if (id < 0)
            return -1;
        p->r->nodes[id].num = strtod(buf, NULL);
        return id;
    }
    perr(p, "expected a rule code, a fact or a number");
    return -1;
}

static int parse_cmp(struct parser *p)
{
    int a = parse_atom(p);
    if (a < 0)
        return -1;
    static const struct {
        const char *tok;
        int op;
    } ops[] = {{"<=", SG__EX_LE}, {">=", SG__EX_GE}, {"==", SG__EX_EQ}, {"!=", SG__EX_NE},
               {"<", SG__EX_LT},  {">", SG__EX_GT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!accept(p, ops[i].tok))
            continue;
        int b = parse_atom(p);
        if (b < 0)
            return -1;
        int id = new_node(p, ops[i].op);
        if (id < 0)
            return -1;
        p->r->nodes[id].a = (int16_t)a;
        p->r->nodes[id].b = (int16_t)b;
        skip_space(p);
        if (p->pos < p->n && (p->s[p->pos] == '<' || p->s[p->pos] == '>' ||
                              (p->s[p->pos] == '=' ) ||
                              (p->s[p->pos] == '!' && p->pos + 1 < p->n && p->s[p->pos + 1] == '='))) {
            perr(p, "comparisons do not chain; use && between them");
            return -1;
        }
        return id;
    }
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == '=') {
        perr(p, "\"=\" is not an operator; compare with \"==\"");
        return -1;
    }
    return a;
}

static int parse_not(struct parser *p)
{
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == '!' &&
        !(p->pos + 1 < p->n && p->s[p->pos + 1] == '=')) {
        p->pos++;
        if (++p->depth > SG_RULES_MAX_EXPR_DEPTH) {
            perr(p, "expression nested too deeply");
            return -1;
        }
        int a = parse_not(p);
        p->depth--;
        if (a < 0)
            return -1;
        int id = new_node(p, SG__EX_NOT);
        if (id < 0)
            return -1;
        p->r->nodes[id].a = (int16_t)a;
        return id;
    }
    return parse_cmp(p);
}

static int parse_binary(struct parser *p, bool is_or)
{
    int a = is_or ? parse_binary(p, false) : parse_not(p);
    if (a < 0)
        return -1;
    const char *tok = is_or ? "||" : "&&";
    while (accept(p, tok)) {
        int b = is_or ? parse_binary(p, false) : parse_not(p);
        if (b < 0)
            return -1;
        int id = new_node(p, is_or ? SG__EX_OR : SG__EX_AND);
        if (id < 0)
            return -1;
        p->r->nodes[id].a = (int16_t)a;
        p->r->nodes[id].b = (int16_t)b;
        a = id;
    }
    return a;
}

static int parse_or(struct parser *p)
{
    if (++p->depth > SG_RULES_MAX_EXPR_DEPTH) {
        perr(p, "expression nested too deeply");
        return -1;
    }
    int e = parse_binary(p, true);
    p->depth--;
    return e;
}

int sg__expr_parse(struct sg__rule *r, char *err, size_t errsize)
{
    struct parser p = {.r = r, .s = r->expr, .n = strlen(r->expr), .err = err,
                       .errsize = errsize};
    if (p.n > SG_RULES_MAX_EXPR) {
        snprintf(err, errsize, "expr: longer than %d bytes", SG_RULES_MAX_EXPR);
        return -1;
    }
    r->nodes = sg__calloc(SG_RULES_MAX_EXPR_NODES, sizeof *r->nodes);
    if (!r->nodes) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    r->nnodes = 0;
    r->root = parse_or(&p);
    if (r->root >= 0) {
        skip_space(&p);
        if (p.pos < p.n)
            perr(&p, p.s[p.pos] == ')' ? "unbalanced \")\"" : "expected \"&&\", \"||\" or the end");
    }
    if (p.failed || r->root < 0) {
        if (!p.failed)
            perr(&p, "invalid expression");
        return -1;
    }
    /* Shrink to what was used: rules stay in memory for the daemon's life. */
    struct sg__expr_node *shrunk = sg__realloc(r->nodes, (size_t)r->nnodes * sizeof *r->nodes);
    if (shrunk)
        r->nodes = shrunk;
    return 0;
}

static double value(const struct sg__rule *r, int i, const uint8_t *fired, const double *facts);

static bool truth(const struct sg__rule *r, int i, const uint8_t *fired, const double *facts)
{
    double v = value(r, i, fired, facts);
    return !isnan(v) && v != 0;
}

static double value(const struct sg__rule *r, int i, const uint8_t *fired, const double *facts)
{
    const struct sg__expr_node *nd = &r->nodes[i];
    switch (nd->op) {
    case SG__EX_NUM:
        return nd->num;
    case SG__EX_FACT:
        return facts[nd->ref];
    case SG__EX_RULE:
        return fired[nd->ref] ? 1 : 0;
    case SG__EX_NOT:
        return truth(r, nd->a, fired, facts) ? 0 : 1;
    case SG__EX_AND:
        return truth(r, nd->a, fired, facts) && truth(r, nd->b, fired, facts);
    case SG__EX_OR:
        return truth(r, nd->a, fired, facts) || truth(r, nd->b, fired, facts);
    default:
        break;
    }
    double a = value(r, nd->a, fired, facts), b = value(r, nd->b, fired, facts);
    if (isnan(a) || isnan(b))
        return 0; /* nothing is known about an unknown fact */
    switch (nd->op) {
    case SG__EX_LT: return a < b;
    case SG__EX_LE: return a <= b;
    case SG__EX_GT: return a > b;
    case SG__EX_GE: return a >= b;
    case SG__EX_EQ: return a == b;
    case SG__EX_NE: return a != b;
    default: return 0; /* an unresolved name: the loader never lets one through */
    }
}

bool sg__expr_eval(const struct sg__rule *r, const uint8_t *fired, const double *facts)
{
    return r->nnodes > 0 && r->root >= 0 && truth(r, r->root, fired, facts);
}
