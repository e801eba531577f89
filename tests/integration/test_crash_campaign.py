"""Crash campaign: rounds of kill -9 of wharfd at a random moment during concurrent
downloads and deletes, then a restart. After each round: SQLite passes
`PRAGMA integrity_check` (checked before the restart, on what the crash left); every
listed image is complete and its blobs hash to their names; every download asked for
finishes by itself and every delete that was answered stays done; and, once the
jobs are over, the data directory passes `wharfd fsck`.

5 rounds in `make test`; WHARF_SOAK=1 (what `make soak` sets) runs 20."""

import hashlib
import os
import random
import sqlite3
import subprocess
import threading
import time
import unittest
from pathlib import Path

from fixtures import FixtureBuilder
from harness import Registry, ThrottleProxy, WharfTestCase, Wharfd, wait_until

MiB = 1024 * 1024
ROUNDS = 20 if os.environ.get("WHARF_SOAK") == "1" else 5
IMAGES = [f"crash/img{i}" for i in range(4)]


class CrashCampaignTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            cls.truth = {name: fx.big(name, size=3 * MiB) for name in IMAGES}
        # Slow enough that a kill lands during transfers, fast enough for many rounds.
        cls.proxy = cls.serve(ThrottleProxy(cls.registry.host, rate=8 * MiB))
        cls.wharfd = cls.serve(Wharfd(cls.proxy.url, max_concurrent=3))
        cls.rng = random.Random(os.environ.get("WHARF_SEED") or time.time_ns())

    def integrity(self):
        db = sqlite3.connect(os.path.join(self.wharfd.data_dir, "wharf.db"))
        try:
            return db.execute("PRAGMA integrity_check").fetchall()
        finally:
            db.close()

    def assertListedAreWhole(self, api):
        """Every listed image is the registry's, with every blob present and intact."""
        local = api.local_images()
        blobs = Path(self.wharfd.data_dir, "blobs", "sha256")
        for name in local:
            t = self.truth[name]
            status, got = api.get(f"/api/v1/image/docker/{name}/latest/inspect")
            self.assertEqual(status, 200, got)
            self.assertEqual(got["Id"], t.id)
            for digest in t.blobs:
                data = (blobs / digest.split(":", 1)[1]).read_bytes()
                self.assertEqual("sha256:" + hashlib.sha256(data).hexdigest(), digest,
                                 f"{name}: blob {digest} listed but not intact")
        return local

    def _delete(self, names, deleted):
        try:
            api = self.wharfd.client()
            for name in names:
                time.sleep(self.rng.uniform(0.0, 0.3))
                status, _ = api.delete(f"/api/v1/image/local/docker/{name}")
                if status == 200:
                    deleted.add(name)
        except OSError:
            pass  # wharfd was killed meanwhile

    def fsck(self):
        return subprocess.run([str(self.wharfd.binary), "fsck", "--data", self.wharfd.data_dir],
                              capture_output=True, text=True, timeout=120)

    def test_kill_nine_rounds(self):
        resumed_jobs = 0
        for round_no in range(ROUNDS):
            with self.subTest(round=round_no):
                api = self.wharfd.client()
                local = set(api.local_images())
                asked = set(IMAGES) - local
                for name in asked:
                    self.assertEqual(api.download(name, "latest"), (200, {}))
                # Deletes run beside the downloads, from another client, and may be cut by
                # the kill; only those answered must stay done.
                doomed = [n for n in local if self.rng.random() < 0.5]
                deleted = set()
                deleter = threading.Thread(target=self._delete, args=(doomed, deleted))
                deleter.start()
                time.sleep(self.rng.uniform(0.0, 1.0))
                unfinished = {j["name"] for j in api.download_jobs()}
                self.wharfd.kill9()
                deleter.join(timeout=30)

                self.assertEqual(self.integrity(), [("ok",)], "SQLite after kill -9")
                self.wharfd.start()
                api = self.wharfd.client()
                listed = self.assertListedAreWhole(api)
                self.assertFalse(deleted & set(listed), "an answered delete came undone")
                # Nothing is asked again: interrupted jobs resume by themselves.
                wait_until(lambda: asked <= set(api.local_images()), 90,
                           f"round {round_no}: {sorted(asked)} local after the restart")
                resumed_jobs += len(unfinished & asked)
                wait_until(lambda: api.download_jobs() == [], 30, "no job left")
                self.assertListedAreWhole(api)

                self.wharfd.stop(cleanup=False)
                checked = self.fsck()
                self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
                self.assertEqual(self.integrity(), [("ok",)])
                self.wharfd.start()
        print(f"\n{ROUNDS} kill -9 rounds; {resumed_jobs} interrupted downloads resumed")
        self.assertGreater(resumed_jobs, 0, "no kill landed during a download")


if __name__ == "__main__":
    unittest.main()
