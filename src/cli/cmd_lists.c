/* sendguard lists add|remove|show: the operator's lists of banned accounts, blocked email
 * domains, url domains and IPs/CIDRs, each entry global ("*") or for one tenant, with an
 * optional expiry. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard lists add    --db FILE [--tenant T] [--until TIME] LIST ENTRY...\n"
            "       sendguard lists remove --db FILE [--tenant T] LIST ENTRY...\n"
            "       sendguard lists show   --db FILE [--json] [LIST]\n"
            "LIST is accounts, email_domains, url_domains or ips (an address or CIDR, v4 or v6).\n"
            "--tenant defaults to * (every tenant); --until is an RFC 3339 time, default never.\n");
}

static int show(struct cli_env *env, const char *list, bool as_json)
{
    char *json;
    int rc = sg_store_list_show(env->store, list, sg_clock_wall(NULL), &json);
    if (rc) {
        cli_error("lists show: %s", sg_store_errmsg(env->store));
        return 1;
    }
    if (as_json) {
        printf("%s\n", json);
        sg_free(json);
        return 0;
    }
    json_t *arr = json_loads(json, 0, NULL);
    sg_free(json);
    size_t i;
    json_t *e;
    printf("%-14s %-16s %-40s %s\n", "LIST", "TENANT", "ENTRY", "EXPIRES");
    json_array_foreach(arr, i, e) {
        const char *l = json_string_value(json_object_get(e, "list"));
        const char *exp = json_string_value(json_object_get(e, "expires"));
        printf("%-14s %-16s %-40s %s\n", l ? l : list,
               json_string_value(json_object_get(e, "tenant")),
               json_string_value(json_object_get(e, "entry")), exp ? exp : "never");
    }
    json_decref(arr);
    return 0;
}

int cmd_lists(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"tenant", required_argument, NULL, 't'},
        {"until", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct cli_env env = {0};
    const char *tenant = "*", *until = NULL;
    bool as_json = false;
    int c;
    while ((c = getopt_long(argc, argv, "d:c:t:u:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': env.db = optarg; break;
        case 'c': env.config = optarg; break;
        case 't': tenant = optarg; break;
        case 'u': until = optarg; break;
        case 'j': as_json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc || !env.db) {
        if (!env.db)
            cli_error("lists: --db FILE is required (lists live in the store)");
        usage(stderr);
        return 2;
    }
    const char *action = argv[optind++];
    bool is_show = strcmp(action, "show") == 0;
    if (!is_show && strcmp(action, "add") != 0 && strcmp(action, "remove") != 0) {
        cli_error("lists: unknown action \"%s\"", action);
        usage(stderr);
        return 2;
    }
    if (!is_show && argc - optind < 2) {
        usage(stderr);
        return 2;
    }
    sg_time expires = 0;
    if (until && sg_time_parse(until, strlen(until), &expires) != 0) {
        cli_error("--until: expected an RFC 3339 time like 2026-12-31T00:00:00Z, got \"%s\"", until);
        return 2;
    }
    if (!cli_open(&env, is_show)) {
        cli_close(&env);
        return 1;
    }
    int status = 0;
    if (is_show) {
        status = show(&env, optind < argc ? argv[optind] : NULL, as_json);
    } else {
        const char *list = argv[optind++];
        sg_time now = sg_clock_wall(NULL);
        for (; optind < argc; optind++) {
            const char *entry = argv[optind];
            int rc = action[0] == 'a' ? sg_store_list_add(env.store, list, tenant, entry, expires, now)
                                      : sg_store_list_remove(env.store, list, tenant, entry);
            if (rc == SG_ENOTFOUND) {
                cli_error("lists remove: %s: \"%s\" is not on the list for tenant %s", list, entry, tenant);
                status = 1;
            } else if (rc) {
                cli_error("lists %s: %s", action, sg_store_errmsg(env.store));
                status = 1;
            }
        }
        if (sg_store_flush(env.store) != 0) {
            cli_error("lists: %s", sg_store_errmsg(env.store));
            status = 1;
        }
    }
    cli_close(&env);
    return status;
}
