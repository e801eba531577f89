"""LXC images end to end: a test image server in both layouts (simplestreams
and lxc-download) plus fixed URLs, a test catalog naming them, and one wharfd
with an [lxc] cache_dir. Downloads, the local listing, failures that must leave
nothing behind, newer builds, the cache hand-off layout, and delete."""

import os
import shutil
import tempfile
import unittest
from pathlib import Path

from harness import WharfTestCase, wait_until
from lxc_servers import (ImageServer, LxcWharfd, catalog_entry, meta_tar_xz, raw_tar_xz,
                         rootfs_tar_xz, server_source, sha256, write_catalog)

# The seed's local LXC shape, no is_latest, and update_available (issue 21's extension: a
# boolean per tag, aligned with tags as size is).
LOCAL_LXC_KEYS = {"description", "downloading", "icon", "installed", "name", "repository",
                  "size", "tags", "type", "update_available"}
S1, S2, S3 = "20240101_00:00", "20240201_00:00", "20240301_00:00"

server = None
tmp = None
builds = {}


def rootfs(hostname, extra=b""):
    files = {"etc/hostname": hostname.encode() + b"\n", "etc/os-release": b"ID=testos\n",
             "usr/bin/tool": os.urandom(3000) + extra}
    return rootfs_tar_xz(files)


def setUpModule():
    global server, tmp
    tmp = tempfile.mkdtemp(prefix="wharf-lxc-test-")
    server = ImageServer().start()
    try:
        build_fixtures()
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    if server:
        server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def build_fixtures():
    add = server.add_build
    # simplestreams: os spelled "TestOS" by the server, "testos" by the catalog; a decoy
    # product whose id names release "one" but whose fields do not; a version key that is
    # not a build and sorts after every date.
    data, size = rootfs("one")
    builds["one"] = add("testos", "one", "amd64", "default", S1, data, size, os_field="TestOS")
    decoy, decoy_size = rootfs("decoy")
    add("testos", "decoy", "amd64", "default", S2, decoy, decoy_size,
        product_id="testos:one:amd64:cloud", index=False)
    server.add_version("testos:one:amd64:default", "current", {"root.tar.xz": {
        "ftype": "root.tar.xz", "path": "images/nowhere/rootfs.tar.xz",
        "sha256": sha256(b"x"), "size": 1}})
    # lxc-download: two builds listed, the newest wins.
    old, old_size = rootfs("two-old")
    add("testos", "two", "amd64", "default", S1, old, old_size, simplestreams=False)
    data, size = rootfs("two")
    builds["two"] = add("testos", "two", "amd64", "default", S2, data, size,
                        simplestreams=False)
    # url: files anywhere on the server.
    data, size = rootfs("three")
    builds["three"] = add("testos", "three", "amd64", "default", S1, data, size,
                          simplestreams=False, index=False)
    # An image that gains builds during the test.
    data, size = rootfs("evolve")
    builds["evolve-1"] = add("testos", "evolve", "amd64", "default", S1, data, size)

    # Broken ones.
    data, size = rootfs("badsha")
    meta = meta_tar_xz()  # SHA256SUMS lists only meta.tar.xz, so the index's sha256 is all
    builds["badsha"] = add("testos", "badsha", "amd64", "default", S1, data, size, meta,
                           item_sha=sha256(b"something else"),
                           sums={"meta.tar.xz": sha256(meta)})
    data, size = rootfs("badsums")
    builds["badsums"] = add("testos", "badsums", "amd64", "default", S1, data, size,
                            sums={"rootfs.tar.xz": sha256(b"x"), "meta.tar.xz": sha256(b"y")})
    data, size = rootfs("badsize")
    builds["badsize"] = add("testos", "badsize", "amd64", "default", S1, data, size,
                            item_size=len(data) - 100)
    data, size = rootfs("gone")
    builds["gone"] = add("testos", "gone", "amd64", "default", S1, data, size,
                         simplestreams=False)
    server.remove(builds["gone"], "rootfs.tar.xz")
    evil = raw_tar_xz([("./etc/hostname", b"evil\n"), ("../../escape", b"x")])
    builds["evilentry"] = add("testos", "evilentry", "amd64", "default", S1, evil, 0,
                              simplestreams=False)
    data, size = rootfs("evilpath")
    builds["evilpath"] = add("testos", "evilpath", "amd64", "default", S1, data, size,
                             item_path="images/../../../etc/passwd", index=False)
    data, size = rootfs("noconfig")
    builds["noconfig"] = add("testos", "noconfig", "amd64", "default", S1, data, size,
                             meta=meta_tar_xz(config=False), simplestreams=False)
    garbage = raw_tar_xz([])[:12] + os.urandom(2000)
    builds["broken"] = add("testos", "broken", "amd64", "default", S1, garbage, 0,
                           simplestreams=False)

    ss = lambda release: server_source("simplestreams", server.url, "testos", release)  # noqa
    ld = lambda release: server_source("lxc-download", server.url, "testos", release)  # noqa
    three = builds["three"]
    entries = [
        catalog_entry("testos-one", ss("one"), description="Test OS one"),
        catalog_entry("testos-two", ld("two"), icon=""),
        catalog_entry("testos-three", {
            "protocol": "url", "rootfs": f"{server.url}/{three.dir}rootfs.tar.xz",
            "rootfs_sha256": sha256(three.rootfs), "meta": f"{server.url}/{three.dir}meta.tar.xz",
            "meta_sha256": sha256(three.meta)}),
        catalog_entry("testos-evolve", ss("evolve")),
        catalog_entry("bad-sha", ss("badsha")),
        catalog_entry("bad-size", ss("badsize")),
        catalog_entry("bad-sums", ss("badsums")),
        catalog_entry("no-product", ss("missing")),
        catalog_entry("file-gone", ld("gone")),
        catalog_entry("evil-entry", ld("evilentry")),
        catalog_entry("evil-path", ss("evilpath")),
        catalog_entry("no-config", ld("noconfig")),
        catalog_entry("broken-archive", ld("broken")),
    ]
    write_catalog(Path(tmp, "appcenter.json"), entries)


class LxcTest(WharfTestCase):
    """Tests named test_y*/test_z* change what others read and run last."""

    @classmethod
    def setUpClass(cls):
        cls.cache = Path(tmp, "cache", "download")
        cls.wharfd = LxcWharfd(Path(tmp, "appcenter.json"), cache_dir=cls.cache)
        cls.wharfd.start()
        try:
            cls.api = cls.wharfd.client()
            for name, depot in (("testos-one", "appcenter"), ("testos-two", "qnap"),
                                ("testos-three", "appcenter")):
                status, body = cls.wharfd.lxc_download(cls.api, name, depot=depot)
                assert status == 200 and body == {}, (name, status, body)
            cls.results = cls.api.wait_jobs([(n, "latest") for n in
                                             ("testos-one", "testos-two", "testos-three")], 60)
            cls.happy_blobs = cls.wharfd.blob_digests()
        except Exception:
            print(cls.wharfd.log())
            cls.wharfd.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()

    def local(self):
        return self.api.local_images()

    def assertLocalEntry(self, name, build, tags=("latest",)):
        entry = self.local().get(name)
        self.assertIsNotNone(entry, f"{name} is not listed")
        self.assertEqual(set(entry), LOCAL_LXC_KEYS, "the seed's local LXC shape, no is_latest")
        self.assertEqual(entry["type"], "lxc")
        self.assertEqual(entry["repository"], "local")
        self.assertEqual(entry["tags"], list(tags))
        self.assertEqual(entry["size"], [str(build.unpacked)] * len(tags))
        self.assertEqual([type(f) for f in entry["update_available"]], [bool] * len(tags))
        self.assertTrue(entry["installed"])
        self.assertIs(entry["downloading"], False)
        return entry

    def assertStored(self, build):
        blobs = self.wharfd.blob_digests()
        self.assertIn(build.rootfs_digest, blobs)
        self.assertIn(build.meta_digest, blobs)

    def assertCached(self, dist_release, build, serial=None):
        d = self.cache / "testos" / dist_release / "amd64" / "default"
        self.assertEqual((d / "rootfs.tar.xz").read_bytes(), build.rootfs)
        self.assertEqual((d / "build_id").read_text(), (serial or build.serial) + "\n")
        self.assertIn("lxc.arch = x86_64", (d / "config").read_text())
        for name in ("config-user", "excludes-user", "expiry", "templates", "create-message"):
            self.assertTrue((d / name).is_file(), f"{name} of meta.tar.xz is not in the cache")
        leftovers = [p for p in d.parent.iterdir() if ".tmp-" in p.name]
        self.assertEqual(leftovers, [])

    def failed(self, name, tag="latest"):
        status, body = self.wharfd.lxc_download(self.api, name, tag)
        self.assertEqual((status, body), (200, {}), name)
        job = self.api.wait_download(name, tag, timeout=30)
        self.assertIsNotNone(job, f"{name} should have failed")
        self.assertEqual(job["status"], "failed")
        self.assertEqual(job["type"], "lxc")
        return job["error"]

    # --- happy paths ----------------------------------------------------------------

    def test_simplestreams(self):
        self.assertIsNone(self.results[("testos-one", "latest")])
        entry = self.assertLocalEntry("testos-one", builds["one"])
        self.assertEqual(entry["description"], "Test OS one")
        self.assertEqual(entry["icon"], "http://icons.invalid/testos-one.png")
        self.assertStored(builds["one"])
        self.assertCached("one", builds["one"])
        # Never the decoy (matching product id), never "current" (not a build).
        self.assertEqual(server.served("/images/testos/decoy/amd64/default/" + S2 +
                                       "/rootfs.tar.xz"), [])
        self.assertEqual(server.served("/images/nowhere/rootfs.tar.xz"), [])

    def test_lxc_download_index(self):
        self.assertIsNone(self.results[("testos-two", "latest")])
        entry = self.assertLocalEntry("testos-two", builds["two"])
        self.assertEqual(entry["icon"], "/icons/debian.svg", "catalog icon_local when icon is empty")
        self.assertStored(builds["two"])
        self.assertCached("two", builds["two"])

    def test_url_source(self):
        self.assertIsNone(self.results[("testos-three", "latest")])
        self.assertLocalEntry("testos-three", builds["three"])
        self.assertStored(builds["three"])
        # A url source has no serial: its build is named after the rootfs's sha256.
        serial = "sha256-" + sha256(builds["three"].rootfs)[:12]
        self.assertEqual(self.local()["testos-three"]["tags"], ["latest"])
        self.assertCached("three", builds["three"], serial)

    def test_x_request_body_wins_over_catalog(self):
        status, _ = self.wharfd.lxc_download(self.api, "testos-one", body={
            "description": "mine", "icon": "http://icons.invalid/mine.png"})
        self.assertEqual(status, 200)
        self.assertIsNone(self.api.wait_download("testos-one", "latest", 30))
        entry = self.local()["testos-one"]
        self.assertEqual((entry["description"], entry["icon"]),
                         ("mine", "http://icons.invalid/mine.png"))

    def test_appcenter_listing_marks_installed(self):
        status, body = self.api.get("/api/v1/image/?from=appcenter&type=lxc")
        self.assertEqual(status, 200)
        by_name = {e["name"]: e for e in body["results"]}
        self.assertIs(by_name["testos-one"]["installed"], True)
        self.assertIs(by_name["no-product"]["installed"], False)

    # --- refusals -------------------------------------------------------------------

    def test_name_not_in_catalog_is_404_at_once(self):
        status, body = self.wharfd.lxc_download(self.api, "nope-nope")
        self.assertError(status, body, 404, "Image not found: nope-nope")
        self.assertIsNone(self.api.find_job(self.api.download_jobs(), "nope-nope", "latest"))
        status, body = self.wharfd.lxc_download(self.api, "testos-one", "bad tag!")
        self.assertError(status, body, 400, mentions=["image_tag"])

    def test_failures_leave_nothing(self):
        cases = {
            "bad-sha": "digest mismatch",
            "bad-size": "larger than",
            "bad-sums": "disagree",
            "no-product": "no product testos/missing/amd64/default",
            "file-gone": "404",
            "evil-entry": "unsafe entry",
            "evil-path": "unsafe item path",
            "no-config": "config",
            "broken-archive": "broken",
        }
        for name, words in cases.items():
            with self.subTest(name=name):
                error = self.failed(name)
                self.assertIn(words, error)
                self.assertNotIn(name, self.local())
        for key in ("badsha", "badsize", "evilentry", "noconfig", "broken"):
            self.assertNotIn(builds[key].rootfs_digest, self.wharfd.blob_digests(), key)
        self.assertIn(server.url, self.failed("file-gone"), "the error names the server")
        # Not even the meta.tar.xz files that were fetched before the rootfs failed.
        wait_until(lambda: self.wharfd.blob_digests() == self.happy_blobs, 10,
                   "the failed downloads' blobs to go")
        self.assertEqual(self.wharfd.settled_temp_files(), [])
        for name in ("badsha", "badsize", "noconfig"):
            self.assertFalse((self.cache / "testos" / name).exists(), name)

    # --- builds ---------------------------------------------------------------------

    def test_y_newer_builds(self):
        api, w = self.api, self.wharfd
        self.assertEqual(w.lxc_download(api, "testos-evolve")[0], 200)
        self.assertIsNone(api.wait_download("testos-evolve", "latest", 30))
        self.assertLocalEntry("testos-evolve", builds["evolve-1"])

        data, size = rootfs("evolve-2", extra=os.urandom(5000))
        builds["evolve-2"] = server.add_build("testos", "evolve", "amd64", "default", S2,
                                              data, size)
        self.assertEqual(w.lxc_download(api, "testos-evolve")[0], 200)
        self.assertIsNone(api.wait_download("testos-evolve", "latest", 30))
        self.assertLocalEntry("testos-evolve", builds["evolve-2"])
        self.assertCached("evolve", builds["evolve-2"])
        wait_until(lambda: builds["evolve-1"].rootfs_digest not in w.blob_digests(), 10,
                   "the replaced build's rootfs to be collected")

        # A specific build is kept beside latest: builds show up as tags.
        self.assertEqual(w.lxc_download(api, "testos-evolve", S1)[0], 200)
        self.assertIsNone(api.wait_download("testos-evolve", S1, 30))
        entry = self.local()["testos-evolve"]
        self.assertEqual(entry["tags"], [S1, "latest"])
        self.assertEqual(entry["size"], [str(builds["evolve-1"].unpacked),
                                         str(builds["evolve-2"].unpacked)])
        self.assertCached("evolve", builds["evolve-1"])  # the last one downloaded

        # A build the server does not have fails the job.
        self.assertIn("20990101_00:00", self.failed("testos-evolve", "20990101_00:00"))

        # Deleting the cached build puts the other one back in the cache.
        status, body = api.delete(f"/api/v1/image/local/lxc/testos-evolve:{S1}")
        self.assertEqual((status, body), (200, {}))
        self.assertEqual(self.local()["testos-evolve"]["tags"], ["latest"])
        self.assertCached("evolve", builds["evolve-2"])

    def test_z_delete(self):
        status, body = self.api.delete("/api/v1/image/local/lxc/testos-one")
        self.assertEqual((status, body), (200, {}))
        self.assertNotIn("testos-one", self.local())
        self.assertFalse((self.cache / "testos" / "one" / "amd64" / "default").exists())
        wait_until(lambda: builds["one"].rootfs_digest not in self.wharfd.blob_digests(), 10,
                   "the deleted image's blobs to be collected")
        self.assertIn(builds["two"].rootfs_digest, self.wharfd.blob_digests())
        status, body = self.api.delete("/api/v1/image/local/lxc/testos-one")
        self.assertError(status, body, 404, "Image not found: testos-one")


if __name__ == "__main__":
    unittest.main()
