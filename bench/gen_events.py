#!/usr/bin/env python3
"""Generates a replay benchmark stream: N events in time order across several tenants.

Mix (by default): 4% signups, 16% public activity, 80% messages on private_message, email,
comment and notification, from a pool of senders of mixed age and trust, with realistic bodies
and 1-5 recipients. Deterministic for a given --seed.
Usage: gen_events.py [--events 100000] [--senders 20000] [--seed 1] > events.jsonl
"""
import argparse
import json
import random
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--events", type=int, default=100000)
ap.add_argument("--senders", type=int, default=20000)
ap.add_argument("--tenants", type=int, default=8)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = random.Random(a.seed)

T0 = 1795392000  # 2026-11-23T00:00:00Z
SPAN = 86400
BODIES = [
    "Hi, are you coming to the meeting on Thursday? Let me know.",
    "Thanks for your reply, I have attached the minutes of last week.",
    "Your appointment with Dr. Jansen is confirmed for Monday 10:30.",
    "Congratulations! You have been selected for our NFT prize. Claim now: https://claim-nft.example/win",
    "Reminder: the fundraiser starts at 7pm, see https://charity.example/events for details.",
    "Can you check the draft I posted in the volunteers thread?",
    "Your account will be suspended, verify your password at http://login-check.example",
]
CHANNELS = ["private_message"] * 5 + ["email"] * 2 + ["comment", "notification"]
DOMAINS = ["example.org", "gmail.com", "outlook.com", "mailinator.com", "prize-drops.example"]

def ts(sec):
    h, rem = divmod(int(sec) % 86400, 3600)
    m, s = divmod(rem, 60)
    return f"2026-11-23T{h:02d}:{m:02d}:{s:02d}Z"

tenants = [f"tenant{i}" for i in range(a.tenants)]
known = []
out = sys.stdout
write = out.write
for i in range(a.events):
    t = T0 + SPAN * i // a.events
    r = rng.random()
    tenant = tenants[i % a.tenants]
    if r < 0.04 or not known:
        acct = f"u{len(known)}"
        age_days = rng.choice([0, 0, 1, 3, 30, 400])
        ev = {"type": "account", "at": ts(t - T0), "tenant": tenant, "account": acct,
              "email": f"{acct}@{rng.choice(DOMAINS)}",
              "created_at": ts(t - T0 - age_days * 86400) if age_days == 0 else f"2026-{1 + (age_days % 10):02d}-01T00:00:00Z",
              "ip": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"}
        if len(known) < a.senders:
            known.append((tenant, acct))
    elif r < 0.20:
        tn, acct = rng.choice(known)
        ev = {"type": "activity", "at": ts(t - T0), "tenant": tn, "account": acct, "kind": "post"}
    else:
        tn, acct = rng.choice(known)
        n = rng.choice([1, 1, 1, 2, 3, 5])
        ev = {"type": "message", "at": ts(t - T0), "tenant": tn, "id": f"m{i}", "channel": rng.choice(CHANNELS),
              "sender": acct, "recipients": [f"r{rng.randrange(50000)}" for _ in range(n)],
              "subject": "Hello", "body": rng.choice(BODIES), "ip": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}"}
    write(json.dumps(ev, separators=(",", ":")) + "\n")
