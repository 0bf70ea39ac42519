/* libFuzzer driver for the model snapshot reader (src/bayes/snapshot.c), which parses a blob
 * read back from the store. The first byte is a flag: bit 0 set makes the harness write a
 * correct check value into its copy first, so that mutations reach the entry decoder instead
 * of all stopping at the check. The rest is the blob, in an exact-size heap copy (ASan sees a
 * read past the end). Invariants: no crash; a blob that decodes whole has the entries its
 * header says, keys ascending in SQLite's (signed) order, none 0, counts not both 0; those
 * entries written again decode to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bayes/snapshot.h"

/* The value blobs here are bound to (a class and generation in the model). */
#define BIND UINT64_C(0x5347423153474231)

struct entry {
    uint64_t key;
    uint32_t spam, ham;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    size_t len = size - 1;
    unsigned char *blob = malloc(len ? len : 1);
    if (!blob)
        abort();
    memcpy(blob, data + 1, len);
    if ((flags & 1) && len >= SG_BAYES_SNAPSHOT_HEADER) {
        uint32_t n = (uint32_t)blob[4] | (uint32_t)blob[5] << 8 | (uint32_t)blob[6] << 16 |
                     (uint32_t)blob[7] << 24;
        uint64_t check = sg__bayes_snapshot_check(blob + SG_BAYES_SNAPSHOT_HEADER,
                                                  len - SG_BAYES_SNAPSHOT_HEADER, n, BIND);
        for (unsigned i = 0; i < 8; i++)
            blob[8 + i] = (unsigned char)(check >> (8 * i));
    }

    struct sg_bayes_snapshot_reader r;
    uint32_t n;
    if (sg__bayes_snapshot_open(&r, blob, len, BIND, &n) != 0) {
        free(blob);
        return 0;
    }
    struct entry *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        abort();
    uint32_t got = 0;
    int rc;
    struct entry e;
    while ((rc = sg__bayes_snapshot_next(&r, &e.key, &e.spam, &e.ham)) == 1) {
        if (got >= n || !e.key || (!e.spam && !e.ham))
            abort();
        if (got && (int64_t)e.key <= (int64_t)v[got - 1].key)
            abort();
        v[got++] = e;
    }
    if (rc == 0) {
        if (got != n)
            abort();
        struct sg_bayes_snapshot_writer w;
        if (sg__bayes_snapshot_writer_init(&w, n) != 0)
            abort();
        for (uint32_t i = 0; i < n; i++)
            if (sg__bayes_snapshot_add(&w, v[i].key, v[i].spam, v[i].ham) != 0)
                abort();
        size_t again_len;
        const void *again = sg__bayes_snapshot_finish(&w, BIND, &again_len);
        uint32_t n2;
        if (sg__bayes_snapshot_open(&r, again, again_len, BIND, &n2) != 0 || n2 != n)
            abort();
        for (uint32_t i = 0; i < n; i++)
            if (sg__bayes_snapshot_next(&r, &e.key, &e.spam, &e.ham) != 1 ||
                e.key != v[i].key || e.spam != v[i].spam || e.ham != v[i].ham)
                abort();
        if (sg__bayes_snapshot_next(&r, &e.key, &e.spam, &e.ham) != 0)
            abort();
        sg__bayes_snapshot_writer_release(&w);
    }
    free(v);
    free(blob);
    return 0;
}
