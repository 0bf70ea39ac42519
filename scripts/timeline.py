#!/usr/bin/env python3
"""Prints replay verdicts as a timeline: time, who, to whom, action, and the weightiest reason.

Usage: timeline.py EVENTS.jsonl VERDICTS.jsonl. Colours when stdout is a terminal.
"""
import json
import sys

events, verdicts = sys.argv[1], sys.argv[2]
tty = sys.stdout.isatty()
COLOURS = {"allow": "32", "defer": "33", "hold": "35", "reject": "31", "block": "31", "review": "35"}


def paint(text, action):
    return f"\033[{COLOURS.get(action, '0')}m{text}\033[0m" if tty else text


msgs = {}
for line in open(events):
    e = json.loads(line)
    if e.get("type") == "message":
        msgs[e["id"]] = e

print(f"{'time (UTC)':<20} {'what':<16} {'who':<10} {'to':<10} {'verdict':<8} reason")
for line in open(verdicts):
    v = json.loads(line)
    if "type" in v and v["type"] == "alert":
        print(f"{v['at']:<20} ALERT {v.get('kind')}: {v.get('reason')}")
        continue
    # The weightiest reason explains the verdict best (a ban or trust gate before a small rule).
    reason = max(v["reasons"], key=lambda r: r["score"]) if v.get("reasons") else None
    why = f"{reason['code']}: {reason['message']}" if reason else ""
    if "account" in v:
        what, who, to = "signup", v["account"], ""
    else:
        m = msgs.get(v["id"], {})
        what, who = v.get("channel", ""), v.get("sender", "")
        to = ",".join(m.get("recipients", []))[:10]
        if v["action"] == "defer":
            why += f" (retry after {v['retry_after']} s)"
    action = v["action"]
    print(f"{v['at'].replace('T', ' ')[:19]:<20} {what:<16} {who:<10} {to:<10} {paint(f'{action:<8}', action)} {why[:110]}")
