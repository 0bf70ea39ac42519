/* sendguard — the command line: dry-run checks, replays, lists, limits and config. Each verb
 * lives in its own cmd_*.c; this file only dispatches. */
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} verbs[] = {
    {"check", cmd_check, "judge message events (JSON files, directories or stdin) without recording"},
    {"replay", cmd_replay, "replay a JSONL event stream on its own clock; verdicts as JSONL"},
    {"lists", cmd_lists, "add, remove or show list entries (accounts, email_domains, url_domains, ips)"},
    {"limits", cmd_limits, "show a rate-limit key's state"},
    {"config", cmd_config, "dump the effective configuration"},
    {"rules", cmd_rules, "lint rule files, or test which rules fire on a message"},
    {"train", cmd_train, "train the classifier from spam and ham examples"},
    {"keys", cmd_keys, "create, list or revoke API keys (the key is shown once)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sendguard VERB [options]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].help);
    fprintf(out, "  %-8s %s\n", "version", "print the version");
    fprintf(out, "\n`sendguard VERB --help` shows a verb's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("sendguard %s\n", SG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verb, verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    cli_error("unknown verb \"%s\"", verb);
    usage(stderr);
    return 2;
}
