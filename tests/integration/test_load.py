"""Load: 32 API clients (listings of every local catalog and of local, inspect,
downloadstatus, filtered searches) beside 5 workers that pull and delete images over and
over, for WHARF_LOAD_SECONDS (10 by default) and on until the clients have made
2 x WHARF_LOAD_RSS_REQUESTS requests. No answer is a 5xx or a dropped connection, wharfd's
memory does not grow with the requests, and a sanitizer (when wharfd is built with one:
ctest soak.load_asan, `make soak`) reports nothing, leaks included.

How "does not grow" is judged, and why so. RSS is not a leak detector: it also moves with
what the machine does, and a check that a busy machine can fail is a bug in the test (a
2-core CI machine once failed the old check, "RSS grew from 303504 to 323432 KiB after the
warm-up": peaks of the middle and last thirds of a 10 s run, 6.6 % apart where 5 % was
allowed). Under ASan, RSS is
mostly shadow memory, redzones and the quarantine of freed memory (16 MiB here, plus a
per-thread cache): freed pull buffers (1 MiB blocks) stay resident while they are
quarantined, so RSS swings by about the quarantine's size with no leak at all, and a short
window may or may not catch the top of the swing. Where the window ends in seconds, a busy
machine moves it: fewer requests are made, the warm-up is not over when the "flat" part
begins. So there are three checks, each where it is sound:

  1. Leaks: LeakSanitizer (detect_leaks=1). wharfd is stopped with SIGTERM, which it handles
     by returning from main, so LSan's exit-time scan runs; the test waits for the exit
     (no SIGKILL behind it), then asserts exit code 0 and no report in the log. This finds
     every unreachable allocation, whatever its size and however loaded the machine.
  2. Growth, in every run: in requests, not seconds. R(n) is the peak RSS sampled while the
     clients made their first n requests, the memory wharfd needed to answer n requests.
     With N = WHARF_LOAD_RSS_REQUESTS (3,000: ASan's quarantine fills within a few hundred
     requests and a few pull cycles, and 3,000 take ASan's wharfd about 3 s on an idle 2-core
     machine, 10 s or more on a busy one: the run goes on until 2N are made),
     R(2N) - R(N) must stay within RSS_GROWTH_SHARE (10 %) of R(N), and at least
     RSS_GROWTH_FLOOR_KIB (16 MiB). Under ASan 10 % is about 30 MiB, twice the quarantine's
     swing; without a sanitizer the floor leaves room for malloc's arenas. Memory that
     stays reachable but grows with the requests (a cache without a bound) grows by the
     same amount over the second N requests as over the first, so this finds anything
     of more than ~10 KiB per request, on a machine of any speed or load.
  3. Flatness, only in `make soak` (WHARF_LOAD_STRICT_RSS=1, set by scripts/soak; 60 s,
     tens of thousands of requests): R(total) - R(2/3 total) within 8 MiB or 5 % of it.
     Windows of ~20,000 requests and hundreds of pull cycles each see the top of the
     quarantine's swing, so a tight bound is fair there and finds slow growth (~1 KiB per
     request) that check 2 lets through.

Measured on 2 cores (2026-12-01, Beast server): under ASan R(3000) -> R(6000) grew by
0.9-5.8 MiB of ~336 MiB (bound 33 MiB), idle or beside 8 busy loops (6,000 requests then
took 29 s, not 6); without a sanitizer by 1.6-3.9 MiB of ~35 MiB (bound 16 MiB); a 60 s
ASan run grew 4.2 MiB over its last third (bound 17 MiB).

Prints the request count, the status counts and the RSS at each milestone."""

import collections
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd

SECONDS = float(os.environ.get("WHARF_LOAD_SECONDS", "10"))
CLIENTS = 32
PULLERS = 5
# Check 2 (see the docstring): R(2N) - R(N) <= max(floor, share of R(N)), N in requests.
RSS_REQUESTS = int(os.environ.get("WHARF_LOAD_RSS_REQUESTS", "3000"))
RSS_GROWTH_FLOOR_KIB = 16 * 1024
RSS_GROWTH_SHARE = 0.10
# Check 3, `make soak` only: flat over the last third of a long run.
STRICT_RSS = os.environ.get("WHARF_LOAD_STRICT_RSS") == "1"
RSS_SLACK_KIB = 8 * 1024
RSS_SLACK_SHARE = 0.05
# The run goes on past SECONDS until 2N requests are made, but not past this: even at 1/50 of
# what ASan's wharfd answers on an idle 2-core machine (~1,000 requests/s) it is reached.
MAX_EXTRA_SECONDS = 300
# wharfd finishes its jobs and LSan scans the heap after SIGTERM; generous for a busy machine.
EXIT_TIMEOUT_S = 120
# What the sanitizers keep on top of the program (ASan's quarantine of freed memory) is
# bounded, so that RSS can be judged; any finding stops wharfd at once.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "quarantine_size_mb=16:detect_leaks=1:halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1",
}
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                              r"WARNING: ThreadSanitizer")


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sanitizer_of(pid):
    """'asan', 'tsan' or None, from the runtime libraries mapped into the process (gcc links
    libasan/libtsan dynamically; a static runtime shows its symbols in the binary)."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
    except OSError:
        return None
    if "libasan" in maps:
        return "asan"
    if "libtsan" in maps:
        return "tsan"
    try:
        syms = subprocess.run(["nm", "-D", os.readlink(f"/proc/{pid}/exe")],
                              capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return "asan" if "__asan_init" in syms else "tsan" if "__tsan_init" in syms else None


def peak_within(samples, requests):
    """R(n): the peak RSS (KiB) of the samples taken before the clients' request count
    passed `requests`, the sample that first reached it included."""
    peak = 0
    for count, kib in samples:
        peak = max(peak, kib)
        if count >= requests:
            break
    return peak


class LoadTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            cls.truth = {f"load/img{i}": fx.big(f"load/img{i}", size=256 * 1024)
                         for i in range(PULLERS)}
            cls.truth["load/kept"] = fx.diamond("load/kept", tags=("latest",))
        cls.wharfd = cls.serve(Wharfd(cls.registry.url, env=SANITIZER_ENV,
                                      max_concurrent=PULLERS))
        api = cls.wharfd.client()
        assert api.download("load/kept", "latest") == (200, {})
        assert api.wait_download("load/kept", "latest", timeout=120) is None

    def setUp(self):
        self.statuses = collections.Counter()
        self.requests = 0  # answers to the API clients (the RSS milestones count these)
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def record(self, what, status, client=False):
        with self.lock:
            self.statuses[status] += 1
            if client:
                self.requests += 1
            if status >= 500:
                self.errors.append(f"{what} -> {status}")

    def client_loop(self, api, seed):
        paths = ["/api/v1/image/?from=local", "/api/v1/image/?from=appcenter",
                 "/api/v1/image/?category=qnap&type=lxc", "/api/v1/image/?from=official",
                 "/api/v1/image/?from=official&filter_text=sql",
                 "/api/v1/image/?from=local&type=docker&filter_text=load",
                 "/api/v1/image/docker/load/kept/latest/inspect",
                 f"/api/v1/image/docker/load/img{seed % PULLERS}/latest/inspect",
                 "/api/v1/image/downloadstatus"]
        try:
            i = seed
            while not self.stop.is_set():
                path = paths[i % len(paths)]
                i += 1
                self.record(path, api.request("GET", path).status, client=True)
        except OSError as e:
            with self.lock:
                self.errors.append(f"client {seed}: {e!r}")

    def puller_loop(self, api, name):
        try:
            while not self.stop.is_set():
                status, _ = api.download(name, "latest")
                self.record("download " + name, status)
                failed = api.wait_download(name, "latest", timeout=60)
                if failed is not None:
                    with self.lock:
                        self.errors.append(f"pull {name}: {failed}")
                status, _ = api.delete(f"/api/v1/image/local/docker/{name}")
                self.record("delete " + name, status)
                with self.lock:
                    self.statuses["pulls"] += 1
        except OSError as e:
            with self.lock:
                self.errors.append(f"puller {name}: {e!r}")

    def test_a_login_burst_takes_bounded_memory(self):
        """Each login hashes with argon2id (64 MiB); a burst must not take 64 MiB per client."""
        pid = self.wharfd.proc.pid
        base = rss_kib(pid)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak.append(rss_kib(pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        logins = [threading.Thread(target=self.wharfd.client) for _ in range(CLIENTS)]
        for t in logins:
            t.start()
        for t in logins:
            t.join(timeout=120)
        done.set()
        sampler.join()
        grew_mib = (max(peak) - base) / 1024
        print(f"\n{CLIENTS} logins at once: RSS {base // 1024} MiB -> peak "
              f"{max(peak) // 1024} MiB")
        self.assertLessEqual(grew_mib, 3 * 64, "more than two argon2id hashes at once")

    def test_clients_and_pulls_under_load(self):
        pid = self.wharfd.proc.pid
        sanitizer = sanitizer_of(pid)
        # Logins first: each is an argon2id hash, a few at a time by design.
        apis = [self.wharfd.client() for _ in range(CLIENTS + PULLERS)]
        threads = [threading.Thread(target=self.client_loop, args=(apis[i], i))
                   for i in range(CLIENTS)]
        threads += [threading.Thread(target=self.puller_loop,
                                     args=(apis[CLIENTS + i], f"load/img{i}"))
                    for i in range(PULLERS)]
        idle_kib = rss_kib(pid)
        samples = [(0, idle_kib)]  # (client requests answered so far, VmRSS KiB)
        for t in threads:
            t.start()
        start = time.monotonic()

        def enough():
            with self.lock:
                return (self.requests >= 2 * RSS_REQUESTS and self.statuses["pulls"] >= PULLERS
                        and time.monotonic() - start >= SECONDS)

        while (not enough() and time.monotonic() - start < SECONDS + MAX_EXTRA_SECONDS
               and self.wharfd.proc.poll() is None):
            with self.lock:
                count = self.requests
            samples.append((count, rss_kib(pid)))
            time.sleep(0.1)
        with self.lock:
            samples.append((self.requests, rss_kib(pid)))
        elapsed = time.monotonic() - start
        self.stop.set()
        for t in threads:
            t.join(timeout=90)
        self.assertIsNone(self.wharfd.proc.poll(), "wharfd died under load")
        total = sum(v for k, v in self.statuses.items() if isinstance(k, int))
        requests = self.requests
        print(f"\n{total} requests in {elapsed:.0f} s ({requests} by the API clients), "
              f"{self.statuses['pulls']} pull+delete cycles, statuses {dict(self.statuses)}; "
              f"sanitizer: {sanitizer or 'none'}")
        self.assertEqual(self.errors[:10], [])
        self.assertGreaterEqual(
            requests, 2 * RSS_REQUESTS,
            f"the clients made only {requests} requests in {elapsed:.0f} s; the RSS check needs "
            f"{2 * RSS_REQUESTS} (WHARF_LOAD_RSS_REQUESTS={RSS_REQUESTS})")
        self.assertGreaterEqual(self.statuses["pulls"], PULLERS)

        # Check 2: what the second N requests added to the memory the first N needed.
        r_n, r_2n = peak_within(samples, RSS_REQUESTS), peak_within(samples, 2 * RSS_REQUESTS)
        bound = max(RSS_GROWTH_FLOOR_KIB, RSS_GROWTH_SHARE * r_n)
        milestones = [RSS_REQUESTS * 2 ** k for k in range(8) if RSS_REQUESTS * 2 ** k < requests]
        print(f"RSS KiB: idle {idle_kib}, R({RSS_REQUESTS}) {r_n}, R({2 * RSS_REQUESTS}) {r_2n} "
              f"(+{r_2n - r_n}, bound {bound:.0f}); R(n) at each doubling: "
              + ", ".join(f"{m} {peak_within(samples, m)}" for m in milestones)
              + f", {requests} {max(k for _, k in samples)}")
        self.assertLessEqual(
            r_2n - r_n, bound,
            f"RSS grew from {r_n} KiB (peak over the first {RSS_REQUESTS} requests) to {r_2n} "
            f"KiB (over the first {2 * RSS_REQUESTS}): more than {bound:.0f} KiB")
        # Check 3 (`make soak`): flat over the last third of a long run.
        if STRICT_RSS:
            third = requests // 3
            self.assertGreaterEqual(third * 2, 2 * RSS_REQUESTS,
                                    f"{requests} requests are too few to judge the last third")
            r_two_thirds, r_all = peak_within(samples, 2 * third), max(k for _, k in samples)
            slack = max(RSS_SLACK_KIB, RSS_SLACK_SHARE * r_two_thirds)
            print(f"strict: R({2 * third}) {r_two_thirds}, R({requests}) {r_all} "
                  f"(+{r_all - r_two_thirds}, bound {slack:.0f})")
            self.assertLessEqual(
                r_all - r_two_thirds, slack,
                f"RSS grew from {r_two_thirds} KiB (peak over the first {2 * third} requests) "
                f"to {r_all} KiB over the last {requests - 2 * third}")

        # Check 1: leaks are reported when wharfd exits; SIGTERM lets it exit by itself.
        proc = self.wharfd.proc
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
            self.fail(f"wharfd did not exit within {EXIT_TIMEOUT_S} s of SIGTERM (killed; "
                      "LeakSanitizer could not run)\n" + self.wharfd.log()[-3000:])
        log = self.wharfd.log()
        self.assertIsNone(SANITIZER_REPORT.search(log), log[-5000:])
        self.assertIn("wharfd stopping (signal 15)", log, "wharfd did not stop on SIGTERM")
        # A leak found by LSan at exit, or an ASan/UBSan finding (halt_on_error), exits non-zero.
        self.assertEqual(proc.returncode, 0,
                         f"wharfd exited with {proc.returncode} after SIGTERM\n{log[-3000:]}")
        if sanitizer == "asan":
            print("wharfd exited 0 after SIGTERM; LeakSanitizer found no leak")


if __name__ == "__main__":
    unittest.main()
