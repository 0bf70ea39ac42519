/* Check: signup screening on account events. Disposable email domains (the shipped list built
 * from the npm package disposable-email-domains, plus an optional local file) are blocked;
 * blocked domains and addresses are the lists check's job. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "checks/checks.h"
#include "util/alloc.h"

struct signup {
    bool enabled;
    char **extra;     /* sorted extra domains from signup.disposable_file */
    size_t nextra;
};

/* Is key one of the lines of the sorted text [p, end)? Lines starting with '#' sort before
 * every domain and are never matched; binary search on bytes keeps startup free. */
static bool sorted_lines_have(const char *p, const char *end, const char *key, size_t klen)
{
    while (p < end) {
        const char *mid = p + (end - p) / 2;
        while (mid > p && mid[-1] != '\n')
            mid--;
        const char *eol = memchr(mid, '\n', (size_t)(end - mid));
        if (!eol)
            eol = end;
        size_t n = (size_t)(eol - mid);
        int c = memcmp(mid, key, n < klen ? n : klen);
        if (c == 0)
            c = n < klen ? -1 : n > klen ? 1 : 0;
        if (c == 0 && mid[0] != '#')
            return true;
        if (c < 0)
            p = eol + 1;
        else
            end = mid;
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_disposable(const struct signup *s, const char *domain, const char **matched)
{
    for (const char *d = domain; d && *d;) {
        size_t n = strlen(d);
        if (sorted_lines_have(sg__disposable_domains, sg__disposable_domains_end, d, n) ||
            (s->nextra && bsearch(&d, s->extra, s->nextra, sizeof *s->extra, cmp_str))) {
            *matched = d;
            return true;
        }
        d = strchr(d, '.');
        if (d)
            d++;
    }
    return false;
}

static void free_extra(struct signup *s)
{
    for (size_t i = 0; i < s->nextra; i++)
        sg__free(s->extra[i]);
    sg__free(s->extra);
    s->extra = NULL;
    s->nextra = 0;
}

int sg__check_signup_init(struct sg_engine *engine, void **state)
{
    *state = sg__calloc(1, sizeof(struct signup));
    return *state ? 0 : SG_ENOMEM;
}

static int load_extra(struct signup *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return SG_EIO;
    char line[512];
    size_t cap = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, " \t\r\n#");
        if (n == 0)
            continue;
        if (s->nextra == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = sg__realloc(s->extra, cap * sizeof *grown);
            if (!grown) {
                rc = SG_ENOMEM;
                break;
            }
            s->extra = grown;
        }
        if (!(s->extra[s->nextra] = sg__strndup(line, n))) {
            rc = SG_ENOMEM;
            break;
        }
        for (char *c = s->extra[s->nextra]; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        s->nextra++;
    }
    fclose(f);
    if (s->nextra)
        qsort(s->extra, s->nextra, sizeof *s->extra, cmp_str);
    return rc;
}

int sg__check_signup_configure(void *state, const struct sg_config *cfg)
{
    struct signup *s = state;
    s->enabled = cfg->block_disposable;
    free_extra(s);
    if (cfg->disposable_file && cfg->disposable_file[0])
        return load_extra(s, cfg->disposable_file);
    return 0;
}

int sg__check_signup_run(void *state, struct sg_ctx *ctx)
{
    const struct signup *s = state;
    const char *matched;
    if (s->enabled && ctx->email_domain && is_disposable(s, ctx->email_domain, &matched))
        sg__ctx_reason(ctx, SG_R_SIGNUP_DISPOSABLE_DOMAIN,
                       "Sign up with a permanent email address: %s is a disposable email service.",
                       matched);
    return 0;
}

void sg__check_signup_free(void *state)
{
    if (!state)
        return;
    free_extra(state);
    sg__free(state);
}
