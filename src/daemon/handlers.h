/* The route handlers of sendguardd, one group per file: events (check, events), learn, admin (lists,
 * keys, limits) and audit (alerts, metrics, health). Each answers through struct reply. */
#ifndef SG_DAEMON_HANDLERS_H
#define SG_DAEMON_HANDLERS_H

struct request;
struct reply;

void handle_check(struct request *req, struct reply *out);
void handle_events(struct request *req, struct reply *out);
/* POST /v1/learn (handlers_learn.c). */
void handle_learn(struct request *req, struct reply *out);

void handle_list_show(struct request *req, struct reply *out);
void handle_list_add(struct request *req, struct reply *out);
void handle_list_remove(struct request *req, struct reply *out);
void handle_key_create(struct request *req, struct reply *out);
void handle_key_revoke(struct request *req, struct reply *out);
void handle_limit_show(struct request *req, struct reply *out);
void handle_limit_reset(struct request *req, struct reply *out);

void handle_alerts(struct request *req, struct reply *out);
void handle_metrics(struct request *req, struct reply *out);
void handle_healthz(struct request *req, struct reply *out);

#endif
