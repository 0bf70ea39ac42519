/* Progress line for long CLI work; quiet in pipes and files. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *label, long long total)
{
    p->label = label;
    p->total = total;
    p->tty = isatty(STDERR_FILENO);
    p->shown = false;
    p->start = p->last = now_s();
}

void progress_update(struct progress *p, long long done, unsigned long long items)
{
    if (!p->tty)
        return;
    double t = now_s();
    if (t - p->last < 0.2)
        return;
    p->last = t;
    double rate = t > p->start ? (double)items / (t - p->start) : 0;
    if (p->total > 0) {
        int pct = (int)(100.0 * (double)done / (double)p->total);
        int bar = pct / 5;
        fprintf(stderr, "\r%s [%.*s%*s] %3d%%  %llu events  %.0f/s ", p->label, bar,
                "####################", 20 - bar, "", pct, items, rate);
    } else {
        fprintf(stderr, "\r%s  %llu events  %.0f/s ", p->label, items, rate);
    }
    p->shown = true;
}

void progress_clear(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        p->shown = false;
    }
}
