"""LXC downloads through a faulty image server: transient answers (503, 429) are tried
again with backoff, a rootfs cut half-way goes on with a Range from where it stopped (and
the per-file progress counts each byte once), and a 404 is not retried. The faults come from a FaultProxy in front of a real image server."""

import os
import shutil
import tempfile
import unittest
from pathlib import Path

from api_client import EventStream
from harness import WharfTestCase
from lxc_servers import (ImageServer, LxcWharfd, catalog_entry, rootfs_tar_xz, server_source,
                         write_catalog)
from proxy import FaultProxy

SERIAL = "20260101_00:00"


class LxcRetriesTest(WharfTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wharf-lxc-retries-")
        cls.server = ImageServer().start()
        cls.proxy = FaultProxy(f"127.0.0.1:{cls.server.port}").start()
        # Incompressible, so that the rootfs is big enough to be cut half-way.
        data, size = rootfs_tar_xz({"etc/hostname": b"flaky\n", "blob": os.urandom(400_000)})
        cls.build = cls.server.add_build("testos", "flaky", "amd64", "default", SERIAL, data, size)
        source = lambda release: server_source("simplestreams", cls.proxy.url, "testos", release)  # noqa
        write_catalog(Path(cls.tmp, "appcenter.json"), [
            catalog_entry("testos-flaky", source("flaky")),
            catalog_entry("testos-gone", source("gone")),
        ])
        cls.wharfd = LxcWharfd(Path(cls.tmp, "appcenter.json")).start()
        cls.api = cls.wharfd.client()

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()
        cls.proxy.stop()
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def requests_to(self, suffix, since=0):
        return [r for r in self.proxy.requests[since:] if r["path"].endswith(suffix)]

    def test_transient_failures_and_a_cut_are_survived(self):
        before = len(self.proxy.requests)
        self.proxy.add_rule("status", path=r"streams/v1/index\.json$", status=503,
                            headers={"Retry-After": "0"})
        self.proxy.add_rule("status", path=r"rootfs\.tar\.xz$", status=429)
        self.proxy.add_rule("cut", path=r"rootfs\.tar\.xz$", after=150_000)
        stream = EventStream.of(self.api)
        status, body = self.wharfd.lxc_download(self.api, "testos-flaky")
        self.assertEqual((status, body), (200, {}))
        self.assertIsNone(self.api.wait_download("testos-flaky", "latest", timeout=60),
                          self.wharfd.log())
        done = [d for _, kind, d in stream.events(
            lambda e: e[1] == "job" and e[2]["name"] == "testos-flaky" and e[2]["status"] == "done")
            if kind == "job" and d["status"] == "done"]
        stream.close()
        # Per-file progress: meta.tar.xz, then rootfs.tar.xz, each byte counted once despite
        # the retries and the cut.
        files = done[-1]["layers"]
        self.assertEqual([f["digest"] for f in files],
                         [self.build.meta_digest, self.build.rootfs_digest])
        self.assertEqual([f["bytes_done"] for f in files],
                         [len(self.build.meta), len(self.build.rootfs)])
        self.assertEqual(files[1]["bytes_total"], len(self.build.rootfs))
        self.assertEqual(self.api.local_images()["testos-flaky"]["size"],
                         [str(self.build.unpacked)])
        self.assertIn(self.build.rootfs_digest, self.wharfd.blob_digests())
        self.assertEqual(len(self.requests_to("streams/v1/index.json", before)), 2)
        rootfs = self.requests_to("rootfs.tar.xz", before)
        self.assertEqual(len(rootfs), 3, rootfs)  # 429, the cut one, the rest
        self.assertNotIn("range", rootfs[1]["headers"])
        resumed = rootfs[2]["headers"].get("range", "")
        self.assertTrue(resumed.startswith("bytes=") and resumed.endswith("-"), resumed)
        self.assertGreater(int(resumed[6:-1]), 0, "the rest only, not the whole file again")

    def test_not_found_is_not_retried(self):
        before = len(self.proxy.requests)
        self.proxy.add_rule("status", path=r"streams/v1/index\.json$", status=404)
        status, _ = self.wharfd.lxc_download(self.api, "testos-gone")
        self.assertEqual(status, 200)
        job = self.api.wait_download("testos-gone", "latest", timeout=30)
        self.assertIsNotNone(job)
        self.assertIn("404", job["error"])
        self.assertEqual(len(self.requests_to("streams/v1/index.json", before)), 1)


if __name__ == "__main__":
    unittest.main()
