"""`wharfd fsck` on a data directory filled by real downloads: refused while a
wharfd runs (as is a second wharfd), clean after a normal run, then damaged
(a corrupt layer, a missing layer, an orphan blob, a partial with no job, a temp
file), reported, repaired, and the broken images show up as failed downloads
that download again."""

import hashlib
import os
import re
import subprocess
import unittest
from pathlib import Path

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd

registry = None
truth = {}
DIAMOND, BASE_A, BASE_B = "lgsd/diamond", "team/base-a", "team/base-b"


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truth[DIAMOND] = fx.diamond(tags=("latest",))
            truth[BASE_A], truth[BASE_B] = fx.shared_pair()
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class FsckTest(WharfTestCase):
    """One data directory; the tests run in name order and build on each other."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = Wharfd(registry.url).start()
        try:
            api = cls.wharfd.client()
            for name in truth:
                assert api.download(name, "latest") == (200, {})
            failed = api.wait_jobs([(name, "latest") for name in truth], timeout=120)
            assert failed == {ref: None for ref in failed}, failed
        except Exception:
            cls.wharfd.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()

    def fsck(self, *args, data=True):
        cmd = [str(self.wharfd.binary), "fsck", *args]
        if data:
            cmd += ["--data", self.wharfd.data_dir]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout.splitlines(), proc.stderr

    def blob_path(self, digest):
        return Path(self.wharfd.data_dir, "blobs", "sha256", digest.split(":", 1)[1])

    def own_layer(self, name):
        """A layer of `name` that no other fixture image shares."""
        others = set().union(*(t.blobs for n, t in truth.items() if n != name))
        return next(d for d in truth[name].layers if d not in others)

    def test_1_the_data_directory_belongs_to_one_process(self):
        pid = self.wharfd.proc.pid
        # A second wharfd on the same data dir stops at once and says why.
        second = Wharfd(registry.url, data_dir=self.wharfd.data_dir)
        try:
            second.write_config()
            proc = subprocess.run(second.command(), capture_output=True, text=True, timeout=60,
                                  env=second.env(), stdin=subprocess.DEVNULL)
        finally:
            second.stop()
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn(f"is in use by another wharfd (pid {pid})", proc.stderr)
        self.assertIsNone(self.wharfd.proc.poll(), "the first wharfd must keep running")
        # So does fsck.
        code, out, err = self.fsck()
        self.assertEqual(code, 2, (out, err))
        self.assertIn("in use by another wharfd", err)
        self.assertEqual(self.wharfd.client().get("/healthz")[0], 200)

    def test_2_usage_errors_exit_2(self):
        self.assertEqual(self.fsck("--no-such-flag")[0], 2)
        code, _, err = self.fsck("--data", "/nonexistent/wharf", data=False)
        self.assertEqual(code, 2)
        self.assertIn("does not exist", err)

    def test_3_damage_is_reported_repaired_and_downloaded_again(self):
        self.wharfd.stop(cleanup=False)
        data = Path(self.wharfd.data_dir)
        blobs_before = self.wharfd.blob_digests()
        self.assertEqual(blobs_before, set().union(*(t.blobs for t in truth.values())))

        # Clean after a normal run; --config finds the data dir too.
        code, out, err = self.fsck("--config", self.wharfd.config_path, data=False)
        self.assertEqual(code, 0, (out, err))
        self.assertEqual(len(out), 1, out)
        self.assertRegex(out[0], rf"^fsck: checked {len(blobs_before)} blobs .*, 3 images; "
                                 r"no problems$")

        # Damage: one byte of a diamond layer, a layer of base-b gone, an orphan
        # blob, a partial download with no job, a temp file of an interrupted write.
        corrupt = self.own_layer(DIAMOND)
        raw = bytearray(self.blob_path(corrupt).read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        self.blob_path(corrupt).write_bytes(bytes(raw))
        missing = self.own_layer(BASE_B)
        self.blob_path(missing).unlink()
        orphan_bytes = os.urandom(1000)
        orphan = "sha256:" + hashlib.sha256(orphan_bytes).hexdigest()
        self.blob_path(orphan).write_bytes(orphan_bytes)
        partial = "ingest/" + hashlib.sha256(b"nobody").hexdigest() + ".partial"
        (data / partial).write_bytes(b"nob")
        temp = "index.json.tmp-0123456789abcdef"
        (data / temp).write_text("{")

        code, out, err = self.fsck()
        self.assertEqual(code, 1, (out, err))
        problems = out[:-1]
        expected = {
            f"corrupt-blob {corrupt}": "its content hashes to sha256:",
            f"broken-image docker:{DIAMOND}:latest": f"blob {corrupt} is corrupt",
            f"dangling-edge docker:{BASE_B}:latest": f"blob {missing} is missing",
            f"orphan-blob {orphan}": "no image references it",
            f"orphan-partial {partial}": "no unfinished download job",
            f"temp-file {temp}": "interrupted write",
        }
        self.assertEqual(len(problems), len(expected), out)
        for head, detail in expected.items():
            line = next((p for p in problems if p.startswith(head + ": ")), None)
            self.assertIsNotNone(line, f"no line for {head!r} in {out}")
            self.assertIn(detail, line)
            self.assertNotIn("repaired", line)
        self.assertTrue(out[-1].endswith("; 6 problems, none repaired"), out[-1])
        self.assertTrue(self.blob_path(corrupt).exists(), "a check must change nothing")
        self.assertTrue((data / temp).exists())

        code, out, err = self.fsck("--repair")
        self.assertEqual(code, 0, (out, err))
        for line in out[:-1]:
            self.assertRegex(line, r"\[repaired: [^\]]+\]$")
        self.assertRegex(out[-1], r"; \d+ problems, \d+ repaired$")
        self.assertFalse(self.blob_path(corrupt).exists())
        self.assertFalse(self.blob_path(orphan).exists())
        self.assertFalse((data / partial).exists())
        self.assertFalse((data / temp).exists())
        # base-a is whole, and keeps the layer it shares with base-b.
        self.assertTrue(truth[BASE_A].blobs <= self.wharfd.blob_digests())

        code, out, err = self.fsck()
        self.assertEqual((code, len(out)), (0, 1), (out, err))
        self.assertTrue(out[0].endswith("; no problems"), out)

        # wharfd lists the broken images as failed downloads, with the reason.
        self.wharfd.start()
        api = self.wharfd.client()
        jobs = api.download_jobs()
        diamond_job = api.find_job(jobs, DIAMOND, "latest")
        base_b_job = api.find_job(jobs, BASE_B, "latest")
        self.assertIsNotNone(diamond_job, jobs)
        self.assertIsNotNone(base_b_job, jobs)
        self.assertEqual(diamond_job["status"], "failed")
        self.assertEqual(diamond_job["error"], f"fsck: blob {corrupt} is corrupt")
        self.assertEqual(base_b_job["status"], "failed")
        self.assertTrue(re.match(r"^fsck: blob sha256:[0-9a-f]{64} is missing",
                                 base_b_job["error"]), base_b_job)
        self.assertEqual(set(api.local_images()), {BASE_A})
        self.assertEqual(set(self.wharfd.oci_ref_names()), {f"{BASE_A}:latest"})

        # Both download again, whole.
        for name in (DIAMOND, BASE_B):
            self.assertEqual(api.download(name, "latest"), (200, {}))
        failed = api.wait_jobs([(DIAMOND, "latest"), (BASE_B, "latest")], timeout=120)
        self.assertEqual(failed, {(DIAMOND, "latest"): None, (BASE_B, "latest"): None})
        self.assertEqual(set(api.local_images()), set(truth))
        for digest in set().union(*(t.blobs for t in truth.values())):
            self.assertEqual(sha256_file(self.blob_path(digest)), digest)

        self.wharfd.stop(cleanup=False)
        code, out, err = self.fsck()
        self.assertEqual(code, 0, (out, err))
        self.assertTrue(out[-1].endswith("; no problems"), out)
        self.wharfd.start()


if __name__ == "__main__":
    unittest.main()
