/* sendguard limits show: a rate-limit key's windows as the store last saved them (the daemon
 * and replay save limiter state on exit), read on the wall clock. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static sg_time fixed_now(void *ud) { return *(const sg_time *)ud; }

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sendguard limits show --db FILE [--config FILE] [--at TIME] SCOPE KEY\n"
            "SCOPE is sender, tenant, recipient or ip. KEY is TENANT/CHANNEL/ID (the sender,\n"
            "recipient or client address) or TENANT/CHANNEL for the tenant scope, e.g.\n"
            "  sendguard limits show --db var/sendguard.db sender forum/private_message/u123\n"
            "--at reads the windows at another time (a replay's keys live on the replay's clock).\n");
}

int cmd_limits(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct cli_env env = {0};
    const char *at = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "d:c:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': env.db = optarg; break;
        case 'c': env.config = optarg; break;
        case 'a': at = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind != 3 || strcmp(argv[optind], "show") != 0 || !env.db) {
        usage(stderr);
        return 2;
    }
    /* --at reads the state at another time: a replay's keys are judged on the replay's clock. */
    sg_time when = sg_clock_wall(NULL);
    if (at && sg_time_parse(at, strlen(at), &when) != 0) {
        cli_error("--at: expected an RFC 3339 time, got \"%s\"", at);
        return 2;
    }
    if (!cli_open(&env, true)) {
        cli_close(&env);
        return 1;
    }
    struct sg_clock clock = {fixed_now, &when};
    struct sg_engine *engine = cli_engine(&env, &clock);
    int status = 1;
    char *json = NULL;
    if (engine) {
        int rc = sg_engine_limit_show(engine, argv[optind + 1], argv[optind + 2], &json);
        if (rc == SG_EINVAL) {
            cli_error("limits: bad scope or key \"%s\" \"%s\"", argv[optind + 1], argv[optind + 2]);
            usage(stderr);
        } else if (rc) {
            cli_error("limits: %s", sg_strerror(rc));
        } else {
            printf("%s\n", json);
            status = 0;
        }
    }
    sg_free(json);
    sg_engine_free(engine);
    cli_close(&env);
    return status;
}
