"""An LXC download watched in progress through a throttling proxy (bytes and
percent, a joined duplicate, 409 on delete), killed with SIGKILL and resumed
with a Range request after the restart; then the hand-off: Debian's own
`lxc-create -t download` builds a container from wharf's cache_dir with the
network out of reach, and no longer can once the image is deleted."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import ThrottleProxy, WharfTestCase, wait_until
from lxc_servers import (ImageServer, LxcWharfd, catalog_entry, meta_tar_xz, rootfs_tar_xz,
                         server_source, write_catalog)

MiB = 1024 * 1024
NAME, SERIAL = "testos-big", "20240101_00:00"
SLOW = 1 * MiB           # bytes/s while the download is watched
KILL_AFTER = int(1.5 * MiB)


class LxcCreateTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="wharf-lxc-create-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = cls.serve(ImageServer())
        cls.tool = os.urandom(6 * MiB)
        data, size = rootfs_tar_xz({"etc/hostname": b"LXC_NAME\n", "usr/bin/tool": cls.tool})
        cls.build = cls.server.add_build("testos", "big", "amd64", "default", SERIAL, data,
                                         size, meta_tar_xz(templates=["/etc/hostname"]))
        cls.proxy = cls.serve(ThrottleProxy(f"127.0.0.1:{cls.server.port}"))
        catalog = cls.tmp / "appcenter.json"
        write_catalog(catalog, [catalog_entry(NAME, server_source(
            "simplestreams", cls.proxy.url, "testos", "big"))])
        cls.lxc_cache = cls.tmp / "lxc-cache"  # what LXC_CACHE_PATH names
        cls.wharfd = cls.serve(LxcWharfd(catalog, cache_dir=cls.lxc_cache / "download"))

    def job(self, api):
        return api.find_job(api.download_jobs(), NAME, "latest")

    def test_1_progress_join_conflict_resume(self):
        api = self.wharfd.client()
        total = len(self.build.rootfs) + len(self.build.meta)
        self.proxy.set_rate(SLOW)
        for _ in range(2):  # the second request joins the first
            self.assertEqual(self.wharfd.lxc_download(api, NAME), (200, {}))

        def far_enough():
            job = self.job(api)
            self.assertIsNotNone(job, "the job left the list too early")
            return job if job["bytes_done"] >= KILL_AFTER else None

        job = wait_until(far_enough, 30, "the download to get going", interval=0.05)
        self.assertEqual(job["status"], "downloading")
        self.assertEqual(job["type"], "lxc")
        self.assertEqual(job["bytes_total"], total, "meta.tar.xz plus the index's rootfs size")
        self.assertIsInstance(job["percent"], int)
        self.assertLess(job["percent"], 100)
        self.assertEqual(len([j for j in api.download_jobs() if j["name"] == NAME]), 1)
        status, body = api.delete(f"/api/v1/image/local/lxc/{NAME}")
        self.assertError(status, body, 409)

        self.wharfd.kill9()
        self.proxy.set_rate(None)
        self.wharfd.start()
        api = self.wharfd.client()
        self.assertIsNone(api.wait_download(NAME, "latest", 60))
        ranges = [r for _, r in self.server.served("/rootfs.tar.xz") if r]
        self.assertTrue(ranges, "the restarted download did not resume with a Range request")
        self.assertGreater(int(ranges[-1][len("bytes="):-1]), 0)
        entry = api.local_images()[NAME]
        self.assertEqual(entry["size"], [str(self.build.unpacked)])
        self.assertEqual(self.wharfd.settled_temp_files(), [])

    def lxc_create(self, name, lxcpath, guard_log):
        """Runs Debian's lxc-create with a `wget` that only records that it was
        called: the template needs the binary, and must not need the network."""
        guard = self.tmp / "guard"
        guard.mkdir(exist_ok=True)
        (guard / "wget").write_text(f'#!/bin/sh\necho "$@" >> {guard_log}\nexit 4\n')
        (guard / "wget").chmod(0o755)
        env = dict(os.environ, LXC_CACHE_PATH=str(self.lxc_cache),
                   PATH=f"{guard}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        return subprocess.run(["lxc-create", "-P", str(lxcpath), "-t", "download", "-n", name,
                               "--", "-d", "testos", "-r", "big", "-a", "amd64"],
                              env=env, capture_output=True, text=True, timeout=120)

    def test_2_lxc_create_from_the_cache(self):
        if shutil.which("lxc-create") is None or os.geteuid() != 0:
            self.skipTest("lxc-create needs the lxc package and root here")
        api = self.wharfd.client()
        if NAME not in api.local_images():  # when run alone
            self.assertEqual(self.wharfd.lxc_download(api, NAME), (200, {}))
            self.assertIsNone(api.wait_download(NAME, "latest", 60))
        lxcpath = self.tmp / "containers"
        lxcpath.mkdir(exist_ok=True)
        guard_log = self.tmp / "wget-calls"

        run = self.lxc_create("c1", lxcpath, guard_log)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("Using image from local cache", run.stdout)
        self.assertFalse(guard_log.exists(), "lxc-create tried to download")
        rootfs = lxcpath / "c1" / "rootfs"
        self.assertEqual((rootfs / "usr/bin/tool").read_bytes(), self.tool)
        self.assertEqual((rootfs / "etc/hostname").read_text(), "c1\n",
                         "meta.tar.xz's templates were applied")
        config = (lxcpath / "c1" / "config").read_text()
        self.assertIn("lxc.include = /usr/share/lxc/config/common.conf", config)
        self.assertIn("lxc.arch = x86_64", config)
        self.assertIn("made by wharf's tests", run.stdout, "create-message from meta.tar.xz")

        # Deleted from wharf, gone from the cache: now the template would need the network.
        self.assertEqual(api.delete(f"/api/v1/image/local/lxc/{NAME}"), (200, {}))
        self.assertFalse((self.lxc_cache / "download/testos/big/amd64/default").exists())
        run = self.lxc_create("c2", lxcpath, guard_log)
        self.assertNotEqual(run.returncode, 0, run.stdout)
        self.assertTrue(guard_log.exists(), "without the cache the template downloads")


if __name__ == "__main__":
    unittest.main()
