/* The snapshot blob of a class's token counts (layout in snapshot.h): a writer sized once for
 * the rows it will be given, and a reader that checks every byte it is handed. */
#include "bayes/snapshot.h"

#include <string.h>

#include "sendguard.h"
#include "util/alloc.h"
#include "util/hash.h"

static const unsigned char magic[4] = {'S', 'G', 'B', '1'};
#define BIAS (UINT64_C(1) << 63)
/* The writer's whole buffer stays under SQLite's default blob limit (1e9 bytes). */
#define WRITER_MAX_BYTES ((size_t)512 << 20)

static void put_le(unsigned char *out, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)in[i] << (8 * i);
    return v;
}

uint64_t sg__bayes_snapshot_check(const void *entries, size_t len, uint32_t n, uint64_t bind)
{
    return sg__hash(entries, len, sg__hash_mix(bind, n));
}

int sg__bayes_snapshot_writer_init(struct sg_bayes_snapshot_writer *w, uint32_t max)
{
    memset(w, 0, sizeof *w);
    if (max > (WRITER_MAX_BYTES - SG_BAYES_SNAPSHOT_HEADER) / SG_BAYES_SNAPSHOT_ENTRY_MAX)
        return SG_ETOOBIG;
    w->buf = sg__malloc(SG_BAYES_SNAPSHOT_HEADER + (size_t)max * SG_BAYES_SNAPSHOT_ENTRY_MAX);
    if (!w->buf)
        return SG_ENOMEM;
    w->len = SG_BAYES_SNAPSHOT_HEADER;
    w->max = max;
    return 0;
}

static inline unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

int sg__bayes_snapshot_add(struct sg_bayes_snapshot_writer *w, uint64_t key, uint32_t spam,
                           uint32_t ham)
{
    if (w->n >= w->max)
        return SG_ETOOBIG;
    uint64_t b = key ^ BIAS;
    if (!key || (!spam && !ham) || (w->n && b <= w->prev))
        return SG_EINVAL;
    unsigned char *p = w->buf + w->len;
    p = put_varint(p, w->n ? b - w->prev - 1 : b);
    p = put_varint(p, spam);
    p = put_varint(p, ham);
    w->len = (size_t)(p - w->buf);
    w->prev = b;
    w->n++;
    return 0;
}

const void *sg__bayes_snapshot_finish(struct sg_bayes_snapshot_writer *w, uint64_t bind,
                                      size_t *len)
{
    memcpy(w->buf, magic, sizeof magic);
    put_le(w->buf + 4, w->n, 4);
    put_le(w->buf + 8,
           sg__bayes_snapshot_check(w->buf + SG_BAYES_SNAPSHOT_HEADER,
                                    w->len - SG_BAYES_SNAPSHOT_HEADER, w->n, bind),
           8);
    *len = w->len;
    return w->buf;
}

void sg__bayes_snapshot_writer_release(struct sg_bayes_snapshot_writer *w)
{
    sg__free(w->buf);
    memset(w, 0, sizeof *w);
}

int sg__bayes_snapshot_open(struct sg_bayes_snapshot_reader *r, const void *data, size_t len,
                            uint64_t bind, uint32_t *entries)
{
    memset(r, 0, sizeof *r);
    *entries = 0;
    const unsigned char *d = data;
    if (!d || len < SG_BAYES_SNAPSHOT_HEADER || memcmp(d, magic, sizeof magic) != 0)
        return SG_EPARSE;
    uint32_t n = (uint32_t)get_le(d + 4, 4);
    size_t body = len - SG_BAYES_SNAPSHOT_HEADER;
    /* Each entry takes 3 to 20 bytes. */
    if (body < (size_t)n * 3 || body > (size_t)n * SG_BAYES_SNAPSHOT_ENTRY_MAX ||
        sg__bayes_snapshot_check(d + SG_BAYES_SNAPSHOT_HEADER, body, n, bind) != get_le(d + 8, 8))
        return SG_EPARSE;
    r->p = d + SG_BAYES_SNAPSHOT_HEADER;
    r->end = d + len;
    r->left = n;
    r->first = true;
    *entries = n;
    return 0;
}

/* One varint of at most max_bits; false when it runs past the end or is longer. */
static inline bool get_varint(struct sg_bayes_snapshot_reader *r, unsigned max_bits, uint64_t *out)
{
    const unsigned char *p = r->p;
    /* One byte, as nearly every count is (max_bits is never under 7): a model's load reads
     * millions of them. */
    if (p < r->end && !(*p & 0x80)) {
        r->p = p + 1;
        *out = *p;
        return true;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* A key gap is about 7 bytes (1.7M keys spread over 2^64): with 8 bytes left, one load
     * finds the last byte (the first without the high bit) and squeezes the 7-bit groups
     * together in three steps. Only a varint whose every group fits under max_bits is taken
     * here, which the loop below would accept as it is; the rest goes to the loop. */
    if (r->end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t last = ~w & UINT64_C(0x8080808080808080);
        unsigned len = last ? (unsigned)__builtin_ctzll(last) / 8 + 1 : 0; /* 0: over 8 */
        if (len && len * 7 <= max_bits) {
            uint64_t x = len == 8 ? w : w & ((UINT64_C(1) << (8 * len)) - 1);
            x &= UINT64_C(0x7f7f7f7f7f7f7f7f);
            x = (x & UINT64_C(0x007f007f007f007f)) | ((x & UINT64_C(0x7f007f007f007f00)) >> 1);
            x = (x & UINT64_C(0x00003fff00003fff)) | ((x & UINT64_C(0x3fff00003fff0000)) >> 2);
            x = (x & UINT64_C(0x000000000fffffff)) | ((x & UINT64_C(0x0fffffff00000000)) >> 4);
            r->p = p + len;
            *out = x;
            return true;
        }
    }
#endif
    uint64_t v = 0;
    for (unsigned shift = 0; p < r->end; shift += 7) {
        uint64_t byte = *p++;
        uint64_t part = byte & 0x7f;
        /* The last group may hold only the bits left of max_bits; groups before it any. */
        if (shift + 7 > max_bits && (shift >= max_bits || part >> (max_bits - shift))) {
            r->p = p;
            return false;
        }
        v |= part << shift;
        if (!(byte & 0x80)) {
            r->p = p;
            *out = v;
            return true;
        }
    }
    r->p = p;
    return false;
}

int sg__bayes_snapshot_next(struct sg_bayes_snapshot_reader *r, uint64_t *key, uint32_t *spam,
                            uint32_t *ham)
{
    if (!r->left)
        return r->p == r->end ? 0 : SG_EPARSE;
    uint64_t gap, s, h;
    if (!get_varint(r, 64, &gap) || !get_varint(r, 32, &s) || !get_varint(r, 32, &h))
        return SG_EPARSE;
    uint64_t b;
    if (r->first)
        b = gap;
    else if (gap >= UINT64_MAX - r->prev) /* prev + 1 + gap would wrap */
        return SG_EPARSE;
    else
        b = r->prev + 1 + gap;
    if (b == BIAS || (!s && !h)) /* key 0 */
        return SG_EPARSE;
    r->prev = b;
    r->first = false;
    r->left--;
    *key = b ^ BIAS;
    *spam = (uint32_t)s;
    *ham = (uint32_t)h;
    return 1;
}
