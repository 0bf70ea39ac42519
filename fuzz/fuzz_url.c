/* Fuzz harness: any bytes as text to find URLs in, as one href, and as text to normalise (the
 * three readers of untrusted text below the MIME and HTML layers). Every URL found must have a
 * valid lower-case A-label or IP host, a registrable domain inside it, and a normalised form that
 * parses again to the same host; the normalised text must be valid UTF-8 with a sound map. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "text/normalize.h"
#include "text/urls.h"
#include "util/arena.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(struct sg_arena *a, const struct sg_text_url *u)
{
    if (!u->raw || !u->url || !u->host || strlen(u->raw) > SG_URL_MAX_LEN)
        abort();
    for (const char *p = u->host; *p; p++)
        if ((unsigned char)*p >= 0x80 || (*p >= 'A' && *p <= 'Z'))
            abort();
    if (u->domain && !strstr(u->host, u->domain))
        abort();
    if ((u->flags & SG_URL_IP_LITERAL) && u->domain)
        abort();
    struct sg_text_url again;
    int rc = sg__url_parse(a, u->url, strlen(u->url), 0, &again);
    if (rc == SG_ENOMEM)
        return;
    if (rc != 0 || strcmp(again.host, u->host) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_arena *arena;
    if (!arena)
        arena = sg__arena_new(0);
    const char *text = (const char *)data;
    struct sg_url_list list = {0};
    if (sg__urls_scan(arena, text, size, &list) != 0)
        abort();
    for (size_t i = 0; i < list.n; i++)
        check_url(arena, &list.v[i]);
    struct sg_text_url u;
    int rc = sg__url_parse(arena, text, size, SG_URL_FROM_HTML, &u);
    if (rc == 0)
        check_url(arena, &u);
    else if (rc != SG_EPARSE && rc != SG_ENOMEM)
        abort();

    struct sg_norm n;
    if (sg__normalize(arena, text, size, true, &n) != 0)
        abort();
    if (strlen(n.s) != n.len || n.map[n.len] != size)
        abort();
    for (size_t i = 0; i < n.len;) {
        size_t k = sg__utf8_seq((const unsigned char *)n.s + i, n.len - i);
        if (k == 0)
            abort();
        i += k;
    }
    for (size_t i = 0; i < n.len; i++)
        if (n.map[i] >= size || (i && n.map[i] < n.map[i - 1]))
            abort();
    sg__arena_reset(arena);
    return 0;
}
