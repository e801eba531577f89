"""A full disk: wharfd's data directory is a small tmpfs in a private mount namespace.
A download that does not fit fails with "no space left on device" and leaves nothing
behind (no partial or temp file, no listed image, a whole SQLite database, a clean
`wharfd fsck`), while wharfd keeps serving; once an image is deleted to free space, the
same download is retried and succeeds.

Needs root (or CAP_SYS_ADMIN) for unshare and mount; skipped otherwise. The injected
ENOSPC of src/wharf/content/blob_store_test.cc covers the same path without privileges.
"""

import json
import os
import shutil
import subprocess
import sys
import types
import unittest

from fixtures import FixtureBuilder
from harness import ApiClient, Registry, WharfTestCase, Wharfd

MiB = 1024 * 1024
TMPFS = "12m"    # the whole data dir: blobs, ingest, wharf.db (+ WAL), index.json
SMALL_SIZE = 4 * MiB   # fits
BIG_SIZE = 10 * MiB    # fits alone (2 MiB left for the database), not beside SMALL
SMALL, BIG = "disk/small", "disk/big"


# Run inside the namespace: SQLite resolves symbolic links in a path, so opened from out
# here, /proc/PID/root/DATA/wharf.db would become an empty DATA/wharf.db of our namespace.
SQLITE_CHECK = """if True:
    import json, sqlite3, sys
    conn = sqlite3.connect("file:" + sys.argv[1] + "?mode=rw", uri=True, timeout=5)
    print(json.dumps({"integrity": conn.execute("PRAGMA integrity_check").fetchall(),
                      "jobs": conn.execute("SELECT display_name, state, error FROM jobs").fetchall()}))
    conn.close()
"""


class MountNamespace:
    """A `sleep` in a private mount namespace where a tmpfs of `size` covers `path`.
    Other commands join it with nsenter; its files are seen at /proc/PID/root/...
    It lives at most 10 minutes, and the tmpfs goes with the last process inside."""

    def __init__(self, path, size):
        self.path, self.size, self.proc = path, size, None

    def start(self):
        for tool in ("unshare", "nsenter", "mount"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} is not installed")
        script = 'mount -t tmpfs -o size="$1",mode=0755 tmpfs "$2" && echo mounted && exec sleep 600'
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
             self.size, self.path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # "" when unshare or mount failed and sh exited
        self.proc.stdout.close()
        if line.strip() != "mounted":
            self.proc.wait(timeout=10)
            why = self.proc.stderr.read().strip()
            self.proc.stderr.close()
            self.proc = None
            raise unittest.SkipTest("cannot mount a tmpfs in a private mount namespace (needs "
                                    f"root or CAP_SYS_ADMIN): {why}")
        return self

    def enter(self, *cmd):
        """cmd run inside the namespace; nsenter execs it (no fork), so its pid is cmd's."""
        return ["nsenter", f"--mount=/proc/{self.proc.pid}/ns/mnt", "--", *map(str, cmd)]

    def check_output(self, *cmd):
        return subprocess.run(self.enter(*cmd), check=True, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL).stdout

    def view(self, path):
        return f"/proc/{self.proc.pid}/root{path}"

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc.stderr.close()
            self.proc = None


class TmpfsWharfd(Wharfd):
    """A Wharfd run inside `ns`; the data-dir helpers read it through /proc/PID/root."""

    ns = None

    def command(self):
        self.binary = self.binary.resolve()  # nsenter starts it in the namespace's "/"
        return self.ns.enter(*super().command())

    def _seen(self):
        return types.SimpleNamespace(data_dir=self.ns.view(self.data_dir))

    def blob_files(self):
        return Wharfd.blob_files(self._seen())

    def leftover_temp_files(self):
        return Wharfd.leftover_temp_files(self._seen())

    def ingest_files(self):
        return sorted(os.listdir(os.path.join(self._seen().data_dir, "ingest")))


class DiskFullTest(WharfTestCase):
    """One wharfd on a 12 MiB data dir; the tests run in name order and build on each other."""

    @classmethod
    def setUpClass(cls):
        registry = Registry()  # its port, hence its URL, is chosen already
        wharfd = TmpfsWharfd(registry.url)
        cls.addClassCleanup(wharfd.stop)  # removes its temp dir also if the namespace fails
        os.makedirs(wharfd.data_dir)
        # First, so that a host where it cannot work skips before building anything.
        wharfd.ns = cls.ns = cls.serve(MountNamespace(wharfd.data_dir, TMPFS))
        cls.serve(registry)
        with FixtureBuilder(registry) as fx:
            cls.small = fx.big(SMALL, size=SMALL_SIZE)
            cls.big = fx.big(BIG, size=BIG_SIZE)
        cls.wharfd = cls.serve(wharfd)  # stopped first, then the registry and the namespace
        cls.api = wharfd.client()

    # --- helpers ------------------------------------------------------------------

    def pull(self, name):
        self.assertEqual(self.api.download(name, "latest"), (200, {}))
        return self.api.wait_download(name, "latest", timeout=60)

    def assertImage(self, name, truth):
        status, got = self.api.get(f"/api/v1/image/docker/{name}/latest/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], truth.id)
        self.assertEqual(got["RootFS"]["Layers"], truth.config["rootfs"]["diff_ids"])
        self.assertTrue(truth.blobs <= self.wharfd.blob_digests(), "blobs are missing")

    def assertNothingHalfWritten(self):
        self.assertEqual(self.wharfd.settled_temp_files(), [])
        self.assertEqual(self.wharfd.ingest_files(), [])

    def assertStoppedDataDirIsWhole(self):
        """Stops wharfd, checks SQLite and fsck inside the namespace, starts it again.
        Returns the recorded jobs as {display name: (state, error)}."""
        self.wharfd.stop(cleanup=False)
        try:
            db = os.path.join(self.wharfd.data_dir, "wharf.db")
            checked = json.loads(self.ns.check_output(sys.executable, "-c", SQLITE_CHECK, db))
            self.assertEqual(checked["integrity"], [["ok"]])
            jobs = {name: (state, error) for name, state, error in checked["jobs"]}
            proc = subprocess.run(self.ns.enter(self.wharfd.binary, "fsck", "--data",
                                                self.wharfd.data_dir),
                                  capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertRegex(proc.stdout, r"no problems\s*$")
        finally:  # the next tests need it even when a check failed
            self.wharfd.start()
            type(self).api = self.wharfd.client()  # sessions may not outlive a restart
        return jobs

    # --- the tests ------------------------------------------------------------------

    def test_1_an_image_that_fits_downloads(self):
        self.assertIsNone(self.pull(SMALL))
        self.assertImage(SMALL, self.small)
        self.assertNothingHalfWritten()

    def test_2_a_download_that_does_not_fit_fails_with_enospc(self):
        failed = self.pull(BIG)
        self.assertIsNotNone(failed, "the download should have failed: the disk is too small")
        self.assertEqual(failed["status"], "failed", failed)
        self.assertIn("no space left on device", (failed.get("error") or "").lower(), failed)
        # wharfd keeps serving: a new session, the listings, the image already there.
        self.assertIsNone(self.wharfd.proc.poll(), "wharfd exited")
        fresh = ApiClient(self.wharfd.url)
        self.assertEqual(fresh.login("admin", self.wharfd.admin_password)[0], 200)
        self.assertEqual(sorted(fresh.local_images()), [SMALL])
        jobs = fresh.download_jobs()
        self.assertEqual(fresh.find_job(jobs, BIG, "latest")["status"], "failed", jobs)
        self.assertImage(SMALL, self.small)
        self.assertEqual(fresh.get(f"/api/v1/image/docker/{BIG}/latest/inspect")[0], 404)
        # Nothing of BIG is left behind: no partial, no temp file, no blob.
        self.assertNothingHalfWritten()
        self.assertEqual(self.wharfd.blob_digests(), self.small.blobs)
        self.assertNotIn(f"{BIG}:latest", Wharfd.oci_ref_names(self.wharfd._seen()))

    def test_3_the_data_dir_is_whole_after_the_failure(self):
        jobs = self.assertStoppedDataDirIsWhole()
        # The failure is recorded (once the job's partial is gone there is room for it),
        # so the restarted wharfd does not start the download again by itself.
        self.assertEqual(set(jobs), {BIG}, jobs)
        self.assertEqual(jobs[BIG][0], "failed", jobs)
        self.assertIn("no space left on device", jobs[BIG][1].lower(), jobs)
        self.assertNotIn(f"resuming download of {BIG}", self.wharfd.log())
        job = self.api.find_job(self.api.download_jobs(), BIG, "latest")
        self.assertEqual(job["status"], "failed", job)
        self.assertEqual(sorted(self.api.local_images()), [SMALL])
        self.assertImage(SMALL, self.small)
        self.assertNothingHalfWritten()

    def test_4_freeing_space_lets_the_same_download_succeed(self):
        self.assertEqual(self.api.delete(f"/api/v1/image/local/docker/{SMALL}"), (200, {}))
        self.assertFalse(self.small.blobs & self.wharfd.blob_digests(), "SMALL was not collected")
        self.assertIsNone(self.pull(BIG))
        self.assertImage(BIG, self.big)
        self.assertEqual(sorted(self.api.local_images()), [BIG])
        self.assertNothingHalfWritten()
        self.assertEqual(self.assertStoppedDataDirIsWhole(), {})
        self.assertImage(BIG, self.big)


if __name__ == "__main__":
    unittest.main()
