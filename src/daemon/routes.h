/* The route table: each row is {method, path pattern, scope, handler}; a later issue adds a
 * route by adding a row. Patterns are literal segments and {name} segments; a row marked
 * ROUTE_TAIL lets its last {name} take the rest of the path (a limit key written with plain
 * slashes). Matching percent-decodes each segment after splitting, so %2F stays inside one. */
#ifndef SG_DAEMON_ROUTES_H
#define SG_DAEMON_ROUTES_H

#include <stddef.h>

struct request;
struct reply;

typedef void (*route_handler)(struct request *req, struct reply *out);

enum { ROUTE_TAIL = 1 << 0 };
#define ROUTE_PUBLIC 0u /* scope of a route that needs no key */
#define ROUTES_MAX 32   /* metrics keep a fixed array per route */
#define ROUTE_PARAMS_MAX 4
#define ROUTE_NONE (-1)  /* no pattern matches the path: 404 */

struct route {
    const char *method;
    const char *pattern;
    unsigned scope; /* enum sg_key_scope bit, or ROUTE_PUBLIC */
    route_handler handler;
    unsigned flags;
};

struct route_match {
    int index;           /* row of the table, or ROUTE_NONE */
    int path_known;      /* some row's pattern matches with another method: 405 */
    char allow[64];      /* methods of the rows whose pattern matches ("GET, POST") */
    int nparams;
    const char *names[ROUTE_PARAMS_MAX];
    char *values[ROUTE_PARAMS_MAX]; /* decoded, NUL-terminated, inside storage */
    char *storage;       /* malloc'd; route_match_free */
};

extern const struct route route_table[];
extern const size_t route_count;

/* Matches method and the raw path (path_len bytes, no query string). Returns 0, or -1 when out
 * of memory. m->index is ROUTE_NONE for 404; then m->path_known says 405. */
int route_match(const char *method, const char *path, size_t path_len, struct route_match *m);
void route_match_free(struct route_match *m);
/* The value of {name}, or NULL. */
const char *route_param(const struct route_match *m, const char *name);
/* Decodes %XX (and '+' as a space when plus_space) from src into dst (room for len + 1).
 * Returns the decoded length, or -1 for a malformed escape or a NUL byte. */
long url_decode(const char *src, size_t len, char *dst, int plus_space);

#endif
