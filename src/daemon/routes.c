/* The routes of sendguardd as one table, and the matcher. The table is small (a dozen rows), so
 * a linear scan over pre-split patterns costs less than a request's header parsing. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "routes.h"
#include "sendguard.h"

const struct route route_table[] = {
    {"POST", "/v1/check", SG_KEY_CHECK, handle_check, 0},
    {"POST", "/v1/events", SG_KEY_EVENTS, handle_events, 0},
    {"POST", "/v1/learn", SG_KEY_MODERATE, handle_learn, 0},
    {"GET", "/v1/lists/{list}", SG_KEY_ADMIN, handle_list_show, 0},
    {"POST", "/v1/lists/{list}", SG_KEY_ADMIN, handle_list_add, 0},
    {"DELETE", "/v1/lists/{list}", SG_KEY_ADMIN, handle_list_remove, 0},
    {"POST", "/v1/keys", SG_KEY_ADMIN, handle_key_create, 0},
    {"DELETE", "/v1/keys/{id}", SG_KEY_ADMIN, handle_key_revoke, 0},
    {"GET", "/v1/alerts", SG_KEY_AUDIT, handle_alerts, 0},
    {"GET", "/v1/limits/{scope}/{key}", SG_KEY_ADMIN, handle_limit_show, ROUTE_TAIL},
    {"DELETE", "/v1/limits/{scope}/{key}", SG_KEY_ADMIN, handle_limit_reset, ROUTE_TAIL},
    {"GET", "/metrics", SG_KEY_AUDIT, handle_metrics, 0},
    {"GET", "/healthz", ROUTE_PUBLIC, handle_healthz, 0},
};
const size_t route_count = sizeof route_table / sizeof route_table[0];
_Static_assert(sizeof route_table / sizeof route_table[0] <= ROUTES_MAX, "raise ROUTES_MAX");

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long url_decode(const char *src, size_t len, char *dst, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long)o;
}

/* Tries one row against the path; on a match fills m's params, decoded into storage (which has
 * room for the whole path). Returns 1 on a match, 0 if not, -1 when a parameter segment has a
 * malformed escape (the caller treats it as no match: 404). */
static int try_row(const struct route *r, const char *path, size_t len, struct route_match *m,
                   char *storage)
{
    if (len == 0 || path[0] != '/')
        return 0;
    const char *p = r->pattern + 1, *s = path + 1, *end = path + len;
    int nparams = 0;
    char *out = storage;
    for (;;) {
        const char *pe = strchr(p, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        bool last = !pe;
        bool is_param = plen > 2 && p[0] == '{' && p[plen - 1] == '}';
        const char *se = memchr(s, '/', (size_t)(end - s));
        if (last && is_param && (r->flags & ROUTE_TAIL))
            se = NULL; /* the last parameter takes the rest of the path */
        size_t slen = se ? (size_t)(se - s) : (size_t)(end - s);
        if (slen == 0)
            return 0;
        if (is_param) {
            if (nparams == ROUTE_PARAMS_MAX)
                return 0;
            long n = url_decode(s, slen, out, 0);
            if (n < 0)
                return -1;
            m->names[nparams] = p + 1; /* "name}...": route_param compares up to the brace */
            m->values[nparams++] = out;
            out += n + 1;
        } else if (plen != slen || memcmp(p, s, slen) != 0) {
            return 0;
        }
        if (last) {
            if (se) /* the path goes on where the pattern ends */
                return 0;
            m->nparams = nparams;
            return 1;
        }
        if (!se) /* the path ends before the pattern */
            return 0;
        p = pe + 1;
        s = se + 1;
    }
}

int route_match(const char *method, const char *path, size_t path_len, struct route_match *m)
{
    memset(m, 0, sizeof *m);
    m->index = ROUTE_NONE;
    m->storage = malloc(path_len + ROUTE_PARAMS_MAX + 1);
    if (!m->storage)
        return -1;
    size_t allow_len = 0;
    for (size_t i = 0; i < route_count; i++) {
        const struct route *r = &route_table[i];
        struct route_match trial = {.index = ROUTE_NONE};
        if (try_row(r, path, path_len, &trial, m->storage) != 1)
            continue;
        if (strcmp(r->method, method) == 0) {
            m->index = (int)i;
            m->nparams = trial.nparams;
            memcpy(m->names, trial.names, sizeof m->names);
            memcpy(m->values, trial.values, sizeof m->values);
            return 0;
        }
        m->path_known = 1;
        size_t mlen = strlen(r->method);
        if (allow_len + mlen + 3 < sizeof m->allow) {
            if (allow_len) {
                memcpy(m->allow + allow_len, ", ", 2);
                allow_len += 2;
            }
            memcpy(m->allow + allow_len, r->method, mlen + 1);
            allow_len += mlen;
        }
    }
    return 0;
}

void route_match_free(struct route_match *m)
{
    free(m->storage);
    m->storage = NULL;
}

const char *route_param(const struct route_match *m, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < m->nparams; i++)
        if (strncmp(m->names[i], name, n) == 0 && m->names[i][n] == '}')
            return m->values[i];
    return NULL;
}
