/* A judgement's result as handed to the caller: the action and the JSON answer. */
#ifndef SG_ENGINE_RESULT_H
#define SG_ENGINE_RESULT_H

#include "engine/engine.h"
#include "util/strbuf.h"

struct sg_result {
    enum sg_event_type type;
    enum sg_action action;
    int channel; /* -1 unless a message */
    struct sg_strbuf json;
};

/* Builds the verdict JSON for a message or account context (DESIGN.md "Message verdict"). */
void sg__result_verdict_json(struct sg_strbuf *sb, const struct sg_ctx *ctx, enum sg_action action,
                             double score);
/* {"type":T,"ok":true,...} for events that change state but get no verdict. */
void sg__result_ack_json(struct sg_strbuf *sb, const struct sg_event *ev, sg_time now);

#endif
