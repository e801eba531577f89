"""Self-check of the harness: the fixtures are what the other tests say they are.
Needs docker-registry, umoci, skopeo and htpasswd, but not wharfd."""

import gzip
import hashlib
import json
import os
import time
import unittest

from fixtures import (DIAMOND_CONFIG, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,
                      FixtureBuilder, ImageTruth, skopeo)
from harness import Registry, RegistryClient, ThrottleProxy, free_port, port_is_free


class FixtureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = Registry().start()
        cls.fx = FixtureBuilder(cls.registry)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()
        cls.registry.stop()

    def test_free_port(self):
        port = free_port()
        self.assertTrue(port_is_free(port))
        self.assertFalse(port_is_free(self.registry.port))

    def test_diamond_has_three_layers_and_full_config(self):
        truth = self.fx.diamond(repo="check/diamond")
        self.assertEqual(truth.media_type, OCI_MANIFEST)
        self.assertEqual(len(truth.layers), 3)
        self.assertEqual(len(set(truth.layers)), 3)
        self.assertEqual(len(truth.config["rootfs"]["diff_ids"]), 3)
        cfg = truth.config["config"]
        self.assertEqual(cfg["Cmd"], DIAMOND_CONFIG["cmd"])
        self.assertEqual(cfg["Env"], DIAMOND_CONFIG["env"])
        self.assertEqual(cfg["WorkingDir"], DIAMOND_CONFIG["workingdir"])
        self.assertEqual(cfg["User"], DIAMOND_CONFIG["user"])
        self.assertEqual(set(cfg["ExposedPorts"]), set(DIAMOND_CONFIG["exposedports"]))
        self.assertEqual(cfg["Labels"], DIAMOND_CONFIG["labels"])
        self.assertEqual(truth.config["architecture"], "amd64")
        self.assertGreater(truth.size, 3 * 20000)
        # Both tags name the same manifest.
        self.assertEqual(ImageTruth(self.registry.client(), "check/diamond", "1.0").digest,
                         truth.digest)

    def test_shared_pair_shares_first_layer(self):
        a, b = self.fx.shared_pair(repo_a="check/base-a", repo_b="check/base-b")
        self.assertEqual(a.layers[0], b.layers[0])
        self.assertNotEqual(a.layers[1], b.layers[1])
        self.assertNotEqual(a.digest, b.digest)

    def _check_multi(self, docker):
        repo = "check/listed" if docker else "check/multi"
        m = self.fx.multi_arch(repo, docker=docker)
        manifest, digest, media_type, _ = self.registry.client().manifest(repo, "latest")
        self.assertEqual(digest, m["digest"])
        self.assertEqual(media_type, DOCKER_LIST if docker else OCI_INDEX)
        platforms = {(e["platform"]["architecture"], e["platform"].get("variant"))
                     : e["digest"] for e in manifest["manifests"]}
        self.assertEqual(platforms, {("amd64", None): m["amd64"].digest,
                                     ("arm64", "v8"): m["arm64"].digest})
        self.assertEqual(m["amd64"].config["architecture"], "amd64")
        self.assertEqual(m["arm64"].config["architecture"], "arm64")
        child_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        self.assertEqual({m["amd64"].media_type, m["arm64"].media_type}, {child_type})

    def test_oci_index(self):
        self._check_multi(docker=False)

    def test_docker_manifest_list(self):
        self._check_multi(docker=True)

    def test_uncompressed_size_is_tar_size(self):
        truth = self.fx.image("check/small", ["latest"], [{"/a": b"x" * 3000}])
        # A tar of one 3000-byte file: headers and padding to 512-byte blocks.
        self.assertEqual(truth.size % 512, 0)
        self.assertGreaterEqual(truth.size, 3000 + 512)
        diff_id = truth.config["rootfs"]["diff_ids"][0]
        raw = gzip.decompress(self.registry.client().blob("check/small", truth.layers[0]))
        self.assertEqual(diff_id, "sha256:" + hashlib.sha256(raw).hexdigest())

    def test_throttle_proxy_limits_rate_and_counts(self):
        truth = self.fx.image("check/proxied", ["latest"], [{"/r": os.urandom(300_000)}])
        rate = 400_000
        with ThrottleProxy(self.registry.host, rate=rate) as proxy:
            client = RegistryClient(proxy.host)
            started = time.monotonic()
            blob = client.blob("check/proxied", truth.layers[0])
            elapsed = time.monotonic() - started
            self.assertEqual("sha256:" + hashlib.sha256(blob).hexdigest(), truth.layers[0])
            self.assertGreater(elapsed, 0.5 * len(blob) / rate)
            self.assertGreaterEqual(proxy.served, len(blob))
            proxy.set_rate(None)
            started = time.monotonic()
            client.blob("check/proxied", truth.layers[0])
            self.assertLess(time.monotonic() - started, 0.5)

    def test_skopeo_reads_back_pushed_image(self):
        truth = self.fx.image("check/readback", ["latest"], [{"/f": b"hello"}])
        out = os.path.join(self.fx.work, "readback")
        skopeo("copy", "--quiet", "--src-tls-verify=false",
               f"docker://{self.registry.host}/check/readback:latest", f"dir:{out}")
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual([l["digest"] for l in manifest["layers"]], truth.layers)


class AuthRegistryTest(unittest.TestCase):
    def test_htpasswd_registry(self):
        with Registry(auth="htpasswd", user="alice", password="s3cret") as reg:
            anonymous = RegistryClient(reg.host)
            status, headers, _ = anonymous.request("GET", "/v2/")
            self.assertEqual(status, 401)
            self.assertIn("basic", headers.get("www-authenticate", "").lower())
            with FixtureBuilder(reg) as fx:
                truth = fx.image("team/app", ["latest"], [{"/app": b"app"}])
            self.assertEqual(len(truth.layers), 1)
            status, _, _ = anonymous.request("GET", "/v2/team/app/manifests/latest")
            self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
