/* A one-line progress display on stderr, shown only when stderr is a terminal. */
#ifndef SG_CLI_PROGRESS_H
#define SG_CLI_PROGRESS_H

#include <stdbool.h>

struct progress {
    const char *label;
    long long total;   /* bytes expected; -1 unknown */
    bool tty, shown;
    double start, last;
};

void progress_init(struct progress *p, const char *label, long long total);
/* Redraws at most five times a second. */
void progress_update(struct progress *p, long long done, unsigned long long items);
/* Erases the line (before other stderr output, and at the end). */
void progress_clear(struct progress *p);

#endif
