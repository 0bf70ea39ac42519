#!/usr/bin/env python3
"""End to end: the HTTP contract of `sendguardd`, through a real daemon on loopback.

Each fixture starts `sendguardd --listen 127.0.0.1:PORT --db FILE` on a free port with a fresh
store, keys made beforehand with `sendguard keys create`, and stops it by PID however the test
ends. Covered: the auth matrix (401 / 403 / 200), blocking an address after repeated failures
while a valid key from it still works, the one `auth_abuse` alert per episode, request signing,
the error bodies (400 404 405 413 415), NDJSON batches, the forum defaults (two posts, two a
minute) through /v1/events and /v1/check, lists, keys and limits over HTTP, metrics, revocation
by another process, SIGHUP reload, SIGTERM drain and kill -9 durability.

Tests that count failures per client address (the 429 block) would disturb each other through
one daemon, so every test talks from its own loopback address (127.0.0.N: Linux routes all of
127/8 to lo); only tests that signal or kill the daemon start one of their own.
Usage: python3 tests/e2e/test_daemon.py --bin build   (stdlib only; Linux)
"""
import argparse
import atexit
import hashlib
import hmac
import http.client
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = None
ALL_SCOPES = "check,events,report,moderate,audit,admin"
OLD = "2020-01-01T00:00:00Z"  # created_at for established accounts: no new-account checks
START_TIMEOUT = 15.0          # the ASan build starts slowly; a healthy one is up in milliseconds
REQUEST_TIMEOUT = 10.0

_live = set()  # daemons (Popen) started here, so an interrupted run never leaves one behind


@atexit.register
def _kill_leftovers():
    for proc in list(_live):
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ctest's timeout and a user's Ctrl-C arrive as signals; turn them into a normal exit so that
# atexit above runs.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

_counter = iter(range(1, 1 << 30))
_src_counter = iter(range(10, 250))


def uniq(prefix):
    return f"{prefix}{next(_counter)}"


def next_source():
    """A loopback client address of its own for one test (see the module note)."""
    return f"127.0.0.{next(_src_counter)}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args, expect=0):
    p = subprocess.run([os.path.join(BIN, "sendguard"), *args], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != expect:
        raise AssertionError(f"sendguard {' '.join(args)} exited {p.returncode}, want {expect}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


def create_key(db, tenant, scopes, require_signature=False):
    args = ["keys", "create", "--db", db, "--tenant", tenant, "--scopes", scopes]
    if require_signature:
        args.append("--require-signature")
    key = cli(*args).stdout.strip().splitlines()[-1].strip()
    assert key.startswith("sg_") and len(key) == 3 + 16 + 1 + 64, f"not a key: {key!r}"
    return key


def key_id(key):
    return key.split("_")[1]


def sign(key, method, path, ts, body):
    """The platform's side of request signing, written from the contract alone."""
    secret_hex = key.split("_")[2]
    signing_key = hashlib.sha256(b"sendguard-signing:" + secret_hex.encode()).digest()
    msg = f"{method}\n{path}\n{ts}\n".encode() + body
    return hmac.new(signing_key, msg, hashlib.sha256).hexdigest()


# ---- events ----------------------------------------------------------------------------------

def account(tenant, acct, created_at=OLD):
    return {"type": "account", "tenant": tenant, "account": acct, "email": f"{acct}@example.org",
            "created_at": created_at, "verified": True}


def post(tenant, acct):
    return {"type": "activity", "tenant": tenant, "account": acct, "kind": "post"}


def pm(tenant, sender, to=None, body="Hello, see you at the meetup on Saturday?"):
    return {"tenant": tenant, "id": uniq("m"), "channel": "private_message", "sender": sender,
            "recipients": [to or uniq("member")], "body": body}


def email(tenant, sender, body="Your appointment is confirmed for Tuesday 10:00."):
    return {"tenant": tenant, "id": uniq("e"), "channel": "email", "sender": sender,
            "recipients": [f"{uniq('patient')}@example.net"], "subject": "Reminder", "body": body}


def codes(verdict):
    return [r["code"] for r in verdict.get("reasons", [])]


# ---- HTTP -----------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        try:
            return json.loads(self.data)
        except ValueError:
            raise AssertionError(f"HTTP {self.status}: body is not JSON: {self.data[:500]!r}")

    def __repr__(self):
        return f"<HTTP {self.status} {self.data[:400]!r}>"


def _finish(resp):
    data = resp.read()
    return Resp(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)


class Daemon:
    """One sendguardd process: started on a free port, always stopped by its PID."""

    def __init__(self, tmpdir, db, config=None, extra_args=()):
        self.tmpdir, self.db, self.config = tmpdir, db, config
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(tmpdir, f"sendguardd-{next(_counter)}.log")

    def start(self):
        # Another process may take the free port between our probe and the daemon's bind: try
        # a few ports before calling it a failure.
        for _ in range(3):
            self.port = free_port()
            cmd = [os.path.join(BIN, "sendguardd"), "--listen", f"127.0.0.1:{self.port}",
                   "--db", self.db]
            if self.config:
                cmd += ["--config", self.config]
            cmd += self.extra_args
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=log,
                                             stdin=subprocess.DEVNULL)
            _live.add(self.proc)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    r = self.request("GET", "/healthz", timeout=1)
                    if r.status == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.02)
            self.stop()
        raise AssertionError(f"sendguardd did not become healthy:\n{self.log_tail()}")

    def stop(self):
        """SIGTERM, then SIGKILL if it does not exit; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                sys.stderr.write(f"sendguardd (pid {self.proc.pid}) ignored SIGTERM for 10 s; "
                                 f"killed\n{self.log_tail()}\n")
        _live.discard(self.proc)
        return self.proc.returncode

    def shutdown(self):
        """The fixtures' end: stop, then fail if the daemon exited badly or a sanitizer spoke.
        Under the ASan build (ctest runs this file there too) this is where the daemon's memory
        errors and leaks surface."""
        running = self.proc is not None and self.proc.poll() is None
        rc = self.stop()
        log = self.log_tail(1 << 22)
        hits = [m for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
                if m in log]
        if hits or (running and rc != 0):
            raise AssertionError(f"sendguardd exited {rc} on SIGTERM"
                                 f"{' with ' + ', '.join(hits) if hits else ''}:\n"
                                 f"{self.log_tail(8000)}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def conn(self, source=None, timeout=REQUEST_TIMEOUT):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)

    def request(self, method, path, body=None, key=None, headers=None, source=None,
                content_type="application/json", timeout=REQUEST_TIMEOUT):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        h = {}
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        if body is not None and content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        c = self.conn(source, timeout)
        try:
            c.request(method, path, body=body, headers=h)
            return _finish(c.getresponse())
        finally:
            c.close()

    def raw_upload(self, method, path, headers, body, source=None, chunked=False):
        """Sends a body in 64 KiB pieces and stops as soon as the server answers, as curl does:
        a server refusing a large body answers before reading it and closes. chunked: without
        a Content-Length, so the server can only count what arrives."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=REQUEST_TIMEOUT,
                                     source_address=(source, 0) if source else None)
        try:
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            if chunked:
                head += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            else:
                head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            s.sendall(head.encode())
            pieces = [body[off:off + 65536] for off in range(0, len(body), 65536)]
            if chunked:
                pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]
            for piece in pieces:
                if select.select([s], [], [], 0)[0]:
                    break  # the answer is already here
                try:
                    s.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
            resp = http.client.HTTPResponse(s, method=method)
            resp.begin()
            return _finish(resp)
        finally:
            s.close()


class DaemonTestCase(unittest.TestCase):
    """Helpers shared by the test classes."""

    def assert_error(self, r, status, code, message_has=None):
        self.assertEqual(r.status, status, r)
        ctype = r.header("content-type") or ""
        self.assertIn("application/json", ctype, f"error body content type: {r}")
        err = r.json().get("error")
        self.assertIsInstance(err, dict, r)
        self.assertEqual(err.get("code"), code, r)
        self.assertIsInstance(err.get("message"), str, r)
        self.assertTrue(err["message"], r)
        if message_has:
            self.assertIn(message_has, err["message"], r)
        return err

    def assert_signature_refused(self, r):
        # The contract fixes the status (401) for signature failures but not the code: the
        # daemon says "bad_signature", which tells a platform to look at its signing code rather
        # than its key; plain "unauthorized" would be within the contract too.
        self.assertEqual(r.status, 401, r)
        err = r.json().get("error")
        self.assertIsInstance(err, dict, r)
        self.assertIn(err.get("code"), ("bad_signature", "unauthorized"), r)
        self.assertTrue(err.get("message"), r)

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r)
        return r.json()


# ---- the shared daemon ------------------------------------------------------------------------

class SharedDaemon(DaemonTestCase):
    """Tests that neither signal the daemon nor depend on its failure counters share one."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.db = os.path.join(cls.tmp.name, "shared.db")
        db = cls.db
        cls.admin = create_key(db, "*", ALL_SCOPES)
        cls.audit = create_key(db, "*", "audit")
        cls.check = create_key(db, "forum", "check")
        cls.events_key = create_key(db, "forum", "events,check")
        cls.revoked = create_key(db, "forum", "check")
        cli("keys", "revoke", "--db", db, key_id(cls.revoked))
        cls.signed = create_key(db, "forum", "check", require_signature=True)
        cls.to_revoke = create_key(db, "forum", "check")
        cls.forum_admin = create_key(db, "forum", "admin")
        cls.clinic_check = create_key(db, "clinic", "check")
        cls.d = Daemon(cls.tmp.name, db)
        cls.addClassCleanup(cls.d.shutdown)
        cls.d.start()

    def setUp(self):
        self.src = next_source()

    def req(self, method, path, body=None, key=None, **kw):
        kw.setdefault("source", self.src)
        return self.d.request(method, path, body, key=key, **kw)

    def send_events(self, *evs, key=None):
        """Posts events one by one to /v1/events; returns the results."""
        out = []
        for ev in evs:
            out.append(self.ok(self.req("POST", "/v1/events", ev, key=key or self.events_key)))
        return out

    def established(self, tenant, posts=2):
        """A sender declared long ago with `posts` public posts."""
        sender = uniq("u")
        self.send_events(account(tenant, sender), *[post(tenant, sender) for _ in range(posts)],
                         key=self.admin)
        return sender

    # -- auth matrix --

    def test_healthz_needs_no_key(self):
        r = self.req("GET", "/healthz")
        self.assertEqual(self.ok(r), {"ok": True})

    def test_a_request_without_a_key_is_401_unauthorized(self):
        for path in ("/v1/check", "/v1/events"):
            self.assert_error(self.req("POST", path, pm("forum", "u1")), 401, "unauthorized")
        self.assert_error(self.req("GET", "/metrics"), 401, "unauthorized")

    def test_an_unknown_or_malformed_key_is_401_unauthorized(self):
        wrong_secret = f"sg_{key_id(self.check)}_{'0' * 64}"
        for key in ("sg_" + "0" * 16 + "_" + "0" * 64, "not-a-key", wrong_secret, ""):
            with self.subTest(key=key):
                self.assert_error(self.req("POST", "/v1/check", pm("forum", "u1"), key=key), 401,
                                  "unauthorized")
        r = self.req("POST", "/v1/check", pm("forum", "u1"),
                     headers={"Authorization": "Basic dXNlcjpwYXNz"})
        self.assert_error(r, 401, "unauthorized")

    def test_a_revoked_key_is_401_unauthorized(self):
        r = self.req("POST", "/v1/check", pm("forum", "u1"), key=self.revoked)
        self.assert_error(r, 401, "unauthorized")

    def test_a_tenant_key_acting_for_another_tenant_is_403_forbidden(self):
        self.assert_error(self.req("POST", "/v1/check", pm("clinic", "u1"), key=self.check), 403,
                          "forbidden")
        r = self.req("POST", "/v1/events", account("clinic", "a1"), key=self.events_key)
        self.assert_error(r, 403, "forbidden")

    def test_a_tenant_key_cannot_slip_another_tenants_event_into_a_batch(self):
        sender = uniq("u")
        body = "\n".join(json.dumps(e) for e in (account("forum", sender),
                                                 account("clinic", sender))) + "\n"
        r = self.req("POST", "/v1/events", body, key=self.events_key,
                     content_type="application/x-ndjson")
        if r.status == 403:  # refusing the whole batch is within the contract too
            self.assert_error(r, 403, "forbidden")
            return
        self.assertEqual(r.status, 200, r)
        lines = [json.loads(l) for l in r.data.decode().splitlines() if l.strip()]
        self.assertEqual(len(lines), 2, r)
        self.assertNotIn("error", lines[0])
        self.assertEqual(lines[1].get("line"), 2, lines[1])
        self.assertEqual(lines[1]["error"]["code"], "forbidden", lines[1])

    def test_a_key_without_the_routes_scope_is_403_forbidden(self):
        for method, path, body in (("POST", "/v1/events", account("forum", "a1")),
                                   ("GET", "/metrics", None),
                                   ("GET", "/v1/alerts", None),
                                   ("GET", "/v1/lists/accounts", None),
                                   ("POST", "/v1/keys", {"tenant": "forum", "scopes": ["admin"]}),
                                   ("GET", "/v1/limits/sender/forum/private_message/u1", None)):
            with self.subTest(route=f"{method} {path}"):
                self.assert_error(self.req(method, path, body, key=self.check), 403, "forbidden")
        # ... and the audit key may read metrics but not judge messages.
        self.assert_error(self.req("POST", "/v1/check", pm("forum", "u1"), key=self.audit), 403,
                          "forbidden")

    def test_a_valid_key_gets_a_verdict(self):
        msg = pm("forum", uniq("u"))
        v = self.ok(self.req("POST", "/v1/check", msg, key=self.check))
        for field in ("id", "action", "score", "retry_after", "campaign", "reasons"):
            self.assertIn(field, v)
        self.assertEqual(v["id"], msg["id"])
        self.assertIn(v["action"], ("allow", "defer", "hold", "reject"))
        for reason in v["reasons"]:
            self.assertEqual(set(reason) >= {"code", "score", "message"}, True, reason)
        self.assertEqual(v.get("tenant"), "forum")
        self.assertEqual(v.get("channel"), "private_message")
        self.assertEqual(v.get("url_domains"), [])

    def test_a_verdict_lists_its_link_domains(self):
        body = "Book at https://www.Clinic-Booking.example/slot or clinic-booking.example/x, see bit.ly/abc"
        v = self.ok(self.req("POST", "/v1/check", email("forum", uniq("u"), body=body), key=self.check))
        self.assertEqual(v["url_domains"], ["clinic-booking.example", "bit.ly"], v)

    def test_a_platform_key_may_act_for_any_tenant(self):
        for tenant in ("forum", "clinic", "shop"):
            v = self.ok(self.req("POST", "/v1/check", email(tenant, uniq("u")), key=self.admin))
            self.assertEqual(v["action"], "allow", v)
            self.assertEqual(v["tenant"], tenant)

    def test_a_tenant_admin_key_cannot_act_for_another_tenant_or_for_all_of_them(self):
        fa = self.forum_admin
        for tenant in ("clinic", "*"):
            with self.subTest(tenant=tenant):
                r = self.req("POST", "/v1/lists/accounts", {"entries": ["x1"], "tenant": tenant},
                             key=fa)
                self.assert_error(r, 403, "forbidden")
                r = self.req("POST", "/v1/keys", {"tenant": tenant, "scopes": ["admin"]}, key=fa)
                self.assert_error(r, 403, "forbidden")
        self.assert_error(self.req("GET", "/v1/limits/sender/clinic/private_message/u1", key=fa),
                          403, "forbidden")
        r = self.req("DELETE", f"/v1/keys/{key_id(self.clinic_check)}", key=fa)
        self.assertIn(r.status, (403, 404), r)
        r = self.req("POST", "/v1/check", email("clinic", uniq("u")), key=self.clinic_check)
        self.assertEqual(r.status, 200, "a forum admin key revoked a clinic key")
        # Without "tenant", a tenant key's entry is its own tenant's, never a platform-wide one.
        sender = uniq("u")
        self.ok(self.req("POST", "/v1/lists/accounts", {"entries": [sender]}, key=fa))
        shown = self.ok(self.req("GET", "/v1/lists/accounts", key=self.admin))
        self.assertEqual([e.get("tenant") for e in shown if e.get("entry") == sender], ["forum"])
        v = self.ok(self.req("POST", "/v1/check", email("clinic", sender), key=self.admin))
        self.assertEqual(v["action"], "allow", v)
        # ... and it sees its own tenant's entries and the platform's, not another tenant's.
        other = uniq("u")
        self.ok(self.req("POST", "/v1/lists/accounts", {"entries": [other], "tenant": "clinic"},
                         key=self.admin))
        seen = {e.get("entry") for e in self.ok(self.req("GET", "/v1/lists/accounts", key=fa))}
        self.assertIn(sender, seen)
        self.assertNotIn(other, seen)

    def test_a_keep_alive_connection_serves_request_after_request_and_after_errors(self):
        c = self.d.conn(source=self.src)
        try:
            for body, key, want in ((pm("forum", uniq("u")), self.check, 200),
                                    (b"{not json", self.check, 400),
                                    (pm("forum", uniq("u")), "sg_nope", 401),
                                    (pm("clinic", uniq("u")), self.check, 403),
                                    (email("forum", uniq("u")), self.check, 200)):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                c.request("POST", "/v1/check", body=data,
                          headers={"Authorization": f"Bearer {key}",
                                   "Content-Type": "application/json"})
                r = _finish(c.getresponse())
                self.assertEqual(r.status, want, r)
        finally:
            c.close()

    def test_one_senders_concurrent_messages_are_judged_one_at_a_time(self):
        # Two a minute means two, also when ten arrive at once on ten connections.
        sender = self.established("forum")
        results, lock = [], threading.Lock()

        def send():
            r = self.req("POST", "/v1/check", pm("forum", sender), key=self.check)
            with lock:
                results.append(r.json().get("action") if r.status == 200 else r.status)

        threads = [threading.Thread(target=send) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        self.assertEqual(sorted(results), ["allow"] * 2 + ["defer"] * 8, results)

    # -- signing --

    def signed_check(self, ts=None, key=None, body=None, sig=None, path="/v1/check"):
        key = key or self.signed
        body = body if body is not None else json.dumps(email("forum", uniq("u"))).encode()
        ts = str(int(time.time())) if ts is None else str(ts)
        sig = sig or sign(key, "POST", path, ts, body)
        headers = {"X-Sendguard-Timestamp": ts, "X-Sendguard-Signature": sig}
        return self.req("POST", path, body, key=key, headers=headers), body, ts, sig

    def test_a_correctly_signed_request_is_accepted(self):
        r, *_ = self.signed_check()
        self.assertEqual(self.ok(r)["action"], "allow")
        # Anywhere inside ±300 s is fine: clocks drift.
        r, *_ = self.signed_check(ts=int(time.time()) - 250)
        self.assertEqual(r.status, 200, r)
        r, *_ = self.signed_check(ts=int(time.time()) + 250)
        self.assertEqual(r.status, 200, r)

    def test_a_signature_is_accepted_once_and_a_replay_is_401(self):
        r, body, ts, sig = self.signed_check()
        self.assertEqual(r.status, 200, r)
        r, *_ = self.signed_check(ts=ts, body=body, sig=sig)
        self.assert_signature_refused(r)

    def test_a_signature_more_than_300_seconds_off_is_401(self):
        for off in (-400, 400):
            with self.subTest(offset=off):
                r, *_ = self.signed_check(ts=int(time.time()) + off)
                self.assert_signature_refused(r)

    def test_a_wrong_signature_is_401(self):
        other = json.dumps(email("forum", uniq("u"))).encode()
        ts = str(int(time.time()))
        r, *_ = self.signed_check(ts=ts, sig=sign(self.signed, "POST", "/v1/check", ts, other))
        self.assert_signature_refused(r)
        # Signed with another key's secret.
        r, *_ = self.signed_check(ts=ts, sig=sign(self.check, "POST", "/v1/check", ts, other))
        self.assert_signature_refused(r)
        r, *_ = self.signed_check(sig="zz")
        self.assert_signature_refused(r)

    def test_a_signature_sent_with_a_key_that_does_not_require_one_is_still_checked(self):
        r, body, ts, sig = self.signed_check(key=self.check)
        self.assertEqual(r.status, 200, r)
        r, *_ = self.signed_check(key=self.check, ts=ts, body=body, sig=sig)
        self.assert_signature_refused(r)
        r, *_ = self.signed_check(key=self.check, sig="0" * 64)
        self.assert_signature_refused(r)

    def test_a_key_that_requires_a_signature_is_refused_without_one(self):
        r = self.req("POST", "/v1/check", email("forum", uniq("u")), key=self.signed)
        self.assert_signature_refused(r)

    # -- error bodies --

    def test_an_invalid_event_is_400_naming_the_field(self):
        msg = pm("forum", uniq("u"))
        msg["recipients"] = "member1"
        r = self.req("POST", "/v1/check", msg, key=self.check)
        self.assert_error(r, 400, "invalid_event", "message.recipients: expected array of strings")
        msg = pm("forum", uniq("u"))
        msg["channel"] = "fax"
        self.assert_error(self.req("POST", "/v1/check", msg, key=self.check), 400, "invalid_event",
                          "message.channel")

    def test_more_than_10000_recipients_is_400(self):
        msg = email("forum", uniq("u"))
        msg["recipients"] = [f"r{i}@example.net" for i in range(10001)]
        self.assert_error(self.req("POST", "/v1/check", msg, key=self.check), 400, "invalid_event",
                          "message.recipients: more than 10000 recipients")

    def test_a_body_that_is_not_json_is_400(self):
        r = self.req("POST", "/v1/check", b"{not json", key=self.check)
        self.assertEqual(r.status, 400, r)
        self.assertIn("code", r.json()["error"])

    def test_an_unknown_route_is_404_not_found(self):
        self.assert_error(self.req("GET", "/v1/nope", key=self.admin), 404, "not_found")
        self.assert_error(self.req("POST", "/v2/check", pm("forum", "u1"), key=self.admin), 404,
                          "not_found")

    def test_a_wrong_method_is_405_with_allow(self):
        for method, path, allowed in (("GET", "/v1/check", "POST"),
                                      ("DELETE", "/v1/events", "POST"),
                                      ("POST", "/metrics", "GET")):
            with self.subTest(route=f"{method} {path}"):
                r = self.req(method, path, key=self.admin)
                self.assert_error(r, 405, "method_not_allowed")
                self.assertIsNotNone(r.header("allow"), f"405 without Allow: {r}")
                self.assertIn(allowed, [m.strip() for m in r.header("allow").split(",")])

    def test_a_body_over_1_MiB_is_413_too_large(self):
        msg = pm("forum", uniq("u"))
        msg["body"] = "x" * (1 << 20)
        body = json.dumps(msg).encode()
        r = self.d.raw_upload("POST", "/v1/check",
                              {"Authorization": f"Bearer {self.check}",
                               "Content-Type": "application/json"}, body, source=self.src)
        self.assert_error(r, 413, "too_large")
        # The daemon still serves afterwards.
        r = self.req("POST", "/v1/check", pm("forum", "u1"), key=self.check)
        self.assertEqual(r.status, 200, r)

    def test_a_chunked_body_over_1_MiB_is_413_too_large(self):
        # No Content-Length to refuse up front: the daemon must count what arrives.
        msg = pm("forum", uniq("u"))
        msg["body"] = "x" * (1 << 20)
        r = self.d.raw_upload("POST", "/v1/check",
                              {"Authorization": f"Bearer {self.check}",
                               "Content-Type": "application/json"},
                              json.dumps(msg).encode(), source=self.src, chunked=True)
        self.assert_error(r, 413, "too_large")

    def test_a_body_of_exactly_1_MiB_is_accepted(self):
        msg = pm("forum", uniq("u"))
        msg["body"] = ""
        pad = (1 << 20) - len(json.dumps(msg))
        msg["body"] = "x" * pad
        body = json.dumps(msg).encode()
        self.assertEqual(len(body), 1 << 20)
        r = self.d.raw_upload("POST", "/v1/check",
                              {"Authorization": f"Bearer {self.check}",
                               "Content-Type": "application/json"}, body, source=self.src)
        self.assertEqual(r.status, 200, r)

    def test_ndjson_with_a_wrong_content_type_is_415(self):
        body = "\n".join(json.dumps(account("forum", uniq("a"))) for _ in range(2)) + "\n"
        r = self.req("POST", "/v1/events", body, key=self.events_key, content_type="text/plain")
        self.assert_error(r, 415, "unsupported_media_type")

    # -- events, batches and the defaults --

    def test_a_single_event_gives_a_single_json_result(self):
        sender = uniq("u")
        r = self.req("POST", "/v1/events", account("forum", sender), key=self.events_key)
        v = self.ok(r)
        self.assertIn("application/json", r.header("content-type") or "")
        self.assertEqual(v.get("account"), sender, v)
        self.assertEqual(v["action"], "allow", v)
        # Clients add parameters to the media type; they do not make it another type.
        ack = self.ok(self.req("POST", "/v1/events", post("forum", sender), key=self.events_key,
                               content_type="application/json; charset=utf-8"))
        self.assertEqual(ack.get("ok"), True, ack)
        self.assertEqual(ack.get("type"), "activity", ack)

    def test_the_last_ndjson_line_counts_without_a_final_newline(self):
        lines = [json.dumps(account("forum", uniq("a"))) for _ in range(3)]
        r = self.req("POST", "/v1/events", "\n".join(lines), key=self.events_key,
                     content_type="application/x-ndjson; charset=utf-8")
        self.assertEqual(r.status, 200, r)
        out = [json.loads(l) for l in r.data.decode().splitlines()]
        self.assertEqual([o.get("account") for o in out], [json.loads(l)["account"] for l in lines])

    def test_an_ndjson_batch_answers_each_line_in_order_and_a_bad_line_alone_fails(self):
        sender = uniq("u")
        bad = pm("forum", sender)
        bad["recipients"] = "member1"
        bad["type"] = "message"
        good = dict(pm("forum", sender), type="message")
        lines = [json.dumps(account("forum", sender)), json.dumps(post("forum", sender)),
                 json.dumps(bad), "this is not json", json.dumps(post("forum", sender)),
                 json.dumps(good)]
        r = self.req("POST", "/v1/events", "\n".join(lines) + "\n", key=self.events_key,
                     content_type="application/x-ndjson")
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/x-ndjson", r.header("content-type") or "")
        out = [json.loads(l) for l in r.data.decode().splitlines()]
        self.assertEqual(len(out), len(lines), out)
        self.assertEqual(out[0].get("account"), sender, out[0])
        self.assertEqual(out[1].get("ok"), True, out[1])
        self.assertEqual(out[2].get("line"), 3, out[2])
        self.assertEqual(out[2]["error"]["code"], "invalid_event", out[2])
        self.assertIn("message.recipients: expected array of strings", out[2]["error"]["message"])
        self.assertEqual(out[3].get("line"), 4, out[3])
        self.assertIn("code", out[3]["error"])
        self.assertEqual(out[4].get("ok"), True, out[4])
        # The two posts on lines 2 and 5 both counted: the bad lines between did not stop the batch.
        self.assertEqual(out[5].get("id"), good["id"], out[5])
        self.assertEqual(out[5]["action"], "allow", out[5])

    def test_private_messages_need_two_posts_and_then_two_a_minute(self):
        sender = uniq("u")
        self.send_events(account("forum", sender))
        v = self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
        self.assertEqual(v["action"], "reject", v)
        self.assertIn("TRUST_MIN_POSTS", codes(v))
        self.send_events(post("forum", sender))
        v = self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
        self.assertEqual(v["action"], "reject", v)
        self.assertIn("TRUST_MIN_POSTS", codes(v))
        self.send_events(post("forum", sender))
        # Rejected messages cost nothing, so two now pass and the third waits.
        for _ in range(2):
            v = self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
            self.assertEqual(v["action"], "allow", v)
        v = self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
        self.assertEqual(v["action"], "defer", v)
        self.assertIn("RATE_SENDER", codes(v))
        self.assertIsInstance(v["retry_after"], int, v)
        self.assertGreater(v["retry_after"], 0, v)
        self.assertLessEqual(v["retry_after"], 60, v)

    # -- lists, keys and limits over HTTP --

    def test_lists_added_over_http_change_the_verdict_and_deleting_restores_it(self):
        sender = uniq("u")
        self.assertEqual(self.ok(self.req("POST", "/v1/check", email("forum", sender),
                                          key=self.check))["action"], "allow")
        entry = {"entries": [sender], "tenant": "forum", "until": "2030-01-01T00:00:00Z"}
        self.ok(self.req("POST", "/v1/lists/accounts", entry, key=self.admin))
        shown = self.ok(self.req("GET", "/v1/lists/accounts", key=self.admin))
        mine = [e for e in shown if e.get("entry") == sender]
        self.assertEqual(len(mine), 1, shown)
        self.assertEqual(mine[0].get("tenant"), "forum")
        self.assertEqual(mine[0].get("expires"), "2030-01-01T00:00:00Z")
        v = self.ok(self.req("POST", "/v1/check", email("forum", sender), key=self.check))
        self.assertEqual(v["action"], "reject", v)
        self.assertIn("LIST_BANNED_ACCOUNT", codes(v))
        # The entry is the forum's: the same account id elsewhere is not banned.
        v = self.ok(self.req("POST", "/v1/check", email("clinic", sender), key=self.admin))
        self.assertEqual(v["action"], "allow", v)
        r = self.req("DELETE", "/v1/lists/accounts", {"entries": [sender], "tenant": "forum"},
                     key=self.admin)
        self.assertIn(r.status, (200, 204), r)
        v = self.ok(self.req("POST", "/v1/check", email("forum", sender), key=self.check))
        self.assertEqual(v["action"], "allow", v)

    def test_an_unknown_list_is_refused(self):
        r = self.req("POST", "/v1/lists/colours", {"entries": ["red"], "tenant": "forum"},
                     key=self.admin)
        self.assertIn(r.status, (400, 404), r)
        self.assertIn("error", r.json())

    def test_limits_show_a_senders_state_and_delete_resets_it(self):
        sender = self.established("forum")
        for _ in range(2):
            self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
        path = f"/v1/limits/sender/forum/private_message/{sender}"
        state = self.ok(self.req("GET", path, key=self.admin))
        self.assertEqual(state["windows"][0]["limit"], 2, state)
        self.assertGreater(state["windows"][0]["used"], 1.9, state)
        v = self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
        self.assertEqual(v["action"], "defer", v)
        r = self.req("DELETE", path, key=self.admin)
        self.assertIn(r.status, (200, 204), r)
        r = self.req("GET", path, key=self.admin)
        if r.status != 404:  # a reset key may be forgotten altogether
            self.assertLess(self.ok(r)["windows"][0]["used"], 0.1, r)
        v = self.ok(self.req("POST", "/v1/check", pm("forum", sender), key=self.check))
        self.assertEqual(v["action"], "allow", v)

    def test_a_malformed_limit_key_is_an_error_not_a_crash(self):
        r = self.req("GET", "/v1/limits/planet/forum", key=self.admin)
        self.assertIn(r.status, (400, 404), r)
        self.assertEqual(self.req("GET", "/healthz").status, 200)

    def test_keys_made_over_http_work_and_deleting_one_revokes_it(self):
        r = self.req("POST", "/v1/keys", {"tenant": "forum", "scopes": ["check"]}, key=self.admin)
        made = self.ok(r, 201)
        key = made["key"]
        self.assertRegex(key, r"^sg_[0-9a-f]{16}_[0-9a-f]{64}$")
        self.assertEqual(self.req("POST", "/v1/check", pm("forum", uniq("u")), key=key).status, 200)
        self.assert_error(self.req("POST", "/v1/events", account("forum", "a"), key=key), 403,
                          "forbidden")
        r = self.req("DELETE", f"/v1/keys/{key_id(key)}", key=self.admin)
        self.assertIn(r.status, (200, 204), r)
        status = self.poll_status(key, want=401, within=2.0)
        self.assertEqual(status, 401, "a key deleted over HTTP still works after 2 s")
        self.assert_error(self.req("DELETE", "/v1/keys/" + "0" * 16, key=self.admin), 404,
                          "not_found")

    def poll_status(self, key, want, within):
        deadline = time.monotonic() + within
        status = None
        while time.monotonic() < deadline:
            status = self.req("POST", "/v1/check", email("forum", uniq("u")), key=key).status
            if status == want:
                break
            time.sleep(0.05)
        return status

    def test_a_key_revoked_by_another_process_stops_working_within_a_second(self):
        self.assertEqual(self.req("POST", "/v1/check", email("forum", uniq("u")),
                                  key=self.to_revoke).status, 200)
        listed = [l.split()[0] for l in cli("keys", "list", "--db", self.db).stdout.splitlines()
                  if l.strip()]
        self.assertIn(key_id(self.to_revoke), listed)
        cli("keys", "revoke", "--db", self.db, key_id(self.to_revoke))
        t0 = time.monotonic()
        status = self.poll_status(self.to_revoke, want=401, within=2.0)
        elapsed = time.monotonic() - t0
        self.assertEqual(status, 401, "revoked key still accepted after 2 s")
        # Contract: within a second; the extra half second is slack for a loaded CI machine.
        self.assertLess(elapsed, 1.5, f"revocation took {elapsed:.2f} s")

    # -- metrics --

    def test_metrics_are_prometheus_text_with_the_documented_series(self):
        self.ok(self.req("POST", "/v1/check", email("forum", uniq("u")), key=self.check))
        r = self.req("GET", "/metrics", key=self.audit)
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/plain", r.header("content-type") or "")
        text = r.data.decode()
        for name in ("sendguard_http_requests_total", "sendguard_decisions_total",
                     "sendguard_request_duration_seconds_bucket", "sendguard_auth_failures_total",
                     "sendguard_store_queue_depth"):
            samples = [l for l in text.splitlines() if l.startswith(name)]
            self.assertTrue(samples, f"{name} missing from /metrics:\n{text[:3000]}")
        self.assertIn('le="+Inf"', text)
        before = self.metric_sum(text, "sendguard_http_requests_total")
        for _ in range(3):
            self.req("POST", "/v1/check", email("forum", uniq("u")), key=self.check)
        after = self.metric_sum(self.req("GET", "/metrics", key=self.audit).data.decode(),
                                "sendguard_http_requests_total")
        self.assertGreaterEqual(after - before, 3)
        fails = self.metric_sum(self.req("GET", "/metrics", key=self.audit).data.decode(),
                                "sendguard_auth_failures_total")
        self.req("POST", "/v1/check", email("forum", uniq("u")), key="sg_wrong")
        fails_after = self.metric_sum(self.req("GET", "/metrics", key=self.audit).data.decode(),
                                      "sendguard_auth_failures_total")
        self.assertEqual(fails_after - fails, 1)

    @staticmethod
    def metric_sum(text, name):
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(None, 1)[1])
        return total


# ---- tests with a daemon of their own -----------------------------------------------------

class OwnDaemon(DaemonTestCase):
    """Tests that signal or kill the daemon, or need its failure counters to themselves."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.db = os.path.join(self.tmp.name, "sg.db")
        self.admin = create_key(self.db, "*", ALL_SCOPES)

    def start(self, config=None, extra_args=()):
        d = Daemon(self.tmp.name, self.db, config, extra_args)
        self.addCleanup(d.shutdown)  # registered before start: a failed start is cleaned up too
        return d.start()

    def test_repeated_failures_block_the_address_but_a_valid_key_from_it_still_works(self):
        d = self.start()
        src, other = next_source(), next_source()
        bad = "sg_" + "1" * 16 + "_" + "2" * 64
        statuses = []
        for _ in range(25):
            statuses.append(d.request("POST", "/v1/check", pm("forum", "u1"), key=bad,
                                      source=src).status)
        self.assertEqual(statuses[:20], [401] * 20, statuses)
        first = statuses.index(429) if 429 in statuses else None
        # "More than 20 a minute": the 21st failure may still be answered 401, the 22nd is not.
        self.assertIn(first, (20, 21), statuses)
        self.assertEqual(statuses[first:], [429] * (25 - first), statuses)
        r = d.request("POST", "/v1/check", pm("forum", "u1"), key=bad, source=src)
        self.assert_error(r, 429, "too_many_failures")
        self.assertIsNotNone(r.header("retry-after"), r)
        self.assertGreater(int(r.header("retry-after")), 0)
        # A valid key from the blocked address is still served ...
        r = d.request("POST", "/v1/check", email("forum", uniq("u")), key=self.admin, source=src)
        self.assertEqual(r.status, 200, r)
        # ... and the block is the address's alone.
        r = d.request("POST", "/v1/check", pm("forum", "u1"), key=bad, source=other)
        self.assert_error(r, 401, "unauthorized")

        alerts = self.wait_for_alerts(d, src, want=1)
        self.assertEqual(len(alerts), 1, alerts)
        self.assertEqual(alerts[0].get("type"), "alert", alerts[0])
        # More failures in the same episode raise no second alert.
        for _ in range(5):
            d.request("POST", "/v1/check", pm("forum", "u1"), key=bad, source=src)
        time.sleep(0.5)  # alerts go through the store's writer; give a second one time to land
        alerts = self.wait_for_alerts(d, src, want=1)
        self.assertEqual(len(alerts), 1, alerts)

    def test_a_new_episode_after_a_quiet_spell_raises_a_second_auth_abuse_alert(self):
        # "Exactly one per episode", not one per address forever. --auth-cooldown (see
        # `sendguardd --help`) shortens the quiet time that ends an episode from 60 s to 1 s.
        d = self.start(extra_args=["--auth-cooldown", "1"])
        src = next_source()
        bad = "sg_" + "3" * 16 + "_" + "4" * 64

        def episode():
            statuses = [d.request("POST", "/v1/check", pm("forum", "u1"), key=bad,
                                  source=src).status for _ in range(25)]
            self.assertIn(429, statuses)

        episode()
        self.assertEqual(len(self.wait_for_alerts(d, src, want=1)), 1)
        time.sleep(1.5)  # quiet for longer than the cool-down: that episode is over
        episode()
        alerts = self.wait_for_alerts(d, src, want=2)
        self.assertEqual(len(alerts), 2, alerts)

    def wait_for_alerts(self, d, src, want):
        deadline = time.monotonic() + 2.0
        while True:
            r = d.request("GET", "/v1/alerts", key=self.admin, source=src)
            self.assertEqual(r.status, 200, r)
            records = r.json()
            self.assertIsInstance(records, list, r)
            found = [a for a in records if a.get("kind") == "auth_abuse"]
            if len(found) >= want or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def query(self, sql):
        """Reads the store as an operator would, after the daemon is gone."""
        db = sqlite3.connect(self.db)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def write_config(self, text):
        path = os.path.join(self.tmp.name, "sendguard.yaml")
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic, as a config-management tool would do it
        return path

    def test_sighup_reloads_the_config(self):
        # No sender rate limit, so polling after the reload never runs into a deferral.
        rates = "channels.private_message.limits.sender.rates: []\n"
        cfg = self.write_config("channels.private_message.trust.min_posts: 3\n" + rates)
        d = self.start(cfg)
        sender = uniq("u")
        for ev in (account("forum", sender), post("forum", sender), post("forum", sender)):
            self.ok(d.request("POST", "/v1/events", ev, key=self.admin))
        v = self.ok(d.request("POST", "/v1/check", pm("forum", sender), key=self.admin))
        self.assertEqual(v["action"], "reject", v)
        self.assertIn("TRUST_MIN_POSTS", codes(v))

        self.write_config("channels.private_message.trust.min_posts: 2\n" + rates)
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 2.0
        while True:
            v = self.ok(d.request("POST", "/v1/check", pm("forum", sender), key=self.admin))
            if v["action"] == "allow" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(v["action"], "allow", f"min_posts 2 not in force 2 s after SIGHUP: {v}")
        self.assertIsNone(d.proc.poll(), "sendguardd exited on SIGHUP")

    def test_a_broken_config_on_sighup_keeps_the_old_one_and_the_daemon_running(self):
        cfg = self.write_config("channels.private_message.trust.min_posts: 0\n")
        d = self.start(cfg)
        self.write_config("channels.private_message.trust.min_posts: two\n")
        d.signal(signal.SIGHUP)
        time.sleep(0.3)  # give a reload time to happen (or to fail)
        self.assertIsNone(d.proc.poll(), f"sendguardd exited on a bad config:\n{d.log_tail()}")
        v = self.ok(d.request("POST", "/v1/check", pm("forum", uniq("u")), key=self.admin))
        self.assertEqual(v["action"], "allow", f"min_posts 0 no longer in force: {v}")
        self.assertIn("min_posts", d.log_tail(), "the rejected reload is not logged")

    def test_sighup_reloads_lists_changed_by_another_process(self):
        d = self.start()
        sender = uniq("u")
        v = self.ok(d.request("POST", "/v1/check", email("forum", sender), key=self.admin))
        self.assertEqual(v["action"], "allow", v)
        cli("lists", "add", "--db", self.db, "accounts", "--tenant", "forum", sender)
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 2.0
        while True:
            v = self.ok(d.request("POST", "/v1/check", email("forum", sender), key=self.admin))
            if v["action"] == "reject" or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # at most ~20 tries: under the sender's 30 a minute
        self.assertEqual(v["action"], "reject", f"list entry not seen 2 s after SIGHUP: {v}")
        self.assertIn("LIST_BANNED_ACCOUNT", codes(v))

    def test_sigterm_lets_an_in_flight_request_finish_and_exits_0(self):
        d = self.start()
        n = 200
        ids = []
        lines = []
        for i in range(n):
            ev = dict(email("forum", f"s{i % 20}"), type="message")
            ids.append(ev["id"])
            lines.append(json.dumps(ev))
        body = ("\n".join(lines) + "\n").encode()
        half = body.index(b"\n", len(body) // 2) + 1
        c = d.conn(timeout=15)
        try:
            # The request is in flight for certain: headers and half the body are in, the rest
            # comes only after the signal.
            c.putrequest("POST", "/v1/events")
            c.putheader("Authorization", f"Bearer {self.admin}")
            c.putheader("Content-Type", "application/x-ndjson")
            c.putheader("Content-Length", str(len(body)))
            c.endheaders(body[:half])
            time.sleep(0.2)
            d.signal(signal.SIGTERM)
            time.sleep(0.3)
            c.send(body[half:])
            r = _finish(c.getresponse())
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        out = [json.loads(l) for l in r.data.decode().splitlines()]
        self.assertEqual([o.get("id") for o in out], ids)
        try:
            code = d.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("sendguardd did not exit within 10 s of SIGTERM")
        self.assertEqual(code, 0, d.log_tail())
        stored = self.query("select count(*) from verdicts")[0][0]
        self.assertEqual(stored, n, "verdicts answered before SIGTERM missing from the store")

    def test_every_verdict_answered_survives_kill_9(self):
        d = self.start()
        n, workers = 60, 4
        answered, errors = [], []
        lock = threading.Lock()

        def work(k):
            try:
                for _ in range(n // workers):
                    msg = email("forum", f"w{k}")
                    r = d.request("POST", "/v1/check", msg, key=self.admin)
                    if r.status != 200:
                        raise AssertionError(r)
                    with lock:
                        answered.append(r.json()["id"])
            except Exception as e:  # reported below: a thread's failure is the test's
                with lock:
                    errors.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        # A batch answered through /v1/events counts the same.
        batch = [dict(email("forum", "batch"), type="message") for _ in range(20)]
        r = d.request("POST", "/v1/events", "\n".join(json.dumps(e) for e in batch) + "\n",
                      key=self.admin, content_type="application/x-ndjson")
        self.assertEqual(r.status, 200, r)
        answered += [json.loads(l)["id"] for l in r.data.decode().splitlines()]
        n += len(batch)
        d.proc.kill()  # no chance to flush: only what was committed before answering remains
        d.proc.wait(timeout=10)
        self.assertFalse(errors, errors)
        self.assertEqual(len(answered), n)
        stored = {row[0] for row in self.query("select id from verdicts")}
        count = self.query("select count(*) from verdicts")[0][0]
        self.assertEqual(count, n, f"{n} verdicts answered, {count} in the store after kill -9")
        self.assertEqual(stored, set(answered))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args, rest = ap.parse_known_args()
    BIN = os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
