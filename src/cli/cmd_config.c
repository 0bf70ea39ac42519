/* sendguard config dump: the effective configuration (built-in defaults plus --config), every
 * setting with its value, as YAML that loads back. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h': printf("usage: sendguard config dump [--config FILE]\n"); return 0;
        default: fprintf(stderr, "usage: sendguard config dump [--config FILE]\n"); return 2;
        }
    }
    if (argc - optind != 1 || strcmp(argv[optind], "dump") != 0) {
        fprintf(stderr, "usage: sendguard config dump [--config FILE]\n");
        return 2;
    }
    struct sg_config *cfg;
    int rc = sg_config_new(&cfg);
    if (!rc && path)
        rc = sg_config_load_file(cfg, path);
    if (rc) {
        cli_error("%s", cfg ? sg_config_errmsg(cfg) : sg_strerror(rc));
        sg_config_free(cfg);
        return 1;
    }
    char *yaml;
    if ((rc = sg_config_dump(cfg, &yaml))) {
        cli_error("config dump: %s", sg_strerror(rc));
        sg_config_free(cfg);
        return 1;
    }
    fputs(yaml, stdout);
    sg_free(yaml);
    sg_config_free(cfg);
    return 0;
}
