/* sendguard keys create|list|revoke: the HTTP API's keys. create prints the key once, alone on
 * the last line of stdout so scripts can take it with `tail -n 1`; list never shows a secret;
 * revoke is committed before the command exits, so a running daemon drops the key at its next
 * poll of the key generation. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SCOPE_NAMES "check, events, report, moderate, audit, admin"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard keys create --db FILE --tenant T|'*' --scopes S[,S...] "
            "[--require-signature]\n"
            "       sendguard keys list   --db FILE [--tenant T]\n"
            "       sendguard keys revoke --db FILE ID...\n"
            "Scopes: " SCOPE_NAMES ". --tenant '*' makes a platform key (every tenant).\n"
            "create prints the key on the last line of stdout; it is shown only this once.\n"
            "list prints: id tenant scopes created last_used status (a header only on a "
            "terminal).\n");
}

/* sg_key_scopes_parse says only that the list is wrong; the operator needs to know which name.
 * Prints the first bad one (or the empty one) and returns false. */
static bool parse_scopes(const char *csv, unsigned *out)
{
    if (sg_key_scopes_parse(csv, out) == 0)
        return true;
    for (const char *p = csv;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *s = p;
        while (n && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0) {
            cli_error("--scopes: empty scope in \"%s\" (expected a comma-separated list of "
                      SCOPE_NAMES ")", csv);
            return false;
        }
        char tok[32];
        unsigned one;
        bool known = n < sizeof tok;
        if (known) {
            memcpy(tok, s, n);
            tok[n] = '\0';
            known = sg_key_scopes_parse(tok, &one) == 0;
        }
        if (!known) {
            cli_error("--scopes: unknown scope \"%.*s\" (expected " SCOPE_NAMES ")", (int)n, s);
            return false;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    cli_error("--scopes: invalid \"%s\" (expected " SCOPE_NAMES ")", csv);
    return false;
}

static int create_key(struct cli_env *env, const char *tenant, unsigned scopes, bool require_signature)
{
    char *key = NULL;
    struct sg_key_info info;
    int rc = sg_key_create(env->store, tenant, scopes, require_signature, sg_clock_wall(NULL), &key,
                           &info);
    if (rc) {
        cli_error("%s", sg_store_errmsg(env->store));
        return 1;
    }
    char scope_text[64];
    sg_key_scopes_format(info.scopes, scope_text, sizeof scope_text);
    bool platform = strcmp(tenant, "*") == 0;
    fprintf(stderr, "sendguard: created key %s for %s%s with scopes %s%s; it is shown only once:\n",
            info.id, platform ? "every tenant (a platform key)" : "tenant ",
            platform ? "" : tenant, scope_text, require_signature ? ", signed requests only" : "");
    printf("%s\n", key);
    int lost = fflush(stdout) != 0 || ferror(stdout);
    explicit_bzero(key, strlen(key));
    sg_free(key);
    if (lost) {
        /* Nobody will ever see this key: do not leave a live credential behind. */
        rc = sg_key_revoke(env->store, info.id, sg_clock_wall(NULL));
        cli_error("keys create: could not write the key to stdout; key %s %s", info.id,
                  rc ? "could NOT be revoked: revoke it by hand" : "has been revoked");
        return 1;
    }
    return 0;
}

struct list_ctx {
    const char *tenant; /* NULL: every key */
};

static int print_key(void *ud, const struct sg_key_info *k)
{
    const struct list_ctx *ctx = ud;
    if (ctx->tenant && strcmp(ctx->tenant, k->tenant) != 0)
        return 0;
    char scopes[64], created[21], used[21] = "-";
    sg_key_scopes_format(k->scopes, scopes, sizeof scopes);
    sg_time_format(k->created, created);
    if (k->last_used)
        sg_time_format(k->last_used, used);
    printf("%-16s ", k->id);
    /* Lines are split on whitespace by scripts: a tenant that has some is written quoted. */
    if (strpbrk(k->tenant, " \t\"\\"))
        cli_json_str(stdout, k->tenant);
    else
        printf("%-12s", k->tenant);
    printf(" %-24s %s %-20s %s\n", scopes[0] ? scopes : "-", created, used,
           k->revoked ? "revoked" : "active");
    return 0;
}

static int list_keys(struct cli_env *env, const char *tenant)
{
    /* The header would be a line for a script to skip; only people get it. */
    if (isatty(STDOUT_FILENO))
        printf("%-16s %-12s %-24s %-20s %-20s %s\n", "ID", "TENANT", "SCOPES", "CREATED",
               "LAST_USED", "STATUS");
    struct list_ctx ctx = {.tenant = tenant};
    if (sg_key_each(env->store, print_key, &ctx) != 0) {
        cli_error("%s", sg_store_errmsg(env->store));
        return 1;
    }
    return 0;
}

static int revoke_keys(struct cli_env *env, int n, char **ids)
{
    int status = 0;
    for (int i = 0; i < n; i++) {
        if (sg_key_revoke(env->store, ids[i], sg_clock_wall(NULL)) != 0) {
            cli_error("%s", sg_store_errmsg(env->store));
            status = 1;
        } else {
            fprintf(stderr, "sendguard: revoked key %s\n", ids[i]);
        }
    }
    return status;
}

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"tenant", required_argument, NULL, 't'},
        {"scopes", required_argument, NULL, 's'},
        {"require-signature", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct cli_env env = {0};
    const char *tenant = NULL, *scopes_arg = NULL;
    bool require_signature = false;
    int c;
    while ((c = getopt_long(argc, argv, "d:c:t:s:rh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': env.db = optarg; break;
        case 'c': env.config = optarg; break;
        case 't': tenant = optarg; break;
        case 's': scopes_arg = optarg; break;
        case 'r': require_signature = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *action = argv[optind++];
    bool is_create = strcmp(action, "create") == 0, is_list = strcmp(action, "list") == 0,
         is_revoke = strcmp(action, "revoke") == 0;
    if (!is_create && !is_list && !is_revoke) {
        cli_error("keys: unknown action \"%s\" (expected create, list or revoke)", action);
        usage(stderr);
        return 2;
    }
    if (!env.db) {
        cli_error("keys %s: --db FILE is required (keys live in the store the daemon uses)",
                  action);
        return 2;
    }
    unsigned scopes = 0;
    if (is_create) {
        if (!tenant) {
            cli_error("keys create: --tenant is required (a tenant, or '*' for a platform key)");
            return 2;
        }
        if (!scopes_arg) {
            cli_error("keys create: --scopes is required (a comma-separated list of "
                      SCOPE_NAMES ")");
            return 2;
        }
        if (!parse_scopes(scopes_arg, &scopes))
            return 2;
    } else if (scopes_arg || require_signature) {
        cli_error("keys %s: --scopes and --require-signature apply to create only", action);
        return 2;
    }
    if (is_revoke && tenant) {
        cli_error("keys revoke: --tenant does not apply (a key is named by its id)");
        return 2;
    }
    if (is_revoke && optind >= argc) {
        cli_error("keys revoke: which key? give its id (from `sendguard keys list`)");
        return 2;
    }
    if (!is_revoke && optind < argc) {
        cli_error("keys %s: unexpected argument \"%s\"", action, argv[optind]);
        return 2;
    }
    if (!cli_open(&env, !is_create)) {
        cli_close(&env);
        return 1;
    }
    int status;
    if (is_create)
        status = create_key(&env, tenant, scopes, require_signature);
    else if (is_list)
        status = list_keys(&env, tenant);
    else
        status = revoke_keys(&env, argc - optind, argv + optind);
    cli_close(&env);
    return status;
}
