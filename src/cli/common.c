/* Shared CLI plumbing: config and store from --config/--db, stderr logging, file reading. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
/* For SG_EVENT_MAX_BYTES, by path: the CLI has only include/ on its include path. */
#include "../engine/event.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sendguard: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_log(void *ud, enum sg_log_level level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    fprintf(stderr, "sendguard: %s: %s\n", names[level], msg);
}

bool cli_open(struct cli_env *env, bool db_must_exist)
{
    int rc = sg_config_new(&env->cfg);
    if (rc) {
        cli_error("config: %s", rc == SG_ECONFIG ? sg_config_errmsg(env->cfg) : sg_strerror(rc));
        return false;
    }
    if (env->config && (rc = sg_config_load_file(env->cfg, env->config))) {
        cli_error("%s", sg_config_errmsg(env->cfg));
        return false;
    }
    struct stat st;
    if (env->db && db_must_exist && stat(env->db, &st) != 0) {
        cli_error("%s: %s (create it with `sendguard replay --db %s` or `sendguard lists add --db %s`)",
                  env->db, strerror(errno), env->db, env->db);
        return false;
    }
    if ((rc = sg_store_open(env->db, &env->store))) {
        cli_error("%s: %s", env->db ? env->db : "in-memory store",
                  env->store ? sg_store_errmsg(env->store) : sg_strerror(rc));
        return false;
    }
    return true;
}

void cli_close(struct cli_env *env)
{
    sg_store_close(env->store);
    sg_config_free(env->cfg);
    env->store = NULL;
    env->cfg = NULL;
}

struct sg_engine *cli_engine(struct cli_env *env, const struct sg_clock *clock)
{
    struct sg_engine *engine;
    int rc = sg_engine_new(env->cfg, env->store, clock, &engine);
    if (rc) {
        cli_error("engine: %s%s%s", sg_strerror(rc), rc == SG_ESTORE ? ": " : "",
                  rc == SG_ESTORE ? sg_store_errmsg(env->store) : "");
        return NULL;
    }
    sg_engine_set_log(engine, cli_log, NULL);
    return engine;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            cli_error("%s: out of memory", path);
            fclose(f);
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap > max) {
            cli_error("%s: larger than %zu bytes", path, max);
            free(buf);
            fclose(f);
            return NULL;
        }
        char *grown = realloc(buf, cap * 2);
        if (!grown)
            free(buf);
        buf = grown;
        cap *= 2;
    }
    if (ferror(f)) {
        cli_error("%s: %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

void cli_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long cli_list_dir(const char *dir, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    return (long)n;
}

static bool parses_as_event(const char *s, size_t n)
{
    struct sg_event *ev = NULL;
    bool ok = n <= SG_EVENT_MAX_BYTES && sg_event_parse(s, n, SG_EV_MESSAGE, &ev, NULL) == 0;
    sg_event_free(ev);
    return ok;
}

bool cli_is_jsonl(const char *path, const char *buf, size_t len)
{
    size_t n = strlen(path);
    if ((n > 6 && strcmp(path + n - 6, ".jsonl") == 0) ||
        (n > 7 && strcmp(path + n - 7, ".ndjson") == 0))
        return true;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == len || buf[i] != '{' || parses_as_event(buf, len))
        return false;
    const char *nl = memchr(buf + i, '\n', len - i);
    return nl && parses_as_event(buf + i, (size_t)(nl - (buf + i)));
}

int cli_parse_message(const char *buf, size_t len, const char *tenant, struct sg_event **out,
                      char **errmsg)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    /* Empty input goes to the JSON parser, which says what is wrong with it. */
    if (i == len || buf[i] == '{')
        return sg_event_parse(buf, len, SG_EV_MESSAGE, out, errmsg);
    return sg_event_from_rfc822(buf, len, tenant, out, errmsg);
}

int cli_each_listed(const char *file, void (*fn)(void *ud, const char *path), void *ud)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n)
            fn(ud, line);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}
