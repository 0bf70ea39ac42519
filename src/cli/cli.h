/* What the sendguard command's verbs share: opening config and store from the common options,
 * logging to stderr, and the verbs' entry points. The CLI uses only the public header. */
#ifndef SG_CLI_CLI_H
#define SG_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sendguard.h"

struct cli_env {
    const char *db;       /* --db FILE; NULL: a private in-memory store */
    const char *config;   /* --config FILE; NULL: the built-in defaults */
    struct sg_config *cfg;
    struct sg_store *store;
};

/* Loads the config and opens the store; on failure prints why and returns false. When
 * db_must_exist, a missing --db file is an error instead of a new empty store. */
bool cli_open(struct cli_env *env, bool db_must_exist);
void cli_close(struct cli_env *env);
/* An engine over env with the given clock, logging to stderr; NULL after printing why. */
struct sg_engine *cli_engine(struct cli_env *env, const struct sg_clock *clock);

void cli_log(void *ud, enum sg_log_level level, const char *msg);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s as a JSON string (quotes, backslashes and control characters escaped). */
void cli_json_str(FILE *out, const char *s);

/* The entries of directory dir (but dot files) as "dir/name" paths in name order, so runs are
 * reproducible. Returns the count and *out (free each and the array with free), or -1 with
 * errno set. */
long cli_list_dir(const char *dir, char ***out);

/* Calls fn for each non-empty line of file ("-": stdin), its line break cut: a list of paths
 * too long for the command line. -1 with errno set when file cannot be opened, else 0. */
int cli_each_listed(const char *file, void (*fn)(void *ud, const char *path), void *ud);

/* Reads a whole file (at most max bytes); NULL after printing why. *len gets the size. */
char *cli_read_file(const char *path, size_t max, size_t *len);

/* A message from a file's bytes: a JSON event when it starts with '{' (after white space),
 * else a raw RFC 822 mail of tenant (sg_event_from_rfc822). As sg_event_parse. */
int cli_parse_message(const char *buf, size_t len, const char *tenant, struct sg_event **out,
                      char **errmsg);

/* Whether a file holds one JSON event a line (JSONL) rather than one event or one raw mail, the
 * one rule `check` and `train` share: a .jsonl or .ndjson name says so; otherwise a file that
 * starts with '{' is JSONL when it does not parse as one event but its first line does (so a
 * broken single event gets one error that names it, not one per line). */
bool cli_is_jsonl(const char *path, const char *buf, size_t len);

int cmd_check(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_lists(int argc, char **argv);
int cmd_limits(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_keys(int argc, char **argv);

#endif
