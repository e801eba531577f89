"""The HTTP server cannot be stalled: slow headers and slow bodies are cut at their deadlines,
connections over the per-client and total limits get a 503 at once, a flood of connections
leaves nothing behind, event streams are capped and hold no thread, readers that do not read
are dropped at the write deadline, and 400 MiB of chunked body is cut at 1 MiB with bounded
memory. Throughout, a prober (a process of its own, from 127.0.0.1) measures how long
/healthz and a logged-in local listing take: each must be answered within 1 s.

Every load comes from other loopback addresses (127.0.0.2 and up) than the probes'. Figures
measured (probe latencies, closing times, descriptors, RSS) are printed. What the server
accepts (bytes, headers, body sizes, pipelining, logins) is test_http_input's."""

import collections
import json
import os
import selectors
import shutil
import socket
import struct
import tempfile
import threading
import time
import unittest

from harness import ApiClient, WharfTestCase, Wharfd, session_cookie, wait_until
from support import (Prober, Watch, connect_from, open_fds, parse_response, proc_status_kib,
                     recv_until_closed, request_bytes)

MiB = 1024 * 1024
HEADER_TIMEOUT_S = 10  # the defaults of [http]
BODY_TIMEOUT_S = 10
MIN_RATE = 4096
PER_CLIENT = 64


class HttpAbuseTest(WharfTestCase):
    def start_wharfd(self, **kw):
        self.wharfd = Wharfd("http://127.0.0.1:9", **kw)
        self.addCleanup(self.wharfd.stop)  # also when it does not start
        return self.wharfd.start()

    def probing(self, w, what):
        return Prober(w.port, session_cookie(w.client()), label=what)

    def connect(self, source, port, **kw):
        s = connect_from(source, port, **kw)
        self.addCleanup(s.close)
        return s

    def assertPrompt(self, probe, what):
        r = probe.result
        self.assertIsNotNone(r, "the prober gave no result")
        self.assertGreater(r["count"], 5, "too few probes ran")
        self.assertEqual(r["failures"], [], f"probes failed during {what}")
        self.assertLess(r["worst"], 1.0, f"a probe took {r['worst']:.3f} s during {what}")

    def assertFdsSettle(self, w, baseline, what, timeout=5):
        try:
            wait_until(lambda: open_fds(w.proc.pid) <= baseline, timeout, what)
        except TimeoutError:
            self.fail(f"{what}: wharfd holds {open_fds(w.proc.pid)} descriptors, "
                      f"{baseline} before")

    def assertRefusals(self, datas, code, what):
        """Every answer is `code` in the error shape with a Retry-After."""
        answers = [self.answer(d) for d in datas]
        statuses = collections.Counter(a[0] for a in answers)
        self.assertEqual(statuses, {code: len(answers)}, what)
        for status, headers, body in answers:
            self.assertGreater(int(headers.get("retry-after", "0")), 0, f"{what}: {headers}")
        status, _, body = answers[0]
        self.assertError(status, json.loads(body), code)

    # --- slow clients -------------------------------------------------------------------

    def test_slow_headers_are_cut_at_the_header_deadline(self):
        """70 clients (6 of them after a first request on a kept-alive connection) send a
        header line every 4 s and never finish: each is closed 10 s after its first byte (or
        after the end of its previous request), maybe with a 408, while probes go on."""
        w = self.start_wharfd()
        baseline = open_fds(w.proc.pid)
        socks, t0 = [], {}
        with self.probing(w, "slow headers") as probe:
            for i in range(70):
                s = self.connect(("127.0.0.2", "127.0.0.3")[i % 2], w.port)
                if i < 6:
                    s.sendall(request_bytes("GET", "/healthz"))
                    with s.makefile("rb") as f:
                        self.assertEqual(self.answers(f, 1)[0][0], 200)
                t0[s] = time.monotonic()
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
                socks.append(s)
            watch = Watch(socks)
            end = time.monotonic() + HEADER_TIMEOUT_S + 6
            line = 0
            while watch.open() and time.monotonic() < end:
                watch.run(min(4.0, end - time.monotonic()))
                line += 1
                for s in watch.open():
                    try:
                        s.send(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
                    except OSError:
                        watch.mark_closed(s)
        lifetimes = sorted(watch.closed[s] - t0[s] for s in socks if watch.closed[s])
        watch.close()
        if lifetimes:
            print(f"\nslow headers: {len(lifetimes)} of {len(socks)} closed after "
                  f"{lifetimes[0]:.2f} .. {lifetimes[-1]:.2f} s")
        still = len(socks) - len(lifetimes)
        self.assertEqual(still, 0, f"{still} slow-header clients still open "
                                   f"{HEADER_TIMEOUT_S + 6} s after their first byte")
        self.assertGreater(lifetimes[0], HEADER_TIMEOUT_S - 1, "closed before the deadline")
        self.assertLess(lifetimes[-1], HEADER_TIMEOUT_S + 4, "closed long after the deadline")
        for s in socks:
            if watch.data[s]:
                self.assertEqual(self.answer(watch.data[s])[0], 408, watch.data[s][:200])
        self.assertPrompt(probe, "slow headers")
        self.assertFdsSettle(w, baseline, "connections closed")

    def test_slow_bodies_are_cut_at_the_body_deadline(self):
        """30 clients send complete headers and then one byte of body every 2 s (25 with a
        Content-Length of 2,048, 5 chunked): each is closed at 10 s + size / 4,096 B/s after
        its headers (a chunked body's size is what came of it: a few bytes), maybe with a
        408."""
        w = self.start_wharfd()
        baseline = open_fds(w.proc.pid)
        size = 2048
        deadline = BODY_TIMEOUT_S + size / MIN_RATE
        socks, t0, chunked = [], {}, set()
        with self.probing(w, "slow bodies") as probe:
            for i in range(30):
                s = self.connect(("127.0.0.4", "127.0.0.5")[i % 2], w.port)
                framing = ("Transfer-Encoding: chunked" if i % 6 == 5
                           else f"Content-Length: {size}")
                s.sendall(request_bytes("POST", "/api/v1/login", [
                    "Content-Type: application/x-www-form-urlencoded", framing]))
                t0[s] = time.monotonic()
                if framing.startswith("Transfer"):
                    chunked.add(s)
                socks.append(s)
            watch = Watch(socks)
            end = time.monotonic() + deadline + 6
            while watch.open() and time.monotonic() < end:
                for s in watch.open():
                    try:
                        s.send(b"1\r\na\r\n" if s in chunked else b"a")
                    except OSError:
                        watch.mark_closed(s)
                watch.run(min(2.0, end - time.monotonic()))
        lifetimes = sorted(watch.closed[s] - t0[s] for s in socks if watch.closed[s])
        watch.close()
        if lifetimes:
            print(f"\nslow bodies: {len(lifetimes)} of {len(socks)} closed after "
                  f"{lifetimes[0]:.2f} .. {lifetimes[-1]:.2f} s (deadline {deadline:.2f} s)")
        still = [s for s in socks if watch.closed[s] is None]
        self.assertEqual(len(still), 0, f"{len(still)} slow-body clients ("
                         f"{len([s for s in still if s in chunked])} of them chunked) still "
                         f"open {deadline + 6:.1f} s after their headers")
        self.assertGreater(lifetimes[0], BODY_TIMEOUT_S - 1, "closed before the deadline")
        self.assertLess(lifetimes[-1], deadline + 4, "closed long after the deadline")
        for s in socks:
            if watch.data[s]:
                self.assertEqual(self.answer(watch.data[s])[0], 408, watch.data[s][:200])
        self.assertPrompt(probe, "slow bodies")
        self.assertFdsSettle(w, baseline, "connections closed")

    # --- connection limits --------------------------------------------------------------

    def test_idle_connections_over_the_per_client_limit_get_503_at_once(self):
        """1,000 connections from 127.0.0.2 that send nothing: at most 64 are kept, every other
        one is answered 503 with Retry-After and closed within 3 s without having sent a
        byte; probes from 127.0.0.1 are answered meanwhile; the kept ones are served; once
        they close, 127.0.0.2 is served again."""
        w = self.start_wharfd()
        baseline = open_fds(w.proc.pid)
        with self.probing(w, "1,000 idle connections") as probe:
            start = time.monotonic()
            socks = [self.connect("127.0.0.2", w.port, timeout=5) for _ in range(1000)]
            opened = time.monotonic() - start
            watch = Watch(socks).run(3.0)
            kept = [s for s in socks if watch.closed[s] is None and not watch.data[s]]
            refused = [watch.data[s] for s in socks if watch.closed[s] is not None]
            time.sleep(1)  # the probes go on while the kept ones stay
        watch.close()
        print(f"\nidle: 1000 connections opened in {opened:.2f} s; {len(kept)} kept, "
              f"{len(refused)} refused; wharfd holds {open_fds(w.proc.pid)} descriptors")
        self.assertLessEqual(len(kept), PER_CLIENT, "connections kept from one address")
        self.assertGreater(len(kept), 0, "no connection from 127.0.0.2 was kept")
        self.assertEqual(len(refused), 1000 - len(kept),
                         "every connection over the limit is answered and closed")
        self.assertRefusals(refused, 503, "connections over the per-client limit")
        for s in kept[:5]:  # they are real connections
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(request_bytes("GET", "/healthz"))
            with s.makefile("rb") as f:
                self.assertEqual(self.answers(f, 1)[0][0], 200)
        for s in socks:
            s.close()
        wait_until(lambda: ApiClient(w.url).get("/healthz")[0] == 200, 5, "/healthz")
        s = self.connect("127.0.0.2", w.port, timeout=5)
        s.sendall(request_bytes("GET", "/healthz", ["Connection: close"]))
        self.assertEqual(self.answer(recv_until_closed(s, 5))[0], 200,
                         "127.0.0.2 is served again once its connections closed")
        self.assertPrompt(probe, "1,000 idle connections")
        self.assertFdsSettle(w, baseline, "connections closed")

    def test_connections_over_the_total_limit_get_503_at_once(self):
        """max_connections = 50: of 60 idle connections from 127.0.0.2 at most 50 are kept;
        then 5 from 127.0.0.3 are answered 503 at once, without a request."""
        w = self.start_wharfd(top_toml="max_connections = 50")
        time.sleep(0.5)  # the start-up health checks' connections have ended
        first = [self.connect("127.0.0.2", w.port, timeout=5) for _ in range(60)]
        watch = Watch(first).run(2.0)
        kept = [s for s in first if watch.closed[s] is None]
        watch.close()
        later = [self.connect("127.0.0.3", w.port, timeout=5) for _ in range(5)]
        watch = Watch(later).run(3.0)
        refused = [watch.data[s] for s in later if watch.closed[s] is not None]
        watch.close()
        print(f"\ntotal limit 50: {len(kept)} of 60 kept, {len(refused)} of 5 later refused")
        self.assertLessEqual(len(kept), 50)
        self.assertEqual(len(refused), 5, "connections over max_connections get 503 at once")
        self.assertRefusals(refused, 503, "connections over max_connections")
        for s in first:
            s.close()
        wait_until(lambda: ApiClient(w.url).get("/healthz")[0] == 200, 5, "/healthz")

    def test_a_flood_of_connections_leaves_nothing_behind(self):
        """6 threads open connections as fast as they can for 5 s (at most 30,000): a third
        ask for /healthz, a third reset at once, a third close half-way through a request
        line. Every request is answered, probes go on, and wharfd's descriptors settle."""
        w = self.start_wharfd()
        pid = w.proc.pid
        baseline, rss0 = open_fds(pid), proc_status_kib(pid)
        outcomes = collections.Counter()
        lock = threading.Lock()

        def flood(k):
            end = time.monotonic() + 5
            for i in range(5000):
                if time.monotonic() > end:
                    break
                try:
                    s = connect_from(f"127.0.0.{40 + k}", w.port, timeout=5)
                except OSError as e:
                    outcome = f"connect: {e!r}"
                else:
                    try:
                        if i % 3 == 0:
                            s.sendall(request_bytes("GET", "/healthz", ["Connection: close"]))
                            outcome = parse_response(recv_until_closed(s, 5))[0]
                        elif i % 3 == 1:
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         struct.pack("ii", 1, 0))
                            outcome = "reset"
                        else:
                            s.sendall(b"GET /heal")
                            outcome = "half"
                    except Exception as e:  # noqa: BLE001 (counted and reported)
                        outcome = f"error: {e!r}"[:80]
                    finally:
                        s.close()
                with lock:
                    outcomes[outcome] += 1

        with self.probing(w, "a flood of connections") as probe:
            threads = [threading.Thread(target=flood, args=(k,)) for k in range(6)]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            took = time.monotonic() - start
        total = sum(outcomes.values())
        print(f"\nflood: {total} connections in {took:.1f} s: {dict(outcomes)}; RSS "
              f"{rss0 // 1024} -> {proc_status_kib(pid) // 1024} MiB")
        self.assertGreater(total, 300)
        answered = outcomes[200] + outcomes[503]
        self.assertEqual(answered + outcomes["reset"] + outcomes["half"], total,
                         f"connections that failed: {dict(outcomes)}")
        self.assertGreater(outcomes[200], 0.9 * answered)
        self.assertPrompt(probe, "a flood of connections")
        self.assertFdsSettle(w, baseline, "flood connections closed")

    # --- event streams ------------------------------------------------------------------

    def open_streams(self, w, cookies, sources):
        socks = []
        for cookie, source in zip(cookies, sources):
            s = self.connect(source, w.port, timeout=5)
            s.sendall(request_bytes("GET", "/api/v1/events",
                                    [f"Cookie: {cookie}", "Accept: text/event-stream"]))
            socks.append(s)
        watch = Watch(socks)

        def settled(data):  # a stream's headers, or a whole refusal
            _, blank, body = data.partition(b"\r\n\r\n")
            return blank and (self.status_of(data) == 200 or body.rstrip().endswith(b"}"))
        watch.run(10.0, lambda: all(settled(d) for d in watch.data.values()))
        return socks, watch

    @staticmethod
    def status_of(data):
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None

    def test_event_streams_are_capped_per_user_and_in_total_and_hold_no_thread(self):
        """300 streams of 38 users (at most 8 each) from 6 addresses: 256 are served, 44 get
        429 with Retry-After; all 256 get the next event; probes go on. Then one user's 9th
        stream gets 429, and a stream can be opened again once one closes."""
        w = self.start_wharfd()
        users = [f"viewer{i:02d}" for i in range(38)]
        cookies = {}
        for name in users:
            w.add_user(name, f"pass-{name}")
            api = ApiClient(w.url)
            self.assertEqual(api.login(name, f"pass-{name}")[0], 200)
            cookies[name] = session_cookie(api)
        with self.probing(w, "256 event streams") as probe:
            socks, watch = self.open_streams(
                w, [cookies[users[j % 38]] for j in range(300)],
                [f"127.0.0.{10 + j // 50}" for j in range(300)])
            statuses = collections.Counter(self.status_of(watch.data[s]) for s in socks)
            served = [s for s in socks if self.status_of(watch.data[s]) == 200]
            for s in served:
                watch.data[s] = b""
            if len(served) == 256:  # a download that fails at once makes job events
                self.assertEqual(w.client().download("lgsd/nothing", "latest")[0], 200)
                watch.run(10.0, lambda: all(b"event: job" in watch.data[s] for s in served))
            got_event = sum(b"event: job" in watch.data[s] for s in served)
            time.sleep(1.5)  # the probes go on while the streams stay open
        print(f"\nstreams: {dict(statuses)}; {got_event} of {len(served)} got the job event")
        self.assertEqual(statuses, {200: 256, 429: 44})
        self.assertRefusals([watch.data[s] for s in socks if s not in served], 429,
                            "streams over the total")
        self.assertEqual(got_event, 256, "every stream gets the event")
        self.assertPrompt(probe, "256 event streams")
        watch.close()
        for s in socks:
            s.close()

        def stream_of(user):  # served once the server has seen the closes
            more, wt = self.open_streams(w, [cookies[user]], ["127.0.0.20"])
            wt.close()
            more[0].close()
            return self.status_of(wt.data[more[0]]) == 200
        wait_until(lambda: stream_of(users[1]), 10, "a stream, 10 s after 300 closed",
                   interval=0.5)
        socks, watch = self.open_streams(w, [cookies[users[0]]] * 9, ["127.0.0.20"] * 9)
        watch.close()
        statuses = [self.status_of(watch.data[s]) for s in socks]
        self.assertEqual(collections.Counter(statuses), {200: 8, 429: 1}, "a user's 9th stream")
        self.assertRefusals([watch.data[s] for s, status in zip(socks, statuses)
                             if status == 429], 429, "a user's 9th stream")
        socks[statuses.index(200)].close()
        wait_until(lambda: stream_of(users[0]), 10, "a user's stream once another closed",
                   interval=0.5)

    # --- readers that do not read -------------------------------------------------------

    def test_readers_that_do_not_read_are_dropped_at_the_write_deadline(self):
        """11 clients ask for a 6.4 MB listing (a big catalog) and 11 for a static file, and
        never read (small receive windows): probes go on; with write_timeout_s = 2 and
        min_rate_bytes_s = 8 MiB, each listing reader is dropped by 2 s + size / rate, its
        answer cut short."""
        tmp = tempfile.mkdtemp(prefix="wharf-abuse-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        catalog = os.path.join(tmp, "official.json")
        with open(catalog, "w") as f:
            json.dump({"version": 1, "images": [
                {"name": f"team/app-{i:05d}", "type": "docker", "title": f"App {i}",
                 "version": "latest", "description": "d" * 300, "icon": "", "icon_local": "",
                 "arch": "amd64", "location": f"https://registry.hub.docker.com/u/team/{i}/"}
                for i in range(11500)]}, f)
        rate = 8 * MiB
        w = self.start_wharfd(extra_toml=f'[catalogs]\nofficial = "{catalog}"',
                              http={"write_timeout_s": 2, "min_rate_bytes_s": rate})
        api = w.client()
        size = len(api.request("GET", "/api/v1/image/?from=official").raw)
        self.assertGreater(size, 6 * MiB)
        deadline = 2 + size / rate
        pid = w.proc.pid
        baseline, rss0 = open_fds(pid), proc_status_kib(pid)
        cookie = session_cookie(api)
        readers, statics, rss_peak = [], [], rss0
        with self.probing(w, "readers that do not read") as probe:
            for i in range(22):
                s = self.connect(f"127.0.0.{8 + i % 2}", w.port, rcvbuf=4096)
                path = "/api/v1/image/?from=official" if i % 2 == 0 else "/web/app.js"
                s.sendall(request_bytes("GET", path, [f"Cookie: {cookie}"]))
                if i % 2 == 0:
                    readers.append((s, time.monotonic()))
                    time.sleep(0.3)  # one listing made at a time: this is not a CPU test
                else:
                    statics.append(s)
                rss_peak = max(rss_peak, proc_status_kib(pid))
            time.sleep(0.5)
            for s in statics:  # answered (it fits in the socket buffers); now gone
                s.close()
            end = time.monotonic() + deadline + 5
            while time.monotonic() < end and open_fds(pid) > baseline + 2:
                rss_peak = max(rss_peak, proc_status_kib(pid))
                time.sleep(0.1)
            dropped_after = time.monotonic() - readers[-1][1]
        print(f"\nslow readers: {size} B listing, write deadline {deadline:.2f} s; wharfd "
              f"descriptors {baseline} -> {open_fds(pid)} {dropped_after:.1f} s after the last "
              f"one; RSS {rss0 // 1024} MiB, peak {rss_peak // 1024} MiB")
        self.assertPrompt(probe, "readers that do not read")
        self.assertLessEqual(open_fds(pid), baseline + 2,
                             f"listing readers still connected {deadline + 5:.1f} s on")
        for s, _ in readers:
            got = recv_until_closed(s, 2, limit=size)
            self.assertLess(len(got), size, "a reader that did not read got the whole answer")

    # --- a body too big ----------------------------------------------------------------

    def test_400_mib_chunked_login_is_cut_at_1_mib_and_memory_stays_bounded(self):
        """400 MiB chunked to POST /api/v1/login, as fast as it goes: 413 long before the end
        (the server stops reading), and wharfd's RSS grows by less than 64 MiB."""
        w = self.start_wharfd()
        pid = w.proc.pid
        ApiClient(w.url).get("/healthz")
        rss0 = proc_status_kib(pid)
        peak = [rss0]
        done = threading.Event()

        def sample():
            while not done.wait(0.01):
                peak[0] = max(peak[0], proc_status_kib(pid))
        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            s = self.connect("127.0.0.30", w.port)
            s.sendall(request_bytes("POST", "/api/v1/login", [
                "Content-Type: application/x-www-form-urlencoded",
                "Transfer-Encoding: chunked"]) + b"9\r\nusername=\r\n")
            chunk = b"40000\r\n" + b"a" * 0x40000 + b"\r\n"
            total, sent, pending, last = 400 * MiB, 0, b"", False
            s.setblocking(False)
            sel = selectors.DefaultSelector()
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            answered, end = False, time.monotonic() + 60
            while not answered and time.monotonic() < end:
                for _, events in sel.select(1.0):
                    if events & selectors.EVENT_READ:
                        answered = True
                        break
                    if not pending and not last:
                        if sent < total:
                            pending, sent = chunk, sent + 0x40000
                        else:
                            pending, last = b"0\r\n\r\n", True
                    try:
                        pending = pending[s.send(pending):]
                    except BlockingIOError:
                        pass
                    except OSError:
                        answered = True  # closed on us: read what it said
                        break
                    if last and not pending:
                        sel.modify(s, selectors.EVENT_READ)
            sel.close()
            s.setblocking(True)
            data = recv_until_closed(s, 10)
        finally:
            done.set()
            sampler.join(10)
        print(f"\n400 MiB chunked: {sent // MiB} MiB sent before the answer; RSS {rss0 // 1024} "
              f"MiB, peak {peak[0] // 1024} MiB (+{(peak[0] - rss0) // 1024} MiB)")
        status, _, body = self.answer(data, "POST")
        self.assertError(status, json.loads(body), 413)
        self.assertLess(sent, 64 * MiB, "the server read on well past 1 MiB")
        self.assertLess(peak[0] - rss0, 64 * 1024, "RSS grew by 64 MiB or more")


if __name__ == "__main__":
    unittest.main()
