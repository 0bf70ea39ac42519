/* sendguardd — the HTTP door of sendguard: command line, start-up, signals and shutdown.
 * Signals arrive through a signalfd read by the main thread, which also polls the key
 * generation each half second; the workers only serve requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "log.h"
#include "server.h"

#define DRAIN_SECONDS 10
#define KEY_POLL_MS 500

struct options {
    const char *listen, *db, *config, *log_level;
    struct server_options srv;
    struct auth_options auth;
};

static void usage(FILE *out)
{
    fputs("usage: sendguardd --listen ADDR:PORT --db FILE [options]\n"
          "\n"
          "  --listen ADDR:PORT       address to serve on: 127.0.0.1:8025 or [::1]:8025\n"
          "  --db FILE                the sendguard store (created when missing)\n"
          "  --config FILE            settings on top of the defaults (re-read on SIGHUP)\n"
          "  --threads N              worker threads (default: the number of cores)\n"
          "  --log-level LEVEL        debug, info, warn or error (default: log.level)\n"
          "  --connection-limit N     concurrent connections (default 1024)\n"
          "  --connection-timeout S   idle seconds before a connection is closed (10)\n"
          "  --auth-failures N        failed authentications a minute an address may have\n"
          "                           before it is locked out (20)\n"
          "  --auth-cooldown S        lockout length, and the quiet time that ends an abuse\n"
          "                           episode (60)\n"
          "  --max-signatures N       seen-signature table slots (1048576)\n"
          "\n"
          "Signals: HUP re-reads the config, the lists and the keys; TERM and INT drain and\n"
          "stop. Routes and errors: docs/http.md.\n",
          out);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sendguardd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long min, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = s && *s != '-' ? strtoul(s, &end, 10) : 0;
    if (!s || *s == '-' || errno || end == s || *end || v < min || v > max)
        die("%s: \"%s\" is not a number from %lu to %lu", opt, s ? s : "", min, max);
    return v;
}

/* "127.0.0.1:8025" or "[::1]:8025" into a socket address. */
static void parse_listen(const char *s, struct server_options *o)
{
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            die("--listen: \"%s\": expected IPV4:PORT or [IPV6]:PORT", s);
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            die("--listen: \"%s\": expected IPV4:PORT or [IPV6]:PORT", s);
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    unsigned port = (unsigned)parse_num("--listen port", colon + 1, 0, 65535);
    memset(&o->addr, 0, sizeof o->addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&o->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&o->addr;
    if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        o->addr_len = sizeof *v4;
    } else if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        o->addr_len = sizeof *v6;
    } else {
        die("--listen: \"%s\" is not an IP address (write IPv6 in brackets: [::1]:8025)", host);
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->srv.threads = cores > 0 ? (unsigned)cores : 1;
    o->srv.connection_limit = 1024;
    o->srv.connection_timeout_s = 10;
    /* libmicrohttpd zeroes the pool for every request on a connection, so it is kept at its
     * default: 32 KiB holds any sane request line and headers (more is 431). */
    o->srv.connection_memory = 32 * 1024;
    o->srv.body_budget = 256 * 1024 * 1024;
    o->auth.fail_limit = 20;
    o->auth.fail_period_s = 60;
    o->auth.cooldown_s = 60;
    o->auth.sig_skew_s = 300;
    o->auth.max_signatures = 1u << 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--version") == 0) {
            printf("sendguardd %s\n", SG_VERSION);
            exit(0);
        }
        /* Every other option takes a value: --opt VALUE or --opt=VALUE. */
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
#define IS(name) (nlen == sizeof(name) - 1 && strncmp(a, name, nlen) == 0)
        if (!IS("--listen") && !IS("--db") && !IS("--config") && !IS("--threads") &&
            !IS("--log-level") && !IS("--connection-limit") && !IS("--connection-timeout") &&
            !IS("--auth-failures") && !IS("--auth-cooldown") && !IS("--max-signatures")) {
            fprintf(stderr, "sendguardd: unknown option \"%.*s\"\n", (int)nlen, a);
            usage(stderr);
            exit(2);
        }
        if (!v)
            die("%.*s needs a value", (int)nlen, a);
        if (IS("--listen"))
            o->listen = v;
        else if (IS("--db"))
            o->db = v;
        else if (IS("--config"))
            o->config = v;
        else if (IS("--log-level"))
            o->log_level = v;
        else if (IS("--threads"))
            o->srv.threads = (unsigned)parse_num("--threads", v, 1, 1024);
        else if (IS("--connection-limit"))
            o->srv.connection_limit = (unsigned)parse_num("--connection-limit", v, 1, 1000000);
        else if (IS("--connection-timeout"))
            o->srv.connection_timeout_s = (unsigned)parse_num("--connection-timeout", v, 1, 3600);
        else if (IS("--auth-failures"))
            o->auth.fail_limit = (uint32_t)parse_num("--auth-failures", v, 1, 1000000);
        else if (IS("--auth-cooldown"))
            o->auth.cooldown_s = (uint32_t)parse_num("--auth-cooldown", v, 1, 86400);
        else if (IS("--max-signatures"))
            o->auth.max_signatures = parse_num("--max-signatures", v, 1024, 1ul << 26);
#undef IS
    }
    if (!o->listen)
        die("--listen ADDR:PORT is required (e.g. --listen 127.0.0.1:8025)");
    if (!o->db)
        die("--db FILE is required (the store; it is created when missing)");
    if (o->log_level && log_level_parse(o->log_level) < 0)
        die("--log-level: \"%s\": expected debug, info, warn or error", o->log_level);
    parse_listen(o->listen, &o->srv);
}

/* The config's log.level. The public API has no getter, so it is read from the config dump
 * ("log:" then "  level: X"); info when it cannot be found. */
static enum sg_log_level config_log_level(const struct sg_config *cfg)
{
    char *dump = NULL;
    int level = SG_LOG_INFO;
    if (sg_config_dump(cfg, &dump) != 0)
        return SG_LOG_INFO;
    const char *sec = strstr(dump, "\nlog:\n");
    for (const char *p = sec ? sec + 6 : NULL; p && *p && (*p == ' ' || *p == '#');) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n > 9 && strncmp(p, "  level: ", 9) == 0) {
            char name[16];
            snprintf(name, sizeof name, "%.*s", (int)(n - 9), p + 9);
            int l = log_level_parse(name);
            if (l >= 0)
                level = l;
            break;
        }
        p = nl ? nl + 1 : NULL;
    }
    sg_free(dump);
    return (enum sg_log_level)level;
}

static struct sg_config *load_config(const char *path)
{
    struct sg_config *cfg = NULL;
    int rc = sg_config_new(&cfg);
    if (rc) {
        log_msg(SG_LOG_ERROR, "config: %s", sg_strerror(rc));
        sg_config_free(cfg);
        return NULL;
    }
    if (path && (rc = sg_config_load_file(cfg, path))) {
        log_msg(SG_LOG_ERROR, "config: %s", sg_config_errmsg(cfg));
        sg_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void on_alert(void *ud, const char *json) { log_msg(SG_LOG_WARN, "alert: %s", json); }

static void reload(struct server *srv, const struct options *o)
{
    log_msg(SG_LOG_INFO, "SIGHUP: reloading%s%s, lists, keys and the classifier's model",
            o->config ? " " : "",
            o->config ? o->config : "");
    struct sg_config *cfg = load_config(o->config);
    if (!cfg) {
        log_msg(SG_LOG_ERROR, "config not reloaded: the old one stays in effect");
    } else {
        int rc = sg_engine_reload(srv->engine, cfg);
        if (rc)
            log_msg(SG_LOG_ERROR, "config not applied (%s): the old one stays in effect",
                    sg_strerror(rc));
        else if (!o->log_level)
            log_set_level(config_log_level(cfg));
        sg_config_free(cfg);
    }
    int rc = sg_engine_reload_lists(srv->engine);
    if (rc)
        log_msg(SG_LOG_ERROR, "lists not reloaded: %s", sg_strerror(rc));
    if ((rc = auth_refresh(srv->auth, true)) < 0)
        log_msg(SG_LOG_ERROR, "keys not reloaded: %s", sg_strerror(rc));
    uint64_t tokens = 0;
    if ((rc = sg_engine_reload_model(srv->engine, &tokens)))
        log_msg(SG_LOG_ERROR, "model not reloaded (%s): the old one stays in effect",
                sg_strerror(rc));
    else
        log_msg(SG_LOG_INFO, "model reloaded: %llu tokens", (unsigned long long)tokens);
    log_msg(SG_LOG_INFO, "reload done");
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    parse_args(argc, argv, &o);
    /* Signals are blocked before any thread exists (the store and the engine start their own,
     * as do the workers), so every thread inherits the mask and the signals are read from the
     * signalfd by this thread alone. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd: %s", strerror(errno));
    if (sodium_init() < 0)
        die("libsodium failed to initialise");
    if (o.log_level)
        log_set_level((enum sg_log_level)log_level_parse(o.log_level));

    struct sg_config *cfg = load_config(o.config);
    if (!cfg)
        return 1;
    if (!o.log_level)
        log_set_level(config_log_level(cfg));

    static struct server srv; /* zeroed: its counters and flags start at 0 */
    srv.opt = o.srv;
    int rc = sg_store_open(o.db, &srv.store);
    if (rc) {
        /* sg_store_errmsg(NULL) holds a failed open's message ("store F: open: ..."). */
        const char *why = sg_store_errmsg(srv.store);
        log_msg(SG_LOG_ERROR, "%s", why && *why ? why : sg_strerror(rc));
        return 1;
    }
    struct sg_clock clock = {sg_clock_wall, NULL};
    if ((rc = sg_engine_new(cfg, srv.store, &clock, &srv.engine))) {
        log_msg(SG_LOG_ERROR, "engine: %s%s%s", sg_strerror(rc), rc == SG_ESTORE ? ": " : "",
                rc == SG_ESTORE ? sg_store_errmsg(srv.store) : "");
        sg_store_close(srv.store);
        return 1;
    }
    sg_config_free(cfg);
    sg_engine_set_log(srv.engine, log_engine, NULL);
    sg_engine_set_alert(srv.engine, on_alert, NULL);
    if ((rc = auth_new(srv.store, &o.auth, &srv.auth))) {
        log_msg(SG_LOG_ERROR, "keys: cannot load the keyring: %s", sg_strerror(rc));
        sg_engine_free(srv.engine);
        sg_store_close(srv.store);
        return 1;
    }

    if (server_start(&srv) != 0) {
        log_msg(SG_LOG_ERROR, "cannot listen on %s (in use, or not an address of this host?)",
                o.listen);
        auth_free(srv.auth);
        sg_engine_free(srv.engine);
        sg_store_close(srv.store);
        return 1;
    }
    char shown[80];
    snprintf(shown, sizeof shown, "%.*s:%u", (int)(strrchr(o.listen, ':') - o.listen), o.listen,
             server_port(&srv));
    log_msg(SG_LOG_INFO, "sendguardd %s listening on http://%s (%u worker thread%s, db %s)",
            SG_VERSION, shown, o.srv.threads, o.srv.threads == 1 ? "" : "s", o.db);

    bool stop = false;
    while (!stop) {
        struct pollfd pfd = {.fd = sfd, .events = POLLIN};
        int n = poll(&pfd, 1, KEY_POLL_MS);
        if (n < 0 && errno != EINTR) {
            log_msg(SG_LOG_ERROR, "poll: %s", strerror(errno));
            break;
        }
        if (n > 0) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP)
                    reload(&srv, &o);
                else
                    stop = true;
            }
        }
        /* A key created or revoked by another process (sendguard keys) lands here. */
        if ((rc = auth_refresh(srv.auth, false)) > 0)
            log_msg(SG_LOG_INFO, "keys changed: keyring reloaded");
        else if (rc < 0)
            log_msg(SG_LOG_WARN, "keys: reload failed (%s); the old keyring stays",
                    sg_strerror(rc));
    }

    log_msg(SG_LOG_INFO, "stopping: no new connections; waiting up to %d s for %ld request(s)",
            DRAIN_SECONDS, atomic_load(&srv.inflight));
    server_quiesce(&srv);
    int64_t deadline = mono_ms() + DRAIN_SECONDS * 1000;
    while (atomic_load(&srv.inflight) > 0 && mono_ms() < deadline)
        usleep(10 * 1000);
    if (atomic_load(&srv.inflight) > 0)
        log_msg(SG_LOG_WARN, "stopping with %ld request(s) unfinished", atomic_load(&srv.inflight));
    server_stop(&srv);
    auth_free(srv.auth);
    sg_engine_free(srv.engine);
    sg_store_close(srv.store);
    close(sfd);
    log_msg(SG_LOG_INFO, "stopped");
    return 0;
}
