"""Load: 32 API clients (listings of every local catalog and of local, inspect,
downloadstatus, filtered searches) for WHARF_LOAD_SECONDS (10 by default), beside 5
workers that pull and delete images over and over. No answer is a 5xx or a dropped
connection, wharfd's RSS is flat after the warm-up, and a sanitizer (when wharfd is built
with one: ctest soak.load_asan, `make soak`) reports nothing, leaks included.

Prints the request count, the status counts and the RSS samples."""

import collections
import os
import re
import threading
import time
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd, wait_until

SECONDS = float(os.environ.get("WHARF_LOAD_SECONDS", "10"))
CLIENTS = 32
PULLERS = 5
# What the sanitizers keep on top of the program (ASan's quarantine of freed memory) is
# bounded, so that RSS can be judged flat; any finding stops wharfd at once.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "quarantine_size_mb=16:detect_leaks=1:halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1",
}
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                              r"WARNING: ThreadSanitizer")
# Flat: within 8 MiB or 5 % (under ASan, RSS is ten times the program's: shadow memory and
# allocator caches move by more than 8 MiB without a leak).
RSS_SLACK_KIB = 8 * 1024
RSS_SLACK_SHARE = 0.05


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def record(self, what, status):
        with self.lock:
            self.statuses[status] += 1
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
                self.record(path, api.request("GET", path).status)
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
        # Logins first: each is an argon2id hash, a few at a time by design.
        apis = [self.wharfd.client() for _ in range(CLIENTS + PULLERS)]
        threads = [threading.Thread(target=self.client_loop, args=(apis[i], i))
                   for i in range(CLIENTS)]
        threads += [threading.Thread(target=self.puller_loop,
                                     args=(apis[CLIENTS + i], f"load/img{i}"))
                    for i in range(PULLERS)]
        for t in threads:
            t.start()
        samples = []
        start = time.monotonic()
        while time.monotonic() - start < SECONDS and self.wharfd.proc.poll() is None:
            samples.append((time.monotonic() - start, rss_kib(pid)))
            time.sleep(0.25)
        self.stop.set()
        for t in threads:
            t.join(timeout=90)
        self.assertIsNone(self.wharfd.proc.poll(), "wharfd died under load")
        total = sum(v for k, v in self.statuses.items() if isinstance(k, int))
        print(f"\n{total} requests in {SECONDS:.0f} s, {self.statuses['pulls']} pull+delete "
              f"cycles, statuses {dict(self.statuses)}")
        print("RSS KiB: " + " ".join(str(kib) for _, kib in samples[::max(1, len(samples) // 12)]))
        self.assertEqual(self.errors[:10], [])
        self.assertGreater(total, CLIENTS * 10)
        self.assertGreaterEqual(self.statuses["pulls"], PULLERS)
        # Flat after the warm-up (the first third): the last third's peak is within a slack
        # of the middle third's. A leak grows with the requests, so on through the last third.
        middle = max(kib for t, kib in samples if SECONDS / 3 <= t < 2 * SECONDS / 3)
        last = max(kib for t, kib in samples if t >= 2 * SECONDS / 3)
        self.assertLessEqual(last - middle, max(RSS_SLACK_KIB, middle * RSS_SLACK_SHARE),
                             f"RSS grew from {middle} to {last} KiB after the warm-up")
        # Leaks are reported when wharfd exits.
        self.wharfd.stop(cleanup=False)
        wait_until(lambda: self.wharfd.proc.poll() is not None, 30, "wharfd stopped")
        log = self.wharfd.log()
        self.assertIsNone(SANITIZER_REPORT.search(log), log[-5000:])
        self.assertEqual(self.wharfd.proc.returncode, 0, log[-3000:])


if __name__ == "__main__":
    unittest.main()
