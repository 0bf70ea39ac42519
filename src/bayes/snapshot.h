/* A class's token counts as one compact blob (the store's bayes_snapshots, docs/bayes.md), so
 * that opening a model reads one value instead of stepping millions of rows. Pure: the writer
 * encodes entries given in the store's row order, the reader decodes a (ptr, len) slice and
 * never reads past it; neither knows SQLite or the model's table. */
#ifndef SG_BAYES_SNAPSHOT_H
#define SG_BAYES_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layout (version 1), all little-endian:
 *   0  "SGB1"
 *   4  u32  entries
 *   8  u64  check: sg__hash of the bytes from 16 on, seeded with the entry count and the
 *            value the blob is bound to (its class and generation)
 *   16 entries, each three LEB128 varints: key gap, spam, ham
 * Keys ascend as SQLite orders them (signed), so the blob lists a class's tokens in the order
 * its rows come back and a load from either gives the same model. With b = key ^ 2^63 (which
 * ascends unsigned), the first gap is b itself and each next one is b - previous b - 1.
 * Counts are the model's (at most UINT32_MAX), never both zero; key 0 never appears. */
#define SG_BAYES_SNAPSHOT_HEADER 16
/* Worst case bytes per entry: a 10-byte gap and two 5-byte counts. */
#define SG_BAYES_SNAPSHOT_ENTRY_MAX 20

struct sg_bayes_snapshot_writer {
    unsigned char *buf; /* header + room for max entries */
    size_t len;
    uint32_t n, max;
    uint64_t prev; /* biased key of the last entry */
};

/* Room for up to max entries (worst case, 20 bytes each). SG_ENOMEM, SG_ETOOBIG over 2^31. */
int sg__bayes_snapshot_writer_init(struct sg_bayes_snapshot_writer *w, uint32_t max);
/* Appends one entry: SG_ETOOBIG past max, SG_EINVAL for key 0, both counts 0, or a key not
 * after the previous one (the blob would not decode). The writer is unchanged on error. */
int sg__bayes_snapshot_add(struct sg_bayes_snapshot_writer *w, uint64_t key, uint32_t spam,
                           uint32_t ham);
/* Writes the header; the blob is w->buf[0 .. *len), owned by the writer. bind: what the blob
 * belongs to (the model passes a hash of class and generation), so that a blob filed under
 * another class or generation fails its check like a damaged one. */
const void *sg__bayes_snapshot_finish(struct sg_bayes_snapshot_writer *w, uint64_t bind,
                                      size_t *len);
void sg__bayes_snapshot_writer_release(struct sg_bayes_snapshot_writer *w);

struct sg_bayes_snapshot_reader {
    const unsigned char *p, *end;
    uint32_t left;
    uint64_t prev;
    bool first;
};

/* Checks the header, the length and the check value (under bind, as given to finish);
 * *entries gets the entry count. SG_EPARSE when the blob is not a snapshot this program
 * writes, is damaged or belongs elsewhere. data is borrowed and must stay valid while the
 * reader is used. */
int sg__bayes_snapshot_open(struct sg_bayes_snapshot_reader *r, const void *data, size_t len,
                            uint64_t bind, uint32_t *entries);
/* The check value of a blob's entries (bytes from 16 on), for tests and the fuzz harness that
 * forge blobs. */
uint64_t sg__bayes_snapshot_check(const void *entries, size_t len, uint32_t n, uint64_t bind);
/* The next entry: 1 with *key, *spam, *ham set; 0 at the end (every byte used); SG_EPARSE
 * when an entry is malformed (a varint past the end or too long, a count over UINT32_MAX, keys
 * out of order, key 0, both counts 0) or bytes are left over. */
int sg__bayes_snapshot_next(struct sg_bayes_snapshot_reader *r, uint64_t *key, uint32_t *spam,
                            uint32_t *ham);

#endif
