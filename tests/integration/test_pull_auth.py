"""Pulls from a registry behind htpasswd (Basic) auth, with the credentials
wharfd's config gives for that host, and without them."""

import os
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd

registry = None
app = None


def setUpModule():
    global registry, app
    registry = Registry(auth="htpasswd", user="puller", password="pa55-" + os.urandom(6).hex())
    registry.start()
    try:
        with FixtureBuilder(registry) as fx:
            app = fx.image("team/app", ["latest"], [{"/app/bin": os.urandom(4000)},
                                                     {"/app/conf": b"x=1\n"}],
                           {"cmd": ["/app/bin"], "env": ["APP=1"]})
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


class AuthenticatedPullTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.name = f"{registry.host}/team/app"
        cls.wharfd = Wharfd(registry.url, registries={
            registry.host: {"username": registry.user, "password": registry.password}}).start()
        cls.api = cls.wharfd.client()

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()

    def test_pull_with_configured_credentials(self):
        self.assertEqual(self.api.download(self.name, "latest"), (200, {}))
        self.assertIsNone(self.api.wait_download(self.name, "latest", timeout=60))
        local = self.api.local_images()
        self.assertIn(self.name, local, sorted(local))
        self.assertEqual(local[self.name]["tags"], ["latest"])
        self.assertEqual(local[self.name]["size"], [app.size])
        status, got = self.api.get(f"/api/v1/image/docker/{self.name}/latest/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], app.id)
        self.assertEqual(got["RootFS"]["Layers"], app.config["rootfs"]["diff_ids"])
        self.assertIn(f"{self.name}:latest", got["RepoTags"])
        self.assertIn(f"{self.name}@{app.digest}", got["RepoDigests"])
        self.assertTrue(app.blobs <= self.wharfd.blob_digests())
        self.assertNotIn(registry.password, self.wharfd.log(), "registry password in the log")

    def test_remote_inspect_with_configured_credentials(self):
        status, got = self.api.get(f"/api/v1/image/docker/{self.name}/latest/remote_inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], app.id)


class MissingCredentialsTest(WharfTestCase):
    """Without credentials, or with a wrong password, the job fails and says why."""

    def check_fails(self, registries):
        wharfd = Wharfd(registry.url, registries=registries).start()
        self.wharfd = wharfd
        try:
            api = wharfd.client()
            name = f"{registry.host}/team/app"
            self.assertEqual(api.download(name, "latest"), (200, {}))
            failed = api.wait_download(name, "latest", timeout=60)
            self.assertIsNotNone(failed, "download succeeded without valid credentials")
            self.assertEqual(failed["status"], "failed")
            error = failed.get("error") or ""
            self.assertTrue(any(w in error.lower() for w in
                                ("401", "unauthorized", "authentication")),
                            f"error does not say why: {error!r}")
            self.assertNotIn(registry.password, error)
            self.assertNotIn(name, api.local_images())
            self.assertEqual(wharfd.blob_digests() & set(app.layers), set())
            self.assertEqual(wharfd.settled_temp_files(), [])
        finally:
            wharfd.stop()

    def test_no_credentials(self):
        self.check_fails({})

    def test_wrong_password(self):
        self.check_fails({registry.host: {"username": registry.user,
                                          "password": registry.password + "-wrong"}})


if __name__ == "__main__":
    unittest.main()
