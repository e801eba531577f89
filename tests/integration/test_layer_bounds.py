"""Decompression bombs in a registry: layers a few KiB long that unpack to 64 MiB of zeros
(zstd and gzip), pushed to a real docker-registry by the test. A wharfd with a small
downloads.max_unpacked_bytes refuses them by size, one with the default bounds by the ratio
of unpacked to compressed bytes, each with a message naming the layer and the limit, and
keeps nothing of them; an archive importing the bomb is refused the same way; an ordinary
image of the same registry downloads under both."""

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import unittest

from archives import config_of, docker_archive, upload
from fixtures import HOST_ARCH, OCI_MANIFEST
from harness import Registry, WharfTestCase, Wharfd, wait_until
from test_bad_network import push_blob

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"
BOMB = 64 << 20       # bytes of zeros in the bomb's one file
SMALL_LIMIT = 16 << 20


def tar_of(name, data):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, 0
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def zstd(data):
    # As a pipe writes it: no content size in the frame header, like streaming encoders.
    return subprocess.run(["zstd", "-q", "-19", "-c"], input=data, check=True,
                          capture_output=True).stdout


def push_image(client, repo, layer, media_type, tar):
    config = json.dumps({
        "architecture": HOST_ARCH, "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": push_blob(client, repo, config),
                   "size": len(config)},
        "layers": [{"mediaType": media_type, "digest": push_blob(client, repo, layer),
                    "size": len(layer)}],
    }).encode()
    client.put_manifest(repo, "latest", manifest, OCI_MANIFEST)
    return "sha256:" + hashlib.sha256(layer).hexdigest()


class LayerBoundsTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        client = cls.registry.client()
        bomb_tar = tar_of("zeros", bytes(BOMB))
        cls.bomb_tar, cls.zstd_bomb_bytes = bomb_tar, zstd(bomb_tar)
        cls.zstd_bomb = push_image(client, "bomb/zstd", cls.zstd_bomb_bytes, ZSTD_LAYER, bomb_tar)
        cls.gzip_bomb = push_image(client, "bomb/gzip", gzip.compress(bomb_tar, 9, mtime=0),
                                   GZIP_LAYER, bomb_tar)
        small = tar_of("etc/hostname", b"fine\n")
        push_image(client, "plain/small", zstd(small), ZSTD_LAYER, small)
        cls.small_limit = cls.serve(Wharfd(
            cls.registry.url, downloads_toml=f"max_unpacked_bytes = {SMALL_LIMIT}"))
        cls.defaults = cls.serve(Wharfd(cls.registry.url))

    def assertRefused(self, wharfd, repo, layer, message):
        api = wharfd.client()
        before = wharfd.blob_digests()
        status, body = api.download(repo, "latest")
        self.assertEqual(status, 200, body)
        failed = api.wait_download(repo, "latest", timeout=120)
        self.assertIsNotNone(failed, f"{repo} must be refused")
        self.assertEqual(failed["status"], "failed")
        self.assertIn(f"layer {layer} unpacks to over {message}", failed["error"], failed)
        self.assertNotIn(repo, api.local_images())
        self.assertNotIn(layer, wharfd.blob_digests())
        wait_until(lambda: wharfd.blob_digests() - before == set(), 10,
                   "nothing of the refused image to stay in the store")
        self.assertEqual([f for f in wharfd.leftover_temp_files() if layer[7:] in f], [])

    def test_bombs_past_max_unpacked_bytes_are_refused(self):
        for repo, layer in (("bomb/zstd", self.zstd_bomb), ("bomb/gzip", self.gzip_bomb)):
            with self.subTest(repo):
                self.assertRefused(self.small_limit, repo, layer,
                                   f"{SMALL_LIMIT} bytes (downloads.max_unpacked_bytes)")

    def test_bombs_past_the_ratio_are_refused_with_the_default_bounds(self):
        for repo, layer in (("bomb/zstd", self.zstd_bomb), ("bomb/gzip", self.gzip_bomb)):
            with self.subTest(repo):
                self.assertRefused(self.defaults, repo, layer,
                                   "100 times its compressed size")

    def test_an_imported_archive_holds_its_layers_to_the_bounds(self):
        api = self.small_limit.client()
        before = self.small_limit.blob_digests()
        config = config_of(["sha256:" + hashlib.sha256(self.bomb_tar).hexdigest()])
        archive, _ = docker_archive([self.zstd_bomb_bytes], ["bomb/import:latest"], config=config)
        status, body = upload(api, archive, "?file=bomb.tar")
        self.assertError(status, body, 413, mentions=[
            f"layer 00/layer.tar in the archive unpacks to over {SMALL_LIMIT} bytes "
            "(downloads.max_unpacked_bytes)"])
        self.assertNotIn("bomb/import", api.local_images())
        wait_until(lambda: self.small_limit.blob_digests() - before == set(), 10,
                   "nothing of the refused archive to stay in the store")

    def test_an_ordinary_layer_passes_both(self):
        for wharfd in (self.small_limit, self.defaults):
            api = wharfd.client()
            status, body = api.download("plain/small", "latest")
            self.assertEqual(status, 200, body)
            self.assertIsNone(api.wait_download("plain/small", "latest", timeout=60),
                              wharfd.log())
            self.assertIn("plain/small", api.local_images())


if __name__ == "__main__":
    unittest.main()
