"""What the HTTP server accepts: invalid UTF-8 and NUL bytes in paths and queries, login
credentials only in the body, Expect: 100-continue before the session is checked, the Host
allow-list, header size and count limits, bodies over 1 MiB however framed, pipelined
requests, and the login throttle under a race of parallel attempts, with user names that try
to forge log lines and timing that does not tell known users from unknown ones.

Every request is real HTTP over loopback; each test that fails logins does so from a
127.0.0.x address of its own, so the per-address throttle of one cannot touch another."""

import collections
import http.client
import json
import re
import statistics
import time
import unittest
import urllib.parse

from harness import ApiClient, WharfTestCase, Wharfd, session_cookie
from support import Watch, connect_from, parse_response, recv_until_closed, request_bytes

MiB = 1024 * 1024
FORM = "Content-Type: application/x-www-form-urlencoded"


class HttpInputTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd("http://127.0.0.1:9"))
        cls.api = cls.wharfd.client()
        cls.cookie = f"Cookie: {session_cookie(cls.api)}"

    def connect(self, source, port, **kw):
        s = connect_from(source, port, **kw)
        self.addCleanup(s.close)
        return s

    def exchange(self, raw, source="127.0.0.1", method="GET", timeout=10):
        """Sends `raw` on a new connection from `source`: (status, headers, body)."""
        s = self.connect(source, self.wharfd.port, timeout=timeout)
        s.sendall(raw)
        with s.makefile("rb") as f:
            answer = self.answers(f, 1, method)[0]
        s.close()
        return answer

    def get(self, path, headers=(), source="127.0.0.1", **kw):
        return self.exchange(request_bytes("GET", path, headers, **kw), source)

    def assertErrorAnswer(self, answer, codes, mentions=()):
        status, _, body = answer
        codes = (codes,) if isinstance(codes, int) else codes
        self.assertIn(status, codes, body[:300])
        try:
            parsed = json.loads(body)
        except ValueError:
            self.fail(f"HTTP {status} without a JSON error body: {body[:300]!r}")
        self.assertError(status, parsed, status, mentions=mentions)
        return parsed

    # --- bytes in paths and queries -----------------------------------------------------

    def test_invalid_utf8_in_a_query_parameter_is_400_naming_it(self):
        for query, param in [("from=%ff", "from"), ("from=local&filter_text=%ff", "filter_text"),
                             ("from=local&filter_text=ab%c3", "filter_text"),
                             ("category=%fe", "category"), ("from=local&type=%ff", "type")]:
            with self.subTest(query=query):
                self.assertErrorAnswer(self.get(f"/api/v1/image/?{query}", [self.cookie]),
                                       400, [param])
        status, _, body = self.get("/api/v1/image/?from=local&filter_text=%C3%A9t%C3%A9",
                                   [self.cookie])
        self.assertEqual(status, 200, body[:300])  # valid UTF-8 is fine
        self.assertEqual(json.loads(body)["filter_text"], "\u00e9t\u00e9")

    def test_odd_bytes_in_paths_are_400_or_404_never_500(self):
        self.assertErrorAnswer(self.get("/api/v1/nope%ff"), (400, 404))
        self.assertErrorAnswer(self.get("/api/v1/nope%ff", [self.cookie]), (400, 404))
        # Never a 500 (an error of wharfd's own), whatever the bytes.
        for path in ["/%ff", "/web/%ff", "/web/%c0%af", "/api/v1/%c0%ae%c0%ae/",
                     "/api/v1/image/docker/%ff/latest/inspect",
                     "/api/v1/image/docker/lgsd/diamond/%ff/inspect",
                     "/api/v1/image/?from=local&page=%ff", "/api/v1/image/?%ff=1",
                     "/api/v1/image/?from=local&filter_text=%", "/api/v1/image/?from=%zz",
                     "/api/v1/image/?from=local&filter_text=%ff%fe%fd%00"]:
            with self.subTest(path=path):
                answer = self.get(path, [self.cookie])
                self.assertLess(answer[0], 500, answer[2][:300])
                if answer[0] >= 400:
                    self.assertErrorAnswer(answer, answer[0])
        answer = self.exchange(request_bytes("DELETE", "/api/v1/image/local/docker/%ff",
                                             [self.cookie]), method="DELETE")
        self.assertErrorAnswer(answer, (400, 404))

    def test_an_lxc_tag_of_invalid_utf8_is_400_naming_the_tag(self):
        answer = self.exchange(request_bytes(
            "POST", "/api/v1/image/appcenter/lxc/debian-bookworm/%ff/download",
            [self.cookie, "Content-Type: application/json"], b"{}"), method="POST")
        self.assertErrorAnswer(answer, 400, ["tag"])
        self.assertIsNone(self.api.find_job(self.api.download_jobs(), "debian-bookworm", "\xff"))

    def test_a_nul_anywhere_in_a_path_is_404(self):
        status, _, body = self.get("/web/app.js")
        self.assertEqual(status, 200, "the static file itself is served")
        for path in ["/web/app.js%00.png", "/web/app.js%00", "/web/%00app.js", "/%00",
                     "/index.html%00", "/icons/debian.svg%00.png", "/healthz%00",
                     "/api/v1/login%00", "/api/v1/image/docker/lgsd%00/diamond/latest/inspect"]:
            with self.subTest(path=path):
                status, _, body = self.get(path, [self.cookie])
                self.assertEqual(status, 404, f"{path}: {body[:200]!r}")
                self.assertNotIn(b"function", body)  # not the file's content

    # --- login and sessions -------------------------------------------------------------

    def test_credentials_in_the_query_string_are_refused(self):
        query = urllib.parse.urlencode({"username": "admin",
                                        "password": self.wharfd.admin_password})
        answer = self.exchange(request_bytes("POST", f"/api/v1/login?{query}",
                                             [FORM, "Content-Length: 0"]),
                               source="127.0.0.25", method="POST")
        self.assertErrorAnswer(answer, 400)
        self.assertNotIn("set-cookie", answer[1], "a session was made")
        # The same credentials in the body log in.
        self.assertEqual(ApiClient(self.wharfd.url).login(
            "admin", self.wharfd.admin_password)[0], 200)

    def test_expect_100_continue_is_not_granted_before_the_session_is_checked(self):
        for path, code, length in [
                ("/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download", 401, 2),
                ("/api/v1/login", 413, 2 * MiB)]:
            with self.subTest(path=path):
                s = self.connect("127.0.0.26", self.wharfd.port, timeout=5)
                s.sendall(request_bytes("POST", path, [
                    "Content-Type: application/json", "Expect: 100-continue",
                    f"Content-Length: {length}"]))
                data = recv_until_closed(s, 5)  # the body is never sent
                self.assertTrue(data.startswith(b"HTTP/1.1 %d " % code),
                                f"first answer line: {data[:80]!r}")
                self.assertNotIn(b"100 Continue", data)
                self.assertErrorAnswer(self.answer(data, "POST"), code)

    def test_allowed_hosts(self):
        """Host (port stripped) must be listed: else 400 naming it. An empty list (the
        default) accepts any Host."""
        self.assertEqual(self.get("/healthz", host="anything.example")[0], 200)
        w = Wharfd("http://127.0.0.1:9", top_toml='allowed_hosts = ["wharf.test", "127.0.0.1"]')
        self.addCleanup(w.stop)  # also when it does not start
        self.wharfd = w  # this test's instance only: its log is the one shown on failure
        w.start()
        for host in ["wharf.test", "wharf.test:9999", f"127.0.0.1:{w.port}", "127.0.0.1"]:
            with self.subTest(host=host):
                self.assertEqual(self.get("/healthz", host=host)[0], 200)
        for host in ["evil.example", f"evil.example:{w.port}", "wharf.test.evil.example",
                     "127.0.0.2"]:
            with self.subTest(host=host):
                self.assertErrorAnswer(self.get("/healthz", host=host), 400,
                                       [host.split(":")[0]])
                self.assertErrorAnswer(self.exchange(request_bytes(
                    "POST", "/api/v1/login", [FORM],
                    f"username=admin&password={w.admin_password}".encode(), host=host),
                    source="127.0.0.27", method="POST"), 400, [host.split(":")[0]])

    def test_header_limits_are_431(self):
        ok = [f"X-Field-{i}: {'v' * 100}" for i in range(80)]  # 80 fields, ~9 KiB: fine
        self.assertEqual(self.get("/healthz", ok, source="127.0.0.24")[0], 200)
        self.assertErrorAnswer(self.get("/healthz", ["X-Big: " + "b" * (20 * 1024)],
                                        source="127.0.0.24"), 431)
        self.assertErrorAnswer(self.get("/healthz", [f"X-Big-{i}: {'b' * 1000}"
                                                     for i in range(20)],
                                        source="127.0.0.24"), 431)
        self.assertErrorAnswer(self.get("/healthz", [f"X-F{i}: v" for i in range(120)],
                                        source="127.0.0.24"), 431)

    # --- the login throttle -------------------------------------------------------------

    def test_60_parallel_wrong_logins_for_one_user_get_at_most_5_401(self):
        self.wharfd.add_user("racer", "racer-password-1")
        body = b"username=racer&password=wrong-guess"
        raw = request_bytes("POST", "/api/v1/login", [FORM], body)
        socks = [self.connect("127.0.0.21", self.wharfd.port) for _ in range(60)]
        for s in socks:  # all but the last byte, then the last bytes all at once
            s.sendall(raw[:-1])
        time.sleep(0.3)
        for s in socks:
            s.sendall(raw[-1:])
        watch = Watch(socks)
        watch.run(30.0, lambda: all(b"}}" in d for d in watch.data.values()))
        watch.close()
        answers = []
        for s in socks:
            try:
                answers.append(parse_response(watch.data[s], "POST"))
            except (http.client.HTTPException, OSError):
                answers.append((None, {}, watch.data[s]))
            s.close()
        statuses = collections.Counter(a[0] for a in answers)
        print(f"\n60 parallel wrong logins for one user: {dict(statuses)}")
        self.assertLessEqual(statuses[401], 5, "attempts that were checked")
        self.assertGreaterEqual(statuses[401], 1)
        self.assertEqual(statuses[401] + statuses[429], 60, dict(statuses))
        for status, headers, _ in answers:
            if status == 429:
                self.assertGreater(int(headers.get("retry-after", "0")), 0, headers)

    def test_control_characters_in_a_user_name_are_escaped_in_the_log(self):
        names = ["bob\naudit: login user=admin from=6.6.6.1",
                 "bob\r\naudit: login user=admin from=6.6.6.2",
                 "bob\x1b[2K\raudit: login user=admin from=6.6.6.3",
                 "bob\x00\x7f\x85\naudit: login user=admin from=6.6.6.4"]
        for name in names:
            answer = self.exchange(request_bytes(
                "POST", "/api/v1/login", ["Content-Type: application/json"],
                json.dumps({"username": name, "password": "wrong"}).encode()),
                source="127.0.0.22", method="POST")
            self.assertErrorAnswer(answer, (400, 401))
        answer = self.exchange(request_bytes(  # and form-encoded
            "POST", "/api/v1/login", [FORM],
            b"username=bob%0Aaudit%3A+login+user%3Dadmin+from%3D6.6.6.5&password=wrong"),
            source="127.0.0.22", method="POST")
        self.assertErrorAnswer(answer, (400, 401))
        time.sleep(0.3)
        log = self.wharfd.full_log()
        self.assertNotIn(b"\x1b", log)
        self.assertNotIn(b"\r", log)
        lines = log.decode(errors="replace").split("\n")
        for i in range(1, 6):
            forged = [line for line in lines if f"from=6.6.6.{i}" in line]
            with self.subTest(name=i):
                self.assertTrue(forged, f"the attempt with 6.6.6.{i} was not logged")
                for line in forged:
                    self.assertIn("bob", line, f"a forged log line: {line!r}")
                    self.assertNotRegex(line, r"^audit: ")
        self.assertFalse([line for line in lines if re.match(r"\s*audit: login user=admin "
                                                             r"from=6\.6\.6\.", line)])

    def test_wrong_passwords_take_as_long_for_unknown_users_as_for_known_ones(self):
        """Medians of 8 wrong-password logins each, for existing users and for unknown ones,
        are within a factor of 3: the answer's timing does not tell which names exist. (2
        tries per existing user and 16 from one address stay under the throttle's limits.)"""
        for i in range(4):
            self.wharfd.add_user(f"timed{i}", f"timed-password-{i}")
        known, unknown = [], []

        def timed(name):
            raw = request_bytes("POST", "/api/v1/login", [FORM],
                                f"username={name}&password=wrong-{name}".encode())
            start = time.monotonic()
            status = self.exchange(raw, "127.0.0.23", "POST")[0]
            took = time.monotonic() - start
            self.assertEqual(status, 401, name)
            return took
        for i in range(8):  # interleaved, so that any drift hits both alike
            known.append(timed(f"timed{i % 4}"))
            unknown.append(timed(f"ghost{i}"))
        mk, mu = statistics.median(known), statistics.median(unknown)
        print(f"\nwrong password: existing users median {mk * 1000:.1f} ms, unknown users "
              f"median {mu * 1000:.1f} ms (ratio {max(mk, mu) / max(min(mk, mu), 1e-6):.1f})")
        self.assertLess(max(mk, mu), 3 * min(mk, mu),
                        "a wrong password answers at a speed that tells whether the user exists")


    # --- bodies and pipelining ----------------------------------------------------------

    def test_bodies_over_1_mib_get_413_however_framed(self):
        """A Content-Length over 1 MiB: 413 at once, the body unsent. Chunked: counted
        decoded (900 KiB in small chunks passes, 1 MiB + 20 B does not); a 3 MiB user name
        stays out of the log."""
        w = self.wharfd
        login = [FORM]
        # A Content-Length over the limit is answered at once, without the body.
        s = self.connect("127.0.0.31", w.port)
        start = time.monotonic()
        s.sendall(request_bytes("POST", "/api/v1/login", login + ["Content-Length: 419430400"]))
        status, _, body = self.answer(recv_until_closed(s, 5), "POST")
        took = time.monotonic() - start
        print(f"\nContent-Length 400 MiB: {status} after {took:.3f} s without the body")
        self.assertError(status, json.loads(body), 413)
        self.assertLess(took, 3)

        def chunked(payload, size, source):
            s = self.connect(source, w.port)
            s.sendall(request_bytes("POST", "/api/v1/login", login + [
                "Transfer-Encoding: chunked"]))
            try:
                for i in range(0, len(payload), size):
                    part = payload[i:i + size]
                    s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # cut off: the answer is waiting
            status, _, body = self.answer(recv_until_closed(s, 10), "POST")
            return status, json.loads(body)
        # Counted decoded: 900 KiB in 16-byte chunks is 1.2 MiB on the wire, and fits.
        self.assertError(*chunked(b'{"username":"nobody","password":"x","pad":"' +
                                  b"p" * (900 * 1024) + b'"}', 16, "127.0.0.32"), 401)
        self.assertError(*chunked(b"username=nobody&pad=" + b"p" * MiB, 65536, "127.0.0.32"),
                         413)
        # A 3 MiB user name: 413, and the log does not take 3 MiB of it.
        log_before = len(w.full_log())
        self.assertError(*chunked(b"username=" + b"u" * (3 * MiB) + b"&password=x", 65536,
                                  "127.0.0.33"), 413)
        time.sleep(0.5)
        log = w.full_log()
        print(f"3 MiB user name: the log grew by {len(log) - log_before} B")
        self.assertNotIn(b"u" * 65536, log)
        self.assertLess(len(log) - log_before, 64 * 1024)

    def test_pipelined_requests_are_answered_in_order_on_one_connection(self):
        """8 requests of different answers (200, 404, 405, 401, a POST with a body) in one
        send: all answered in order, then closed after the one with Connection: close; and
        50 in one send."""
        w, cookie = self.wharfd, self.cookie
        login = json.dumps({"username": "pipeliner", "password": "wrong"}).encode()
        batch = [("GET", "/healthz", [], b"", 200),
                 ("GET", "/api/v1/image/?from=local", [cookie], b"", 200),
                 ("GET", "/api/v1/nope", [], b"", 404),
                 ("GET", "/api/v1/login", [], b"", 405),
                 ("GET", "/api/v1/image/?from=local", [], b"", 401),
                 ("POST", "/api/v1/login", ["Content-Type: application/json"], login, 401),
                 ("GET", "/api/v1/image/downloadstatus", [cookie], b"", 200)]
        s = self.connect("127.0.0.34", w.port, timeout=10)
        s.sendall(b"".join(request_bytes(m, p, h, b) for m, p, h, b, _ in batch) +
                  request_bytes("GET", "/healthz", ["Connection: close"]))
        with s.makefile("rb") as f:
            answers = self.answers(f, len(batch) + 1)
            self.assertEqual(f.read(), b"", "closed after Connection: close")
        self.assertEqual([a[0] for a in answers], [b[4] for b in batch] + [200])
        self.assertEqual(json.loads(answers[0][2]), {"status": "ok"})
        self.assertIn("results", json.loads(answers[1][2]))
        self.assertIsInstance(json.loads(answers[6][2]), list)
        for status, _, body in answers[2:6]:
            self.assertError(status, json.loads(body), status)
        # 50 in one send, read only once all are written.
        s = self.connect("127.0.0.34", w.port, timeout=10)
        s.sendall(request_bytes("GET", "/healthz") * 50)
        with s.makefile("rb") as f:
            self.assertEqual([a[0] for a in self.answers(f, 50)], [200] * 50)


if __name__ == "__main__":
    unittest.main()
