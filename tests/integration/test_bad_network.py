"""Fault campaign against the network: 50 pulls through a proxy that cuts every blob
transfer at a random byte offset (and some of the resumed ones again), each verified;
a proxy that flips a byte of a layer; a config whose diff_ids do not match its layers.
A bad image is never listed and leaves nothing in the store."""

import hashlib
import json
import random
import unittest

from fixtures import OCI_MANIFEST, FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd
from proxy import FaultProxy

IMAGES = 5
ROUNDS = 10  # IMAGES x ROUNDS pulls, each from an empty store
LAYER = 384 * 1024


def push_blob(client, repo, data):
    """A monolithic blob upload; returns the digest."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, headers, body = client.request("POST", f"/v2/{repo}/blobs/uploads/")
    if status != 202:
        raise RuntimeError(f"upload start -> {status} {body[:200]!r}")
    location = headers["location"]
    sep = "&" if "?" in location else "?"
    status, _, body = client.request("PUT", f"{location}{sep}digest={digest}", body=data,
                                     headers={"Content-Type": "application/octet-stream"})
    if status != 201:
        raise RuntimeError(f"upload {digest} -> {status} {body[:200]!r}")
    return digest


class BadNetworkTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            cls.truth = {f"cuts/img{i}": fx.big(f"cuts/img{i}", size=LAYER)
                         for i in range(IMAGES)}
            cls.flipped = fx.big("bad/flipped", size=LAYER)
            liar = fx.big("bad/source", size=LAYER)
        cls._push_diff_id_liar(liar)
        cls.proxy = cls.serve(FaultProxy(cls.registry.host))
        cls.wharfd = cls.serve(Wharfd(cls.proxy.url, max_concurrent=3,
                                      downloads_toml="attempts = 10"))
        cls.api = cls.wharfd.client()

    @classmethod
    def _push_diff_id_liar(cls, t):
        """bad/liar: the layers of `t` under a config whose last diff_id is wrong."""
        client = cls.registry.client()
        config = json.loads(json.dumps(t.config))
        config["rootfs"]["diff_ids"][-1] = "sha256:" + hashlib.sha256(b"not it").hexdigest()
        raw_config = json.dumps(config).encode()
        manifest = json.loads(json.dumps(t.manifest))
        for desc in manifest["layers"]:
            status, _, body = client.request(
                "POST", f"/v2/bad/liar/blobs/uploads/?mount={desc['digest']}&from={t.repo}")
            assert status == 201, (status, body[:200])
        manifest["config"] = {"mediaType": manifest["config"]["mediaType"],
                              "digest": push_blob(client, "bad/liar", raw_config),
                              "size": len(raw_config)}
        manifest["mediaType"] = manifest.get("mediaType", OCI_MANIFEST)
        client.put_manifest("bad/liar", "latest", json.dumps(manifest).encode(),
                            manifest["mediaType"])
        cls.liar_layers = {d["digest"] for d in manifest["layers"]}

    def tearDown(self):
        self.proxy.clear_rules()

    def assertVerified(self, name):
        t = self.truth[name]
        status, got = self.api.get(f"/api/v1/image/docker/{name}/latest/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertTrue(t.blobs <= self.wharfd.blob_digests())

    def delete_all(self):
        for name in self.truth:
            status, body = self.api.delete(f"/api/v1/image/local/docker/{name}")
            self.assertIn(status, (200, 404), body)

    def test_fifty_pulls_through_random_cuts(self):
        sizes = {}  # blob digest -> size, for the cut offsets
        for t in self.truth.values():
            for desc in [t.manifest["config"], *t.manifest["layers"]]:
                sizes[desc["digest"]] = desc["size"]

        def offset(path, headers):
            """A random point inside what this GET would send."""
            size = sizes[path.rsplit("/", 1)[1]]
            start = int(headers.get("range", "bytes=0-")[6:].split("-")[0])
            return random.randrange(1, size - start) if size - start > 1 else size

        # Every first GET of a layer is cut after a random number of bytes, and a third of the
        # resumed GETs again; a third of the config GETs are cut too (a config is small and
        # fetched again whole).
        layers = "|".join(d for t in self.truth.values() for d in t.layers)
        configs = "|".join(t.config_digest for t in self.truth.values())
        self.proxy.add_rule("cut", path=rf"/blobs/({layers})$", times=None,
                            when=lambda h: "range" not in h, after=offset)
        self.proxy.add_rule("cut", path=rf"/blobs/({layers})$", times=None,
                            when=lambda h: "range" in h, after=offset, probability=0.33)
        self.proxy.add_rule("cut", path=rf"/blobs/({configs})$", times=None, after=offset,
                            probability=0.33)
        pulls = 0
        for _ in range(ROUNDS):
            for name in self.truth:
                self.assertEqual(self.api.download(name, "latest"), (200, {}))
            results = self.api.wait_jobs([(n, "latest") for n in self.truth], timeout=120)
            self.assertEqual({k: v for k, v in results.items() if v is not None}, {},
                             "every pull completes despite the cuts")
            for name in self.truth:
                self.assertVerified(name)
                pulls += 1
            self.delete_all()
            self.assertEqual(self.wharfd.blob_digests(), set(), "deletes leave an empty store")
        self.assertEqual(pulls, IMAGES * ROUNDS)
        resumes = self.proxy.seen("GET", r"/blobs/sha256:")
        ranged = [r for r in resumes if "range" in r["headers"]]
        print(f"\n{pulls} pulls, {len(resumes)} blob GETs, {len(ranged)} resumed with a Range")
        self.assertGreaterEqual(len(ranged), IMAGES * ROUNDS * 2,
                                "each layer was cut at least once and resumed")
        self.assertEqual(self.wharfd.settled_temp_files(), [])

    def test_a_flipped_byte_fails_the_job_and_leaves_nothing(self):
        t = self.flipped
        before = self.wharfd.blob_digests()
        layer = t.layers[1]
        self.proxy.add_rule("flip", path=rf"^/v2/bad/flipped/blobs/{layer}$", times=None,
                            after=LAYER // 2)
        self.assertEqual(self.api.download("bad/flipped", "latest"), (200, {}))
        failed = self.api.wait_download("bad/flipped", "latest", timeout=60)
        self.assertIsNotNone(failed, "a corrupted layer must fail the download")
        self.assertEqual(failed["status"], "failed")
        self.assertIn(f"digest mismatch for {layer}", failed["error"], failed)
        self.assertNotIn("bad/flipped", self.api.local_images())
        self.assertEqual(self.wharfd.blob_digests() - before, set(),
                         "nothing of the failed image stays in the store")
        self.assertEqual(self.wharfd.settled_temp_files(), [])

    def test_diff_ids_that_do_not_match_fail_the_job_and_leave_nothing(self):
        before = self.wharfd.blob_digests()
        self.assertEqual(self.api.download("bad/liar", "latest"), (200, {}))
        failed = self.api.wait_download("bad/liar", "latest", timeout=60)
        self.assertIsNotNone(failed, "a config lying about its layers must fail the download")
        self.assertRegex(failed["error"], r"layer sha256:\w+ unpacks to sha256:\w+ but the "
                                          r"image config expects", failed)
        self.assertNotIn("bad/liar", self.api.local_images())
        self.assertEqual(self.wharfd.blob_digests() - before, set())
        self.assertEqual(self.wharfd.settled_temp_files(), [])


if __name__ == "__main__":
    unittest.main()
