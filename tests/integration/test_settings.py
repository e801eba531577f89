"""Users and disk usage from the API. Users: an admin adds a user, who logs in and changes
their own password (the current one required; every session of theirs ends); an admin
resets anyone's; the last admin cannot be removed; a user who is not an admin gets 403 on
every write and on the list; passwords never appear in an answer or the log. Disk usage:
two images sharing a base layer, the per-image unique bytes plus the shared bytes plus the
unreferenced ones add up to the store's total, and deleting an image frees exactly its
unique bytes."""

import os
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd

registry = None
truths = {}


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truths["a"], truths["b"] = fx.shared_pair()
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


class UsersTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.api = cls.wharfd.client()

    def login(self, name, password):
        api = self.wharfd.client(login=False)
        status, body = api.login(name, password)
        return api, status

    def test_add_login_change_password_and_sessions_end(self):
        status, body = self.api.post("/api/v1/users", {"username": "carol",
                                                       "password": "carol-pass-1"})
        self.assertEqual((status, body), (200, {"username": "carol", "admin": False}))
        status, body = self.api.post("/api/v1/users", {"username": "carol",
                                                       "password": "carol-pass-1"})
        self.assertError(status, body, 409, mentions=["exists"])
        for bad, mention in (({"username": "c a", "password": "carol-pass-1"}, "username"),
                             ({"username": "dan", "password": "short"}, "password")):
            status, body = self.api.post("/api/v1/users", bad)
            self.assertError(status, body, 400, mentions=[mention])
        users = self.api.get("/api/v1/users")[1]
        self.assertIn({"username": "carol", "admin": False}, users)
        self.assertIn({"username": "admin", "admin": True}, users)

        carol, status = self.login("carol", "carol-pass-1")
        self.assertEqual(status, 200)
        other, _ = self.login("carol", "carol-pass-1")
        # A user's own change needs the current password.
        status, body = carol.put("/api/v1/users/carol/password", {"password": "carol-pass-2"})
        self.assertError(status, body, 401, mentions=["current password"])
        status, body = carol.put("/api/v1/users/carol/password",
                                 {"current_password": "carol-pass-1", "password": "carol-pass-2"})
        self.assertEqual(status, 200, body)
        self.assertEqual(other.get("/api/v1/login_refresh")[0], 401, "old sessions end")
        self.assertEqual(self.login("carol", "carol-pass-1")[1], 401)
        carol, status = self.login("carol", "carol-pass-2")
        self.assertEqual(status, 200)
        # Not an admin: no list, no other user's password, no add, no remove.
        for method, path, body in (("GET", "/api/v1/users", None),
                                   ("POST", "/api/v1/users", {"username": "x", "password": "x" * 9}),
                                   ("PUT", "/api/v1/users/admin/password", {"password": "y" * 9}),
                                   ("DELETE", "/api/v1/users/admin", None)):
            status, answer = carol.call(method, path, body)
            self.assertError(status, answer, 403)
        # An admin resets anyone's password without the current one.
        status, body = self.api.put("/api/v1/users/carol/password", {"password": "carol-pass-3"})
        self.assertEqual(status, 200, body)
        self.assertEqual(carol.get("/api/v1/login_refresh")[0], 401)
        self.assertEqual(self.login("carol", "carol-pass-3")[1], 200)
        status, body = self.api.delete("/api/v1/users/carol")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.login("carol", "carol-pass-3")[1], 401)
        status, body = self.api.delete("/api/v1/users/carol")
        self.assertError(status, body, 404)
        log = self.wharfd.full_log()
        for secret in ("carol-pass-1", "carol-pass-2", "carol-pass-3"):
            self.assertNotIn(secret, str(log))
            self.assertNotIn(secret, str(self.api.get("/api/v1/users")[1]))

    def test_the_last_admin_stays(self):
        status, body = self.api.delete("/api/v1/users/admin")
        self.assertError(status, body, 409, mentions=["last admin"])
        self.api.post("/api/v1/users", {"username": "root2", "password": "root2-pass",
                                        "admin": True})
        root2, status = self.login("root2", "root2-pass")
        self.assertEqual(status, 200)
        status, body = root2.delete("/api/v1/users/root2")
        self.assertEqual(status, 200, body)  # admin remains
        self.assertEqual(self.api.get("/api/v1/users")[0], 200)


class DiskUsageTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.api = cls.wharfd.client()
        for truth in (truths["a"], truths["b"]):
            status, body = cls.api.download(truth.repo, "latest")
            assert (status, body) == (200, {}), body
        assert cls.api.wait_jobs([(t.repo, "latest") for t in truths.values()]) == \
            {(t.repo, "latest"): None for t in truths.values()}

    def df(self):
        status, body = self.api.get("/api/v1/system/df")
        self.assertEqual(status, 200, body)
        return body

    def test_unique_and_shared_bytes_add_up_and_a_delete_frees_the_unique(self):
        usage = self.df()
        by_name = {u["name"]: u for u in usage["images"]}
        a, b = by_name["team/base-a"], by_name["team/base-b"]
        self.assertGreater(a["shared_bytes"], 0)
        self.assertEqual(a["shared_bytes"], b["shared_bytes"])  # the same base layer
        self.assertEqual(a["stored_bytes"], a["shared_bytes"] + a["unique_bytes"])
        self.assertEqual(usage["unique_bytes"], sum(u["unique_bytes"] for u in usage["images"]))
        self.assertEqual(usage["total_bytes"], usage["unique_bytes"] + usage["shared_bytes"]
                         + usage["unreferenced_bytes"])
        self.assertEqual(a["unpacked_bytes"], truths["a"].size)
        blobs = os.path.join(self.wharfd.data_dir, "blobs", "sha256")
        on_disk = sum(os.path.getsize(os.path.join(blobs, n)) for n in self.wharfd.blob_files())
        self.assertEqual(usage["total_bytes"], on_disk)
        status, body = self.api.delete("/api/v1/image/local/docker/team/base-a")
        self.assertEqual(status, 200, body)
        after = self.df()
        self.assertEqual(usage["total_bytes"] - after["total_bytes"], a["unique_bytes"])
        [b_after] = after["images"]
        self.assertEqual(b_after["shared_bytes"], 0)
        self.assertEqual(b_after["unique_bytes"], b["stored_bytes"])


if __name__ == "__main__":
    unittest.main()
