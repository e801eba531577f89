"""LXC image servers and rootfs tarballs as they are found in the wild, against one test
image server (both layouts) and two wharfds: one with the default [lxc] settings, one with
allow_special_files = true. Device nodes, FIFOs and setuid files in a rootfs; a sparse file
claiming more than downloads.max_unpacked_bytes; simplestreams products without a variant
field; a self-hosted lxc-download server without SHA256SUMS, and the catalog entry's
opt-out; an Incus-only simplestreams server; a rootfs.tar.zst build. Every refusal names
what is wrong and keeps nothing."""

import os
import shutil
import tempfile
import unittest
from pathlib import Path

from harness import WharfTestCase, wait_until
from lxc_servers import (ImageServer, LxcWharfd, catalog_entry, rootfs_tar_xz, rootfs_tar_zst,
                         server_source, sparse_rootfs_tar_xz, special_tar_xz, write_catalog)

S1, S2 = "20240101_00:00", "20240201_00:00"
MAX_UNPACKED = 1 << 30

server = None  # the image server of the module's tests, made by LxcWildTest.setUpClass
builds = {}


def ld_build(key, release, data, size=0, **kw):
    builds[key] = server.add_build("testos", release, "amd64", "default", S1, data, size,
                                   simplestreams=False, **kw)
    return builds[key]


def build_fixtures(tmp):
    ld_build("mem", "mem", special_tar_xz([("dev/mem", "chr", (1, 1))]))
    ld_build("sda", "sda", special_tar_xz([("dev/sda", "blk", (8, 0))]))
    ld_build("fifo", "fifo", special_tar_xz([("run/initctl", "fifo", None)]))
    ld_build("suid", "suid", special_tar_xz([("usr/bin/su", "file", (0o4755, b"#!/bin/sh\n"))]))
    ld_build("sgid", "sgid", special_tar_xz([("usr/bin/wall", "file", (0o2755, b"#!/bin/sh\n"))]))
    ld_build("sparse", "sparse", sparse_rootfs_tar_xz(2 * MAX_UNPACKED))
    # rootfs.tar.zst (distrobuilder --compression=zstd), listed by SHA256SUMS.
    files = {"etc/hostname": b"zstd\n", "usr/bin/tool": os.urandom(5000)}
    data, size = rootfs_tar_zst(files)
    ld_build("zst", "zst", data, size, rootfs_name="rootfs.tar.zst")
    # A self-hosted server without SHA256SUMS (distrobuilder output and a hand-made index).
    data, size = rootfs_tar_xz({"etc/hostname": b"nosums\n"})
    server.remove(ld_build("nosums", "nosums", data, size), "SHA256SUMS")
    # simplestreams products without a variant field: their ids name the variant; the newer
    # build is the "test" variant and must not pass for "default".
    data, size = rootfs_tar_xz({"etc/hostname": b"default\n"})
    builds["nv-default"] = server.add_build("testos", "novariant", "amd64", "default", S1,
                                            data, size, index=False)
    data, size = rootfs_tar_xz({"etc/hostname": b"test\n"})
    builds["nv-test"] = server.add_build("testos", "novariant", "amd64", "test", S2, data,
                                         size, index=False)
    for pid in ("testos:novariant:amd64:default", "testos:novariant:amd64:test"):
        del server.products[pid]["variant"]
    # An Incus-only simplestreams server: root.tar.xz items, no meta.tar.xz, no SHA256SUMS.
    data, size = rootfs_tar_xz({"etc/hostname": b"incus\n"})
    incus = server.add_build("testos", "incus", "amd64", "default", S1, data, size, index=False)
    server.remove(incus, "SHA256SUMS")
    server.remove(incus, "meta.tar.xz")
    builds["incus"] = incus
    server.publish()

    ld = lambda release: server_source("lxc-download", server.url, "testos", release)  # noqa
    ss = lambda release: server_source("simplestreams", server.url, "testos", release)  # noqa
    entries = [catalog_entry(f"testos-{r}", ld(r))
               for r in ("mem", "sda", "fifo", "suid", "sgid", "sparse", "zst", "nosums")]
    entries.append(catalog_entry("testos-nosums-ok", dict(ld("nosums"),
                                                          require_sha256sums=False)))
    entries.append(catalog_entry("testos-novariant", ss("novariant")))
    entries.append(catalog_entry("testos-novariant-test", dict(ss("novariant"), variant="test")))
    entries.append(catalog_entry("testos-incus", ss("incus")))
    write_catalog(Path(tmp, "appcenter.json"), entries)


class LxcWildTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        global server
        tmp = tempfile.mkdtemp(prefix="wharf-lxc-wild-")
        cls.addClassCleanup(shutil.rmtree, tmp, True)
        server = cls.serve(ImageServer())
        build_fixtures(tmp)
        catalog = Path(tmp, "appcenter.json")
        cls.strict = cls.serve(LxcWharfd(
            catalog, downloads_toml=f"max_unpacked_bytes = {MAX_UNPACKED}"))
        cls.lenient = cls.serve(LxcWharfd(catalog, lxc_toml="allow_special_files = true"))
        cls.wharfd = cls.strict

    def download(self, wharfd, name):
        api = wharfd.client()
        status, body = wharfd.lxc_download(api, name)
        self.assertEqual((status, body), (200, {}), name)
        return api, api.wait_download(name, "latest", timeout=60)

    def refused(self, name, wharfd=None):
        wharfd = wharfd or self.strict
        api, job = self.download(wharfd, name)
        self.assertIsNotNone(job, f"{name} should have failed")
        self.assertEqual(job["status"], "failed")
        self.assertNotIn(name, api.local_images())
        return job["error"]

    def assertNothingOf(self, wharfd, build):
        # Its meta.tar.xz may be the same bytes as an accepted build's; the rootfs is its own.
        wait_until(lambda: build.rootfs_digest not in wharfd.blob_digests(), 10,
                   "the refused build's rootfs to leave the store")
        self.assertEqual(wharfd.settled_temp_files(), [])

    def accepted(self, wharfd, name, build):
        api, job = self.download(wharfd, name)
        self.assertIsNone(job, wharfd.log())
        self.assertIn(name, api.local_images())
        self.assertIn(build.rootfs_digest, wharfd.blob_digests())

    def test_special_files_are_refused(self):
        cases = {
            "mem": 'rootfs.tar.xz: "dev/mem" is a character device; device nodes are '
                   'refused unless lxc.allow_special_files = true',
            "sda": '"dev/sda" is a block device; device nodes are refused',
            "fifo": '"run/initctl" is a FIFO; FIFOs are refused',
            "suid": '"usr/bin/su" is setuid (mode 4755); setuid and setgid files are refused '
                    'unless lxc.allow_special_files = true',
            "sgid": '"usr/bin/wall" is setgid (mode 2755)',
        }
        for key, message in cases.items():
            with self.subTest(key):
                self.assertIn(message, self.refused(f"testos-{key}"))
                self.assertNothingOf(self.strict, builds[key])

    def test_special_files_pass_with_allow_special_files(self):
        for key in ("mem", "sda", "fifo", "suid", "sgid"):
            with self.subTest(key):
                self.accepted(self.lenient, f"testos-{key}", builds[key])

    def test_a_sparse_file_counts_its_whole_length(self):
        error = self.refused("testos-sparse")
        self.assertIn(f"rootfs.tar.xz: the sizes of its files add up to over {MAX_UNPACKED} "
                      "bytes (downloads.max_unpacked_bytes)", error)
        self.assertNothingOf(self.strict, builds["sparse"])

    def test_rootfs_tar_zst(self):
        self.accepted(self.strict, "testos-zst", builds["zst"])
        self.assertNotEqual(server.served(builds["zst"].dir + "rootfs.tar.zst"), [])
        entry = self.strict.client().local_images()["testos-zst"]
        self.assertEqual(entry["size"], [str(builds["zst"].unpacked)], entry)

    def test_no_sha256sums_says_what_is_missing_and_the_entry_may_opt_out(self):
        error = self.refused("testos-nosums")
        for words in (f"has no SHA256SUMS in /{builds['nosums'].dir}",
                      "sha256sum rootfs.tar.xz meta.tar.xz > SHA256SUMS",
                      '"require_sha256sums": false'):
            self.assertIn(words, error)
        self.assertNotIn(builds["nosums"].rootfs_digest, self.strict.blob_digests())
        self.accepted(self.strict, "testos-nosums-ok", builds["nosums"])
        self.assertIn(builds["nosums"].meta_digest, self.strict.blob_digests())

    def test_products_without_variant_match_the_variant_their_id_names(self):
        self.accepted(self.strict, "testos-novariant", builds["nv-default"])
        self.assertNotIn(builds["nv-test"].rootfs_digest, self.strict.blob_digests(),
                         "the newer :test build is not the default variant")
        self.accepted(self.lenient, "testos-novariant-test", builds["nv-test"])

    def test_incus_only_server_is_named(self):
        error = self.refused("testos-incus")
        self.assertIn("has no LXC meta.tar.xz (no SHA256SUMS in", error)
        self.assertIn("Incus/LXD-only simplestreams server", error)
        self.assertEqual(server.served(builds["incus"].dir + "rootfs.tar.xz"), [])


if __name__ == "__main__":
    unittest.main()
