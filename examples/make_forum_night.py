#!/usr/bin/env python3
"""Writes forum-night.jsonl: a small, readable replay of the charity-forum incident.

Thirty accounts are made around 23:00 and private-message members between midnight and 07:00.
Ten signed up with a disposable address, the rest with an odd domain; three of them were aged
with two posts each (the next wave's trick). Two long-standing members chat as usual.
Deterministic: the same file every run.
"""
import json
import random

rng = random.Random(2026)
events = []


def at(h, m, s=0, day=22):
    return f"2026-11-{day:02d}T{h:02d}:{m:02d}:{s:02d}Z"


def add(t, **f):
    events.append((t, {"at": t, **f}))


add(at(21, 0), type="tenant", tenant="forum", timezone="Europe/London", working_hours="Mon-Fri 09:00-17:30")
for name, posts in (("alice", 40), ("bob", 12)):
    add(at(21, 1), type="account", tenant="forum", account=name, email=f"{name}@example.org",
        created_at="2024-03-01T10:00:00Z", verified=True)
    for _ in range(posts):
        add(at(21, 2), type="activity", tenant="forum", account=name, kind="post")

members = [f"member{i:03d}" for i in range(1, 121)]
attackers = [f"newbie{i:02d}" for i in range(1, 31)]
for i, name in enumerate(attackers):
    domain = "mailinator.com" if i < 10 else "prize-drops.example"
    add(at(23, i // 3, (i * 17) % 60), type="account", tenant="forum", account=name,
        email=f"{name}@{domain}", ip=f"198.51.100.{10 + i}")
aged = attackers[10:13]
for name in aged:
    for k in range(2):
        add(at(23, 40 + k), type="activity", tenant="forum", account=name, kind="post")

lures = [
    "Congratulations! You have been selected for our NFT prize. Claim it now: https://claim-nft.example/win",
    "Hi, your account will be suspended. Verify your password here: http://forum-login.example/verify",
    "You won 0.5 ETH in our community airdrop, reply with your wallet address",
    "Message me on WhatsApp +44 7700 900123 about your reward",
]
n = 0
for minute in range(0, 7 * 60, 7):
    h, m = divmod(minute, 60)
    sender = rng.choice(attackers[10:])  # the mailinator accounts were blocked at signup
    body = rng.choice(lures)
    to = rng.sample(members, 1)
    n += 1
    add(at(h, m, 5, day=23), type="message", tenant="forum", id=f"pm{n:04d}", channel="private_message",
        sender=sender, recipients=to, body=body)
# The aged accounts try bursts: links are held, plain lures hit the two-a-minute limit.
for k, name in enumerate(aged):
    for j in range(4):
        n += 1
        add(at(2, 10 + k, j * 5, day=23), type="message", tenant="forum", id=f"pm{n:04d}",
            channel="private_message", sender=name, recipients=[members[k * 10 + j]],
            body="You won 0.5 ETH in our community airdrop, reply with your wallet address")
    n += 1
    add(at(2, 20 + k, day=23), type="message", tenant="forum", id=f"pm{n:04d}", channel="private_message",
        sender=name, recipients=[members[50 + k]], body=lures[0])
# Members keep talking; their messages go through.
for k in range(6):
    n += 1
    add(at(1 + k, 30, day=23), type="message", tenant="forum", id=f"pm{n:04d}", channel="private_message",
        sender="alice" if k % 2 == 0 else "bob", recipients=["bob" if k % 2 == 0 else "alice"],
        body="See you at the fundraiser on Saturday! Details: https://charity.example/events")

events.sort(key=lambda e: e[0])
with open("forum-night.jsonl", "w") as f:
    for _, e in events:
        f.write(json.dumps(e) + "\n")
print(f"forum-night.jsonl: {len(events)} events")
