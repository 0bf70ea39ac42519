/* sendguard replay: events from a JSONL file in time order, on a virtual clock set to each
 * event's "at". Results go to stdout as JSONL (alerts interleaved at their virtual time), a
 * summary to stderr, and progress to stderr when it is a terminal. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

#define MAX_LINE (2u << 20)

static sg_time virtual_now(void *ud) { return *(const sg_time *)ud; }

static void print_alert(void *ud, const char *json)
{
    fputs(json, stdout);
    fputc('\n', stdout);
}

enum { NCHANNELS = 6 };
static const char *const channel_names[NCHANNELS] = {"email", "private_message", "post", "comment", "sms", "notification"};

struct tally {
    unsigned long long events, errors, lines;
    unsigned long long actions[NCHANNELS][4]; /* allow, defer, hold, reject */
    unsigned long long accounts[3];           /* allow, review, block */
};

static void count(struct tally *t, const struct sg_result *res)
{
    enum sg_action a = sg_result_action(res);
    if (sg_result_type(res) == SG_EV_ACCOUNT) {
        t->accounts[a == SG_BLOCK ? 2 : a == SG_REVIEW ? 1 : 0]++;
        return;
    }
    const char *ch = sg_result_channel(res);
    for (int i = 0; ch && i < NCHANNELS; i++)
        if (strcmp(ch, channel_names[i]) == 0 && a <= SG_REJECT)
            t->actions[i][a]++;
}

static void summary(const struct tally *t, double secs, const struct sg_engine_stats *st)
{
    fprintf(stderr, "\nreplay: %llu events in %.2f s (%.0f events/s), %llu error%s\n", t->events,
            secs, secs > 0 ? (double)t->events / secs : 0.0, t->errors, t->errors == 1 ? "" : "s");
    fprintf(stderr, "  %-16s %9s %9s %9s %9s\n", "channel", "allow", "defer", "hold", "reject");
    for (int i = 0; i < NCHANNELS; i++) {
        const unsigned long long *a = t->actions[i];
        if (a[0] + a[1] + a[2] + a[3])
            fprintf(stderr, "  %-16s %9llu %9llu %9llu %9llu\n", channel_names[i], a[0], a[1], a[2], a[3]);
    }
    if (t->accounts[0] + t->accounts[1] + t->accounts[2])
        fprintf(stderr, "  %-16s %9llu %9s %9llu %9llu   (allow, review, block)\n", "signups",
                t->accounts[0], "", t->accounts[1], t->accounts[2]);
    if (st->limiter_keys)
        fprintf(stderr, "  limiter: %llu active keys, %llu bytes (%.0f bytes a key)\n",
                (unsigned long long)st->limiter_keys, (unsigned long long)st->limiter_bytes,
                (double)st->limiter_bytes / (double)st->limiter_keys);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard replay [--db FILE] [--config FILE] FILE|-\n"
            "Replays JSONL events in time order on a virtual clock (each event's \"at\").\n"
            "One JSON result per message or account event on stdout; summary on stderr.\n"
            "With --db the state is kept in FILE for later queries (lists, limits).\n"
            "Bad lines are reported with their line number and skipped; exit 1 if there were any.\n");
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct cli_env env = {0};
    int c;
    while ((c = getopt_long(argc, argv, "d:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': env.db = optarg; break;
        case 'c': env.config = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        cli_error("%s: cannot open", path);
        return 1;
    }
    struct stat file_st;
    long long total = (in != stdin && fstat(fileno(in), &file_st) == 0) ? (long long)file_st.st_size : -1;
    if (!cli_open(&env, false)) {
        cli_close(&env);
        if (in != stdin)
            fclose(in);
        return 1;
    }
    sg_time now = 0;
    struct sg_clock clock = {virtual_now, &now};
    struct sg_engine *engine = cli_engine(&env, &clock);
    if (!engine) {
        cli_close(&env);
        if (in != stdin)
            fclose(in);
        return 1;
    }
    sg_engine_set_alert(engine, print_alert, NULL);
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

    struct progress prog;
    progress_init(&prog, "replay", total);
    struct tally t = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long done = 0;
    unsigned long long last_line = 0;
    char last_at[21] = "";
    double start = mono_now();
    while ((n = getline(&line, &cap, in)) > 0) {
        t.lines++;
        done += n;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        struct sg_event *ev;
        char *err = NULL;
        int rc = len > MAX_LINE ? SG_ETOOBIG : sg_event_parse(line, len, -1, &ev, &err);
        if (rc) {
            progress_clear(&prog);
            fprintf(stderr, "line %llu: %s\n", t.lines, err ? err : "longer than 2 MiB");
            sg_free(err);
            t.errors++;
            continue;
        }
        sg_time at = sg_event_at(ev);
        if (at == 0) {
            progress_clear(&prog);
            fprintf(stderr, "line %llu: at: missing (replay runs on each event's own time)\n", t.lines);
            sg_event_free(ev);
            t.errors++;
            continue;
        }
        if (at < now) {
            char when[21];
            sg_time_format(at, when);
            progress_clear(&prog);
            fprintf(stderr, "line %llu: at: %s is earlier than line %llu (%s); events must be in time order\n",
                    t.lines, when, last_line, last_at);
            sg_event_free(ev);
            t.errors++;
            continue;
        }
        if (at != now)
            sg_time_format(at, last_at);
        now = at;
        last_line = t.lines;
        struct sg_result *res;
        rc = sg_engine_submit(engine, ev, 0, &res);
        sg_event_free(ev);
        if (rc) {
            progress_clear(&prog);
            fprintf(stderr, "line %llu: %s\n", t.lines, sg_strerror(rc));
            t.errors++;
            continue;
        }
        t.events++;
        enum sg_event_type type = sg_result_type(res);
        if (type == SG_EV_MESSAGE || type == SG_EV_ACCOUNT) {
            fputs(sg_result_json(res), stdout);
            fputc('\n', stdout);
            count(&t, res);
        }
        sg_result_free(res);
        if ((t.lines & 4095) == 0)
            progress_update(&prog, done, t.events);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    progress_clear(&prog);
    fflush(stdout);
    struct sg_engine_stats st;
    sg_engine_stats(engine, &st);
    sg_engine_free(engine); /* saves limiter state and commits: part of the work timed */
    cli_close(&env);
    double secs = mono_now() - start;
    summary(&t, secs, &st);
    return t.errors ? 1 : 0;
}
