"""A download watched in progress through a throttling proxy: joins, 409 on
delete, then SIGKILL. After a restart the job resumes by itself, reuses the
bytes it had, and the image never shows up half-done."""

import hashlib
import os
import unittest

from fixtures import FixtureBuilder
from harness import Registry, ThrottleProxy, WharfTestCase, Wharfd, wait_until

MiB = 1024 * 1024
LAYER_SIZE = 24 * MiB
SLOW = int(1.5 * MiB)    # bytes/s before the kill: ~16 s for the whole image
FAST = 8 * MiB           # after the restart has been observed
KILL_AFTER = 8 * MiB     # bytes_done at which wharfd is killed
SLACK = 4 * MiB          # bytes in flight (socket and process buffers) lost by the kill
NAME, TAG = "lgsd/big", "latest"


class CrashResumeTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            cls.truth = fx.big(NAME, TAG, size=LAYER_SIZE)
        client = cls.registry.client()
        cls.compressed = sum(len(client.blob(NAME, d)) for d in cls.truth.layers)
        cls.proxy = cls.serve(ThrottleProxy(cls.registry.host, rate=None))
        cls.wharfd = cls.serve(Wharfd(cls.proxy.url))

    def job(self, api):
        return api.find_job(api.download_jobs(), NAME, TAG)

    def assertAbsentOrComplete(self, api):
        """The image is either not listed or fully there."""
        local = api.local_images()
        if NAME not in local:
            return False
        self.assertEqual(local[NAME]["tags"], [TAG])
        self.assertEqual(local[NAME]["size"], [self.truth.size], "listed before complete")
        missing = self.truth.blobs - self.wharfd.blob_digests()
        self.assertEqual(missing, set(), "listed while blobs are missing")
        return True

    def test_kill_during_download_then_resume(self):
        api = self.wharfd.client()
        self.proxy.set_rate(SLOW)

        # Start, and join with a second request.
        self.assertEqual(api.download(NAME, TAG, meta={"description": "big"}), (200, {}))
        self.assertEqual(api.download(NAME, TAG, meta={"description": "big"}), (200, {}))
        jobs = [j for j in api.download_jobs() if j.get("name") == NAME]
        self.assertEqual(len(jobs), 1, f"duplicate request was not joined: {jobs}")

        # Watch it in progress; it must not be listed as local meanwhile.
        def progressing():
            self.assertFalse(self.assertAbsentOrComplete(api), "listed while downloading")
            job = self.job(api)
            self.assertIsNotNone(job, "job vanished before the download could finish")
            self.assertNotEqual(job["status"], "failed", job)
            return job if job["status"] == "downloading" and job["bytes_done"] > 0 else None

        job = wait_until(progressing, 30, "the job to report progress", interval=0.1)
        self.assertIs(type(job["percent"]), int, job)
        self.assertTrue(0 <= job["percent"] < 100, job)
        # The total is known once percent is: the layers, plus perhaps config and manifest.
        self.assertIs(type(job["bytes_total"]), int, job)
        self.assertTrue(self.compressed <= job["bytes_total"] <= self.compressed + MiB, job)

        # Delete while downloading: 409, for the whole name and for the tag.
        for path in [f"/api/v1/image/local/docker/{NAME}",
                     f"/api/v1/image/local/docker/{NAME}:{TAG}"]:
            with self.subTest(path=path):
                self.assertError(*api.delete(path), 409)
        self.assertIsNotNone(self.job(api), "a refused delete cancelled the job")

        wait_until(lambda: progressing() and self.job(api)["bytes_done"] >= KILL_AFTER, 60,
                   f"{KILL_AFTER} bytes downloaded", interval=0.1)
        served_at_kill = self.proxy.served
        self.wharfd.kill9()

        # Restart: no new POST. The job must come back by itself.
        self.wharfd.start()
        api = self.wharfd.client()
        resumed = wait_until(lambda: self.assertAbsentOrComplete(api) or self.job(api), 30,
                             "the job to reappear after restart", interval=0.1)
        if isinstance(resumed, dict):
            self.assertNotEqual(resumed["status"], "failed", resumed)
        self.proxy.set_rate(FAST)

        def finished():
            complete = self.assertAbsentOrComplete(api)
            job = self.job(api)
            if job is not None:
                self.assertNotEqual(job["status"], "failed", job)
            return complete and job is None

        wait_until(finished, 60, "the resumed download to finish", interval=0.1)

        # Everything is there, verified, and nothing unfinished is left behind.
        with self.subTest(check="no leftover temporary files"):
            self.assertEqual(self.wharfd.settled_temp_files(), [])
        with self.subTest(check="blobs verified"):
            for digest in self.truth.blobs:
                path = os.path.join(self.wharfd.data_dir, "blobs", "sha256",
                                    digest.split(":")[1])
                with open(path, "rb") as f:
                    self.assertEqual("sha256:" + hashlib.sha256(f.read()).hexdigest(), digest)
        with self.subTest(check="inspect"):
            status, got = api.get(f"/api/v1/image/docker/{NAME}/{TAG}/inspect")
            self.assertEqual(status, 200, got)
            self.assertEqual(got["Id"], self.truth.id)
            self.assertEqual(got["Size"], self.truth.size)
            self.assertEqual(api.local_images()[NAME]["description"], "big")

        # The bytes fetched before the kill were reused (HTTP Range), not fetched again.
        with self.subTest(check="partial layer reused"):
            served_after = self.proxy.served - served_at_kill
            self.assertLess(self.proxy.served, 2 * self.compressed)
            self.assertLess(served_after, self.compressed - served_at_kill + SLACK,
                            f"{served_at_kill} bytes served before the kill, {served_after}"
                            f" after, image {self.compressed}: the partial layer was not reused")

    def test_start_repairs_what_a_kill_left_behind(self):
        """A kill after a download's commit and before index.json was written leaves the
        OCI index behind the metadata; one between a delete and its garbage collection
        leaves an unreferenced blob. wharfd answers at once after a start, and puts both
        right in the background."""
        self.proxy.set_rate(None)
        api = self.wharfd.client()
        if NAME not in api.local_images():
            self.assertEqual(api.download(NAME, TAG), (200, {}))
            wait_until(lambda: NAME in api.local_images(), 60, "the image to be local")
        self.wharfd.stop(cleanup=False)
        with open(os.path.join(self.wharfd.data_dir, "index.json"), "w") as f:
            f.write('{"schemaVersion":2,"manifests":[]}')
        orphan_bytes = os.urandom(4096)
        orphan = hashlib.sha256(orphan_bytes).hexdigest()
        orphan_path = os.path.join(self.wharfd.data_dir, "blobs", "sha256", orphan)
        with open(orphan_path, "wb") as f:
            f.write(orphan_bytes)

        self.wharfd.start()
        wait_until(lambda: self.wharfd.oci_ref_names() == {f"{NAME}:{TAG}": self.truth.digest}
                   and not os.path.exists(orphan_path), 10,
                   "index.json rewritten and the orphan blob collected after the start")
        self.assertEqual(set(self.wharfd.client().local_images()), {NAME})
        self.assertTrue(self.truth.blobs <= self.wharfd.blob_digests())


if __name__ == "__main__":
    unittest.main()
