"""Pulls through a fault-injecting proxy in front of a real docker-registry:
connections cut half-way (the blob resumes with a Range), 503 and 429 with
Retry-After (in seconds and as an HTTP date), a stalled transfer, a registry that
stays down, oversized manifests and configs, unknown media types, an index
without our platform, a lying by-digest manifest, remote_inspect's answers, and
partial files of a layer's full size left by a stop before the commit."""

import email.utils
import json
import math
import os
import time
import unittest
from pathlib import Path

from fixtures import HOST_ARCH, OCI_INDEX, OCI_MANIFEST, FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd, free_port
from proxy import FaultProxy

ATTEMPTS = 4
STALL_S = 2
registry = None
proxy = None
truth = {}


def setUpModule():
    global registry, proxy
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truth["big"] = fx.big("faults/big", size=3 * 1024 * 1024)
            truth["stall"] = fx.big("faults/stall", size=1024 * 1024)
            truth["busy"] = fx.diamond("faults/busy", tags=("latest",))
            for name in ("small", "dated", "inspect"):
                truth[name] = fx.image(f"faults/{name}", ["latest"],
                                       [{f"/{name}": os.urandom(3000)}, {"/etc/x": b"x\n"}],
                                       {"cmd": [f"/{name}"], "env": [f"N={name}"]})
            for name in ("whole", "damaged"):  # layers of their own, pulled by nothing else
                truth[name] = fx.image(f"faults/{name}", ["latest"],
                                       [{f"/{name}": os.urandom(3000)}, {f"/etc/{name}": b"x\n"}],
                                       {"cmd": [f"/{name}"]})
        proxy = FaultProxy(registry.host).start()
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    proxy.stop()
    registry.stop()


def blob_path(name, digest):
    return f"^/v2/faults/{name}/blobs/{digest}$"


def manifest_path(name, ref="latest"):
    return f"^/v2/faults/{name}/manifests/{ref}$"


class RegistryFaultsTest(WharfTestCase):
    """One wharfd whose Docker Hub is the fault proxy; each test pulls its own image."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = Wharfd(proxy.url, downloads_toml=f"attempts = {ATTEMPTS}\n"
                                                      f"stall_timeout_s = {STALL_S}").start()
        cls.api = cls.wharfd.client()

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()

    def tearDown(self):
        proxy.clear_rules()

    def pull(self, name, tag="latest", timeout=60):
        self.assertEqual(self.api.download(name, tag), (200, {}))
        return self.api.wait_download(name, tag, timeout=timeout)

    def assertPulled(self, name, t):
        status, got = self.api.get(f"/api/v1/image/docker/{name}/latest/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertTrue(t.blobs <= self.wharfd.blob_digests())
        self.assertEqual(self.wharfd.settled_temp_files(), [])

    def assertFailed(self, failed, *words):
        self.assertIsNotNone(failed, "the download should have failed")
        self.assertEqual(failed["status"], "failed", failed)
        for word in words:
            self.assertIn(word.lower(), (failed.get("error") or "").lower(), failed)

    def test_cut_blob_resumes_with_a_range(self):
        t = truth["big"]
        layer = t.layers[1]
        cut = 1_000_000
        proxy.add_rule("cut", path=blob_path("big", layer), after=cut)
        self.assertIsNone(self.pull("faults/big"))
        self.assertPulled("faults/big", t)
        gets = proxy.seen("GET", blob_path("big", layer))
        self.assertEqual([r["headers"].get("range") for r in gets], [None, f"bytes={cut}-"])

    def leave_partial(self, digest, data):
        """What a stop after a layer's last byte and before its commit leaves behind."""
        Path(self.wharfd.data_dir, "ingest", digest.split(":", 1)[1] + ".partial").write_bytes(data)

    def test_a_partial_holding_the_whole_layer_needs_no_request(self):
        t = truth["whole"]
        layer = t.layers[0]
        self.leave_partial(layer, registry.client().blob("faults/whole", layer))
        self.assertIsNone(self.pull("faults/whole"))
        self.assertPulled("faults/whole", t)
        # A Range from the end of the blob would be answered 416 (by docker-registry with
        # a malformed body, which once failed such a resume).
        self.assertEqual(proxy.seen("GET", blob_path("whole", layer)), [])
        self.assertEqual(len(proxy.seen("GET", blob_path("whole", t.layers[1]))), 1)

    def test_a_full_size_partial_with_other_bytes_starts_over(self):
        t = truth["damaged"]
        layer = t.layers[0]
        data = bytearray(registry.client().blob("faults/damaged", layer))
        data[-1] ^= 1
        self.leave_partial(layer, bytes(data))
        self.assertIsNone(self.pull("faults/damaged"))
        self.assertPulled("faults/damaged", t)
        gets = proxy.seen("GET", blob_path("damaged", layer))
        self.assertEqual([r["headers"].get("range") for r in gets], [None])

    def test_503_and_429_with_retry_after_are_retried(self):
        t = truth["busy"]
        proxy.add_rule("status", path=manifest_path("busy"), status=503,
                       headers={"Content-Type": "application/json"},
                       body='{"errors":[{"code":"UNAVAILABLE","message":"restarting"}]}')
        proxy.add_rule("status", path=blob_path("busy", t.config_digest), status=429,
                       headers={"Retry-After": "2"})
        proxy.add_rule("status", path=blob_path("busy", t.layers[0]), status=503,
                       headers={"Retry-After": "1"})
        started = time.monotonic()
        self.assertIsNone(self.pull("faults/busy"))
        self.assertPulled("faults/busy", t)
        self.assertEqual(len(proxy.seen("GET", manifest_path("busy"))), 2)
        config_gets = proxy.seen("GET", blob_path("busy", t.config_digest))
        self.assertEqual(len(config_gets), 2)
        self.assertGreaterEqual(config_gets[1]["time"] - config_gets[0]["time"], 1.9)
        layer_gets = proxy.seen("GET", blob_path("busy", t.layers[0]))
        self.assertEqual(len(layer_gets), 2)
        self.assertGreaterEqual(layer_gets[1]["time"] - layer_gets[0]["time"], 0.9)
        self.assertLess(time.monotonic() - started, 30)

    def test_retry_after_as_an_http_date(self):
        t = truth["dated"]
        # A date has a one-second resolution: take a whole second, so that the date says
        # exactly when, and find that moment on the monotonic clock the proxy stamps with.
        deadline = math.ceil(time.time()) + 3
        deadline_mono = time.monotonic() + (deadline - time.time())
        proxy.add_rule("status", path=manifest_path("dated"), status=429,
                       headers={"Retry-After": email.utils.formatdate(deadline, usegmt=True)})
        self.assertIsNone(self.pull("faults/dated"))
        self.assertPulled("faults/dated", t)
        gets = proxy.seen("GET", manifest_path("dated"))
        self.assertEqual(len(gets), 2)
        self.assertLess(gets[0]["time"], deadline_mono - 2)
        self.assertGreaterEqual(gets[1]["time"], deadline_mono - 0.05, "retried before the date")

    def test_stalled_transfer_is_retried_after_the_stall_timeout(self):
        t = truth["stall"]
        layer = t.layers[1]
        proxy.add_rule("stall", path=blob_path("stall", layer), after=200_000, seconds=30)
        started = time.monotonic()
        self.assertIsNone(self.pull("faults/stall"))
        self.assertLess(time.monotonic() - started, 25, "the stall was waited out, not cut")
        self.assertPulled("faults/stall", t)
        gets = proxy.seen("GET", blob_path("stall", layer))
        self.assertEqual([r["headers"].get("range") for r in gets], [None, "bytes=200000-"])
        self.assertGreaterEqual(gets[1]["time"] - gets[0]["time"], STALL_S - 0.5)

    def test_persistent_503_fails_after_the_attempts_with_the_registry_message(self):
        proxy.add_rule("status", path=manifest_path("small"), times=None, status=503,
                       headers={"Content-Type": "application/json"},
                       body='{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}')
        before = len(proxy.seen("GET", manifest_path("small")))
        failed = self.pull("faults/small")
        self.assertFailed(failed, "503", "down for maintenance", f"tried {ATTEMPTS} times")
        self.assertEqual(len(proxy.seen("GET", manifest_path("small"))) - before, ATTEMPTS)
        self.assertNotIn("faults/small", self.api.local_images())

    def test_dead_registry_fails_within_the_attempts_naming_it(self):
        host = f"127.0.0.1:{free_port()}"
        started = time.monotonic()
        failed = self.pull(f"{host}/team/app")
        self.assertFailed(failed, host, "connection refused", f"tried {ATTEMPTS} times")
        self.assertLess(time.monotonic() - started, 30)

    def test_oversized_manifest_and_config_are_refused(self):
        huge = b'{"schemaVersion":2,"x":"' + b"a" * (5 << 20) + b'"}'
        proxy.add_rule("status", path=manifest_path("small", "huge"), times=None, status=200,
                       headers={"Content-Type": OCI_MANIFEST}, body=huge)
        self.assertFailed(self.pull("faults/small", "huge"), "manifest", "larger than 4 MiB")
        t = truth["small"]
        proxy.add_rule("status", path=blob_path("small", t.config_digest), times=None,
                       status=200, body=huge)
        self.assertFailed(self.pull("faults/small"), t.config_digest, "larger than 4 MiB")

    def test_unknown_media_type_is_a_clear_error(self):
        proxy.add_rule("status", path=manifest_path("small", "odd"), times=None, status=200,
                       headers={"Content-Type": "application/vnd.example.thing.v1+json"},
                       body="{}")
        self.assertFailed(self.pull("faults/small", "odd"), "unsupported manifest media type",
                          "application/vnd.example.thing.v1+json")

    def test_index_without_our_platform_lists_what_it_has(self):
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 10,
             "platform": {"architecture": "s390x", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "2" * 64, "size": 10,
             "platform": {"architecture": "riscv64", "os": "linux"}}]}
        if HOST_ARCH in ("s390x", "riscv64"):
            self.skipTest("this host's platform is in the test index")
        proxy.add_rule("status", path=manifest_path("small", "exotic"), times=None, status=200,
                       headers={"Content-Type": OCI_INDEX}, body=json.dumps(index))
        self.assertFailed(self.pull("faults/small", "exotic"), f"no image for linux/{HOST_ARCH}",
                          "linux/s390x", "linux/riscv64")

    def test_by_digest_manifest_is_verified(self):
        t = truth["small"]
        other = truth["dated"]
        # The "registry" answers the digest we asked for with another image's manifest.
        proxy.add_rule("status", path=manifest_path("small", t.digest), times=None, status=200,
                       headers={"Content-Type": OCI_MANIFEST},
                       body=registry.client().manifest("faults/dated", other.digest)[3])
        failed = self.pull("faults/small", t.digest)
        self.assertFailed(failed, f"sent a manifest with digest {other.digest}")
        self.assertEqual(self.api.local_images().get("faults/small"), None)

    # --- remote_inspect -------------------------------------------------------------

    def remote_inspect(self, name, tag="latest"):
        return self.api.get(f"/api/v1/image/docker/{name}/{tag}/remote_inspect")

    def test_remote_inspect_answers_from_manifest_and_config(self):
        t = truth["inspect"]
        status, got = self.remote_inspect("faults/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["Architecture"], t.config["architecture"])
        self.assertEqual(got["Os"], t.config["os"])
        self.assertEqual(got["Created"], t.config["created"])
        for key, value in t.config["config"].items():
            self.assertEqual(got["Config"][key], value, key)
        self.assertEqual(got["RootFS"], {"Type": "layers", "Layers": t.config["rootfs"]["diff_ids"]})
        self.assertEqual(got["Size"], sum(layer["size"] for layer in t.manifest["layers"]))
        self.assertEqual(got["Digest"], t.digest)
        self.assertEqual(got["MediaType"], t.media_type)
        self.assertEqual({r["path"] for r in proxy.seen("GET", "/v2/faults/inspect/blobs/")},
                         {f"/v2/faults/inspect/blobs/{t.config_digest}"})
        self.assertFalse(set(t.layers) & self.wharfd.blob_digests(), "layers were downloaded")

    def test_remote_inspect_unknown_is_404_and_registry_failure_502(self):
        status, body = self.remote_inspect("faults/inspect", "no-such-tag")
        self.assertError(status, body, 404, mentions=["no-such-tag"])
        status, body = self.remote_inspect("faults/nothing-here")
        self.assertError(status, body, 404)
        proxy.add_rule("status", path=manifest_path("inspect", "broken"), times=None, status=503,
                       headers={"Content-Type": "application/json"},
                       body='{"errors":[{"code":"UNAVAILABLE","message":"backend gone"}]}')
        status, body = self.remote_inspect("faults/inspect", "broken")
        self.assertError(status, body, 502, mentions=["503", "UNAVAILABLE", "backend gone"])
        proxy.add_rule("status", path=manifest_path("inspect", "big"), times=None, status=200,
                       headers={"Content-Type": OCI_MANIFEST}, body=b"{" + b" " * (5 << 20) + b"}")
        status, body = self.remote_inspect("faults/inspect", "big")
        self.assertError(status, body, 502, mentions=["larger than 4 MiB"])


if __name__ == "__main__":
    unittest.main()
