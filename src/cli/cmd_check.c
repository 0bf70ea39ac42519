/* sendguard check: a dry run. Each message event is judged on its own against the stored state
 * as if it were the next message sent now; nothing is recorded and no counter moves, so one
 * file's verdict never depends on the files before it. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define MAX_EVENT_FILE (2u << 20)

struct check_run {
    struct sg_engine *engine;
    const char *tenant; /* for raw mail, which names none */
    int failures;
};

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* Prints {"file":..., ["line":N,] <verdict fields>} or {"file":..., "error":{...}}. */
static void emit(const char *file, long line, const char *json, const char *error_code,
                 const char *error)
{
    fputc('{', stdout);
    if (file) {
        fputs("\"file\":", stdout);
        cli_json_str(stdout, file);
        fputc(',', stdout);
    }
    if (line > 0)
        fprintf(stdout, "\"line\":%ld,", line);
    if (json) {
        fputs(json + 1, stdout); /* the verdict without its opening brace */
    } else {
        fprintf(stdout, "\"error\":{\"code\":\"%s\",\"message\":", error_code);
        cli_json_str(stdout, error);
        fputs("}}", stdout);
    }
    fputc('\n', stdout);
}

static void judge(struct check_run *run, const char *file, long line, const char *buf,
                  size_t len)
{
    struct sg_event *ev;
    char *err = NULL;
    int rc = cli_parse_message(buf, len, run->tenant, &ev, &err);
    if (rc) {
        emit(file, line, NULL, "invalid_event", err ? err : sg_strerror(rc));
        sg_free(err);
        run->failures++;
        return;
    }
    if (sg_event_type(ev) != SG_EV_MESSAGE) {
        emit(file, line, NULL, "invalid_event", "check judges message events only");
        sg_event_free(ev);
        run->failures++;
        return;
    }
    struct sg_result *res;
    rc = sg_engine_submit(run->engine, ev, SG_SUBMIT_DRY_RUN, &res);
    sg_event_free(ev);
    if (rc) {
        emit(file, line, NULL, "engine", sg_strerror(rc));
        run->failures++;
        return;
    }
    emit(file, line, sg_result_json(res), NULL, NULL);
    sg_result_free(res);
}

static void judge_file(struct check_run *run, const char *path)
{
    size_t len;
    char *buf = cli_read_file(path, MAX_EVENT_FILE, &len);
    if (!buf) {
        run->failures++;
        return;
    }
    if (!cli_is_jsonl(path, buf, len)) {
        judge(run, path, 0, buf, len);
        free(buf);
        return;
    }
    long line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) : len;
        line++;
        if (!is_blank(buf + at, end - at))
            judge(run, path, line, buf + at, end - at);
        at = end + 1;
    }
    free(buf);
}

/* Every regular file under dir, in name order so runs are reproducible. */
static void judge_path(struct check_run *run, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        run->failures++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        judge_file(run, path);
        return;
    }
    char **names;
    long n = cli_list_dir(path, &names);
    if (n < 0) {
        cli_error("%s: %s", path, strerror(errno));
        run->failures++;
        return;
    }
    for (long i = 0; i < n; i++) {
        judge_path(run, names[i]);
        free(names[i]);
    }
    free(names);
}

static void judge_listed(void *ud, const char *path) { judge_path(ud, path); }

/* Each line of file (stdin for "-") is a PATH as on the command line, so a long list reaches one
 * process (one engine and model load) without running into the argument size limit. */
static void judge_list(struct check_run *run, const char *file)
{
    if (cli_each_listed(file, judge_listed, run) != 0) {
        cli_error("%s: %s", file, strerror(errno));
        run->failures++;
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard check [--db FILE] [--config FILE] [--tenant T] [PATH...] [--files-from F]\n"
            "Judges each message event (a JSON file; a JSONL file of one event a line, known by\n"
            "a .jsonl/.ndjson name or by a first line that is an event when the whole file is\n"
            "not; every file in a directory; stdin when no PATH) against the stored state as if\n"
            "sent now. Records nothing, moves no counter.\n"
            "A file that is not JSON is read as a raw RFC 822 mail (email channel) of tenant T\n"
            "(default \"default\"): From is the sender, To/Cc/Bcc the recipients.\n"
            "--files-from F reads further PATHs from F, one a line ('-': stdin), after the others.\n"
            "One JSON verdict per message on stdout. Exit 1 if any input could not be judged.\n");
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"tenant", required_argument, NULL, 't'},
        {"files-from", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct cli_env env = {0};
    const char *tenant = "default";
    const char *files_from = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "d:c:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': env.db = optarg; break;
        case 'c': env.config = optarg; break;
        case 't': tenant = optarg; break;
        case 'F': files_from = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!cli_open(&env, true)) {
        cli_close(&env);
        return 1;
    }
    struct sg_clock clock = {sg_clock_wall, NULL};
    struct check_run run = {.engine = cli_engine(&env, &clock), .tenant = tenant};
    if (!run.engine) {
        cli_close(&env);
        return 1;
    }
    if (optind == argc && !files_from) {
        size_t len;
        char *buf = cli_read_file("/dev/stdin", MAX_EVENT_FILE, &len);
        if (buf)
            judge(&run, NULL, 0, buf, len);
        else
            run.failures++;
        free(buf);
    }
    for (int i = optind; i < argc; i++)
        judge_path(&run, argv[i]);
    if (files_from)
        judge_list(&run, files_from);
    sg_engine_free(run.engine);
    cli_close(&env);
    return run.failures ? 1 : 0;
}
