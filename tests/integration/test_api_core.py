"""Login, sessions, cookies, the 401 wall, input validation and the empty
local listing, against a real wharfd (nothing is downloaded here)."""

import re
import unittest

from harness import ApiClient, Registry, WharfTestCase, Wharfd

LOGIN_KEYS = {"anonymous", "isAdmin", "logintime", "username"}
LOGINTIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
SEED_DOWNLOAD_BODY = {
    "description": "I am description.",
    "location": "https://registry.hub.docker.com/u/lgsd/diamond/",
    "icon": "http://download.qnap.com/QPKG/images/QPKG/container_icon.png",
}

# Every image endpoint, as (method, path, body); all need a session.
IMAGE_ENDPOINTS = [
    ("GET", "/api/v1/image/?from=local", None),
    ("GET", "/api/v1/image/?category=local", None),
    ("GET", "/api/v1/image/docker/ubuntu/latest/inspect", None),
    ("GET", "/api/v1/image/docker/redis/latest/remote_inspect", None),
    ("GET", "/api/v1/image/dockerhub/docker/1/redis/tags", None),
    ("POST", "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download", SEED_DOWNLOAD_BODY),
    ("GET", "/api/v1/image/downloadstatus", None),
    ("DELETE", "/api/v1/image/local/docker/lgsd/diamond", None),
]

# (name, tag, which parameter is bad)
BAD_REFERENCES = [
    ("Ubuntu", "latest", "name"),
    ("lgsd/Diamond", "latest", "name"),
    ("lgsd/dia..mond", "latest", "name"),
    ("lgsd/../diamond", "latest", "name"),
    ("lgsd//diamond", "latest", "name"),
    ("lgsd/diamond/", "latest", "name"),
    ("-lgsd/diamond", "latest", "name"),
    ("a" * 256, "latest", "name"),
    ("lgsd/" + "b" * 300, "latest", "name"),
    ("lgsd/diamond", "lat!est", "tag"),
    ("lgsd/diamond", "-latest", "tag"),
    ("lgsd/diamond", ".latest", "tag"),
    ("lgsd/diamond", "t" * 129, "tag"),
    ("lgsd/diamond", "la%20test", "tag"),
]


class ApiCoreTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = Registry().start()
        try:
            cls.wharfd = Wharfd(cls.registry.url).start()
        except Exception:
            cls.registry.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()
        cls.registry.stop()

    def setUp(self):
        self.api = self.wharfd.client()

    def assertLoginAnswer(self, body):
        self.assertIsInstance(body, dict, body)
        self.assertTrue(LOGIN_KEYS <= set(body), body)
        self.assertIs(body["anonymous"], False)
        self.assertIs(body["isAdmin"], True)
        self.assertIsInstance(body["logintime"], str)
        self.assertRegex(body["logintime"], LOGINTIME)
        self.assertEqual(body["username"], "admin")

    # --- login, refresh, logout -------------------------------------------------

    def test_login_form_encoded(self):
        api = ApiClient(self.wharfd.url)
        status, body = api.login("admin", self.wharfd.admin_password, form=True)
        self.assertEqual(status, 200, body)
        self.assertLoginAnswer(body)

    def test_login_json(self):
        api = ApiClient(self.wharfd.url)
        status, body = api.login("admin", self.wharfd.admin_password, form=False)
        self.assertEqual(status, 200, body)
        self.assertLoginAnswer(body)
        self.assertEqual(api.get("/api/v1/image/?from=local")[0], 200)

    def test_login_wrong_password(self):
        api = ApiClient(self.wharfd.url)
        status, body = api.login("admin", self.wharfd.admin_password + "x")
        self.assertError(status, body, 401)
        self.assertEqual(len(api.jar), 0, "no session cookie after a failed login")
        self.assertError(*api.get("/api/v1/image/?from=local"), 401)

    def test_login_unknown_user(self):
        status, body = ApiClient(self.wharfd.url).login("nobody", self.wharfd.admin_password)
        self.assertError(status, body, 401)

    def test_login_refresh(self):
        status, body = self.api.get("/api/v1/login_refresh")
        self.assertEqual(status, 200, body)
        self.assertLoginAnswer(body)
        self.assertError(*ApiClient(self.wharfd.url).get("/api/v1/login_refresh"), 401)

    def test_logout_ends_session(self):
        status, body = self.api.put("/api/v1/logout")
        self.assertEqual(status, 200, body)
        self.assertEqual(body.get("username"), "admin", body)
        self.assertError(*self.api.get("/api/v1/login_refresh"), 401)
        self.assertError(*self.api.get("/api/v1/image/?from=local"), 401)

    def test_logout_does_not_end_other_sessions(self):
        other = self.wharfd.client()
        self.assertEqual(self.api.put("/api/v1/logout")[0], 200)
        self.assertEqual(other.get("/api/v1/image/?from=local")[0], 200)

    def test_session_cookie_attributes(self):
        api = ApiClient(self.wharfd.url)
        r = api.request("POST", "/api/v1/login",
                        form={"username": "admin", "password": self.wharfd.admin_password})
        self.assertEqual(r.status, 200, r.raw)
        cookies = r.headers.get_all("Set-Cookie") or []
        self.assertEqual(len(cookies), 1, cookies)
        attrs = [a.strip() for a in cookies[0].split(";")]
        name, _, value = attrs[0].partition("=")
        self.assertTrue(name and value, cookies[0])
        lowered = [a.lower() for a in attrs[1:]]
        self.assertIn("httponly", lowered, cookies[0])
        self.assertIn("samesite=strict", lowered, cookies[0])
        self.assertIn("path=/", lowered, cookies[0])

    # --- the 401 wall -----------------------------------------------------------

    def test_image_endpoints_need_a_session(self):
        anonymous = ApiClient(self.wharfd.url)
        for method, path, body in IMAGE_ENDPOINTS:
            with self.subTest(method=method, path=path):
                self.assertError(*anonymous.call(method, path, body), 401)

    def test_forged_cookie_is_rejected(self):
        forged = ApiClient(self.wharfd.url)
        for cookie in self.api.jar:
            r = forged.request("GET", "/api/v1/image/?from=local",
                               headers={"Cookie": f"{cookie.name}={cookie.value}x"})
            self.assertError(r.status, r.json, 401)

    def test_nothing_downloaded_without_session(self):
        ApiClient(self.wharfd.url).download("lgsd/diamond", "latest", meta=SEED_DOWNLOAD_BODY)
        self.assertEqual(self.api.download_jobs(), [])

    # --- validation -------------------------------------------------------------

    def test_bad_references_are_400(self):
        for name, tag, param in BAD_REFERENCES:
            paths = [
                ("POST", f"/api/v1/image/dockerhub/docker/{name}/{tag}/download"),
                ("GET", f"/api/v1/image/docker/{name}/{tag}/inspect"),
                ("GET", f"/api/v1/image/docker/{name}/{tag}/remote_inspect"),
                ("DELETE", f"/api/v1/image/local/docker/{name}:{tag}"),
            ]
            if param == "name":
                paths.append(("DELETE", f"/api/v1/image/local/docker/{name}"))
            for method, path in paths:
                with self.subTest(method=method, path=path[:120]):
                    status, body = self.api.call(method, path,
                                                 {} if method == "POST" else None)
                    self.assertError(status, body, 400, mentions=[param])
        self.assertEqual(self.api.download_jobs(), [], "a rejected download left a job")

    def test_bad_type_is_400(self):
        cases = [
            ("GET", "/api/v1/image/?type=vm"),
            ("GET", "/api/v1/image/?from=local&type=Docker"),
            ("POST", "/api/v1/image/dockerhub/rkt/lgsd/diamond/latest/download"),
            ("GET", "/api/v1/image/vm/lgsd/diamond/latest/inspect"),
            ("DELETE", "/api/v1/image/local/vm/lgsd/diamond"),
        ]
        for method, path in cases:
            with self.subTest(method=method, path=path):
                status, body = self.api.call(method, path, {} if method == "POST" else None)
                self.assertError(status, body, 400, mentions=["type"])

    def test_bad_depot_is_400(self):
        for query, param in [("from=nowhere", "from"), ("category=nowhere", "category"),
                             ("from=Local", "from"), ("category=local&from=bogus", "from")]:
            with self.subTest(query=query):
                status, body = self.api.get(f"/api/v1/image/?{query}")
                self.assertError(status, body, 400, mentions=[param])

    def test_download_from_unknown_depot_is_rejected(self):
        status, body = self.api.post(
            "/api/v1/image/nowhere/docker/lgsd/diamond/latest/download", {})
        self.assertIn(status, (400, 404), body)
        self.assertError(status, body, status)
        self.assertEqual(self.api.download_jobs(), [])

    def test_download_body_must_be_json_object(self):
        status, body = self.api.call(
            "POST", "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download",
            "{not json")
        self.assertError(status, body, 400)
        self.assertEqual(self.api.download_jobs(), [])

    # --- the empty local depot ------------------------------------------------

    def assertListing(self, body, depot, type_=""):
        expected = {"category": depot, "from": depot, "filter_text": "", "results": [],
                    "total_count": 0, "type": type_}
        self.assertIsInstance(body, dict, body)
        self.assertEqual({k: body.get(k) for k in expected}, expected)
        self.assertIsInstance(body["total_count"], int)

    def test_empty_local_listing(self):
        for query in ["?from=local", "?category=local", "", "?"]:
            with self.subTest(query=query):
                status, body = self.api.get(f"/api/v1/image/{query}")
                self.assertEqual(status, 200, body)
                self.assertListing(body, "local")

    def test_listing_type_is_echoed(self):
        for type_ in ["docker", "lxc", ""]:
            with self.subTest(type=type_):
                status, body = self.api.get(f"/api/v1/image/?from=local&type={type_}")
                self.assertEqual(status, 200, body)
                self.assertListing(body, "local", type_)

    def test_from_wins_over_category(self):
        status, body = self.api.get("/api/v1/image/?category=qnap&from=local")
        self.assertEqual(status, 200, body)
        self.assertListing(body, "local")

    def test_empty_downloadstatus(self):
        status, body = self.api.get("/api/v1/image/downloadstatus")
        self.assertEqual((status, body), (200, []))

    def test_absent_image(self):
        self.assertError(*self.api.delete("/api/v1/image/local/docker/lgsd/diamond"), 404,
                         message="Image not found: lgsd/diamond")
        status, body = self.api.get("/api/v1/image/docker/lgsd/diamond/latest/inspect")
        self.assertError(status, body, 404)


if __name__ == "__main__":
    unittest.main()
