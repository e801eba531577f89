"""TLS and mirrors against real docker-registry processes.

TLS: a registry serving https with a certificate from a test CA made with the
openssl CLI; the pull fails, naming the host and the certificate problem, until
the CA is configured as that registry's ca_file.

Mirrors: a docker-registry in proxy (pull-through cache) mode in front of a second
docker-registry playing Docker Hub. The first pull through the mirror fills its
cache; once the upstream is stopped, the image (deleted locally first) still pulls
through the mirror. A dead first mirror falls through to the next one, or to the
registry."""

import os
import time
import unittest
from pathlib import Path

from certs import TestCA
from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd, free_port, wait_until


def small_image(fx, repo, tag="latest"):
    return fx.image(repo, [tag], [{f"/{repo.split('/')[-1]}": os.urandom(5000)},
                                  {"/etc/conf": os.urandom(100)}],
                    {"cmd": ["/bin/true"], "env": [f"REPO={repo}"]})


class PullMixin:
    def pull_ok(self, api, name, t, tag="latest"):
        self.assertEqual(api.download(name, tag), (200, {}))
        failed = api.wait_download(name, tag, timeout=60)
        self.assertIsNone(failed, f"pull of {name}:{tag} failed: {failed}")
        status, got = api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], t.id)

    def delete(self, api, name):
        self.assertEqual(api.delete(f"/api/v1/image/local/docker/{name}"), (200, {}))
        self.assertNotIn(name, api.local_images())


class TlsTest(PullMixin, WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cert, key = cls.ca.issue("registry", ip="127.0.0.1")
        cls.registry = Registry(tls=(cert, key)).start()
        try:
            with FixtureBuilder(cls.registry) as fx:
                cls.app = small_image(fx, "secure/app")
        except Exception:
            cls.registry.stop()
            cls.ca.close()
            raise
        cls.name = f"{cls.registry.host}/secure/app"

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()
        cls.ca.close()

    def test_pull_fails_without_the_ca_naming_the_host(self):
        self.wharfd = Wharfd("http://127.0.0.1:9").start()
        try:
            api = self.wharfd.client()
            self.assertEqual(api.download(self.name, "latest"), (200, {}))
            failed = api.wait_download(self.name, "latest", timeout=60)
            self.assertIsNotNone(failed, "pulled from an untrusted TLS registry")
            error = failed.get("error") or ""
            for word in (self.registry.host, "certificate", "ca_file"):
                self.assertIn(word, error)
            self.assertNotIn("tried", error, "a certificate failure is not worth retrying")
            status, body = api.get(f"/api/v1/image/docker/{self.name}/latest/remote_inspect")
            self.assertError(status, body, 502, mentions=[self.registry.host, "certificate"])
            self.assertNotIn(self.name, api.local_images())
        finally:
            self.wharfd.stop()

    def test_pull_works_with_the_ca_file(self):
        self.wharfd = Wharfd("http://127.0.0.1:9", registries={
            self.registry.host: {"ca_file": self.ca.cert}}).start()
        try:
            self.pull_ok(self.wharfd.client(), self.name, self.app)
            self.assertTrue(self.app.blobs <= self.wharfd.blob_digests())
        finally:
            self.wharfd.stop()

    def test_a_ca_that_did_not_sign_it_is_refused(self):
        with TestCA("another CA") as other:
            self.wharfd = Wharfd("http://127.0.0.1:9", registries={
                self.registry.host: {"ca_file": other.cert}}).start()
            try:
                api = self.wharfd.client()
                self.assertEqual(api.download(self.name, "latest"), (200, {}))
                failed = api.wait_download(self.name, "latest", timeout=60)
                self.assertIsNotNone(failed)
                self.assertIn(other.cert, failed.get("error") or "")
            finally:
                self.wharfd.stop()


def mirror_has(mirror, digests):
    """True once the proxy registry's storage holds every blob in `digests` (it
    caches in the background after serving)."""
    root = Path(mirror.dir, "storage", "docker", "registry", "v2", "blobs", "sha256")
    return all((root / d[7:9] / d[7:] / "data").is_file() for d in digests)


class MirrorTest(PullMixin, WharfTestCase):
    """Test names are ordered: the upstream is stopped in test_3."""

    @classmethod
    def setUpClass(cls):
        cls.upstream = Registry().start()
        cls.mirror = None
        try:
            with FixtureBuilder(cls.upstream) as fx:
                cls.cached = small_image(fx, "library/cached")
                cls.direct = small_image(fx, "team/direct")
            cls.mirror = Registry(extra_config=[
                "proxy:", f"  remoteurl: {cls.upstream.url}"]).start()
        except Exception:
            cls.tearDownClass()
            raise
        cls.dead = f"http://127.0.0.1:{free_port()}"

    @classmethod
    def tearDownClass(cls):
        if cls.mirror:
            cls.mirror.stop()
        cls.upstream.stop()

    def wharfd_with(self, mirrors):
        self.wharfd = Wharfd(self.upstream.url, mirrors=mirrors).start()
        return self.wharfd.client()

    def test_1_first_pull_through_the_mirror_fills_its_cache(self):
        api = self.wharfd_with([self.mirror.url])
        try:
            self.pull_ok(api, "cached", self.cached)
            wait_until(lambda: mirror_has(self.mirror, self.cached.blobs - {self.cached.digest}),
                       20, "the mirror to cache the image's blobs")
        finally:
            self.wharfd.stop()

    def test_2_dead_mirror_falls_through_to_the_registry(self):
        api = self.wharfd_with([self.dead])
        try:
            self.pull_ok(api, "team/direct", self.direct)
            self.assertIn(self.dead[7:], self.wharfd.log(), "the dead mirror was not tried")
        finally:
            self.wharfd.stop()

    def test_3_with_the_upstream_stopped_the_mirror_still_serves(self):
        if not mirror_has(self.mirror, self.cached.blobs - {self.cached.digest}):
            self.skipTest("needs test_1's cached image")
        self.upstream.proc.terminate()
        self.upstream.proc.wait(timeout=10)
        # A dead mirror first: it falls through to the live one.
        api = self.wharfd_with([self.dead, self.mirror.url])
        try:
            self.pull_ok(api, "cached", self.cached)
            self.delete(api, "cached")
            self.pull_ok(api, "cached", self.cached)
            status, got = api.get("/api/v1/image/docker/cached/latest/remote_inspect")
            self.assertEqual(status, 200, got)
            self.assertEqual(got["Digest"], self.cached.digest)
            # And nothing else can have served it: the registry itself is down.
            self.assertEqual(api.download("team/direct", "latest"), (200, {}))
            failed = api.wait_download("team/direct", "latest", timeout=60)
            self.assertIsNotNone(failed, "team/direct cannot be pulled: it was never cached")
            self.assertIn(self.upstream.host, failed.get("error") or "")
        finally:
            self.wharfd.stop()


if __name__ == "__main__":
    unittest.main()
