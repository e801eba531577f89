"""Registries from the API, against real docker-registry processes.

A registry behind htpasswd (Basic) auth holds an image. Its credentials are added through
the API: the connection test passes every step and the download works without a restart;
a wrong password makes the test fail at the login step with the 401; deleting the entry
makes downloads fail again (the registry's 401: authentication required). An entry of the configuration file is listed with
source "config" and cannot be changed or deleted. A user who is not an admin reads the
settings but gets 403 on every write. Docker Hub mirrors set through the API take effect at
once (a mirror serving an image the dead Docker Hub cannot). A CA given as PEM makes a TLS
registry signed by it trusted at once, and removing it untrusted again. Passwords never appear in an
answer, an event or the wharfd log. Credentials also come from registries_file (refused at
start when others may read it) and from systemd's $CREDENTIALS_DIRECTORY/registries."""

import os
import stat
import tempfile
import threading
import unittest
from pathlib import Path

from api_client import ApiClient, EventStream
from certs import TestCA
from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd, free_port
from token_issuer import TokenIssuer

PASSWORD = "reg-pa55-" + os.urandom(6).hex()
WRONG_PASSWORD = "wrong-pa55-" + os.urandom(6).hex()
CONFIG_PASSWORD = "config-pa55-" + os.urandom(6).hex()
CONFIG_HOST = "config.registry.test:5000"
registry = None  # htpasswd, holds team/app
mirror = None  # open, holds library/mirrored (a Docker Hub name)
app = mirrored = None


def small_image(fx, repo):
    return fx.image(repo, ["latest"], [{f"/{repo.split('/')[-1]}": os.urandom(4000)}],
                    {"cmd": ["/bin/true"], "env": [f"REPO={repo}"]})


def setUpModule():
    global registry, mirror, app, mirrored
    registry = Registry(auth="htpasswd", user="puller", password=PASSWORD).start()
    try:
        with FixtureBuilder(registry) as fx:
            app = small_image(fx, "team/app")
        mirror = Registry().start()
        with FixtureBuilder(mirror) as fx:
            mirrored = small_image(fx, "library/mirrored")
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    for r in (mirror, registry):
        if r is not None:
            r.stop()


class RecordingClient(ApiClient):
    """An ApiClient that keeps every answer's body, to search them for passwords."""

    def __init__(self, base_url, answers):
        super().__init__(base_url)
        self.answers = answers

    def request(self, method, path, body=None, form=None, headers=None):
        r = super().request(method, path, body=body, form=form, headers=headers)
        self.answers.append(r.raw or b"")
        return r


class EventRecorder:
    """Reads GET /api/v1/events on a thread of its own until closed, keeping every line."""

    def __init__(self, api):
        self.stream = EventStream.of(api, timeout=600)
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for line in iter(self.stream.resp.fp.readline, b""):
                self.lines.append(line)
        except (OSError, ValueError):
            pass

    def close(self):
        self.stream.close()
        self.thread.join(timeout=10)
        return b"".join(self.lines)


class RegistriesApiTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.answers = []
        cls.dead_hub = f"http://127.0.0.1:{free_port()}"
        cls.dead_mirror = f"http://127.0.0.1:{free_port()}"
        cls.wharfd = cls.serve(Wharfd(cls.dead_hub, mirrors=[cls.dead_mirror], registries={
            CONFIG_HOST: {"username": "config-user", "password": CONFIG_PASSWORD}}))
        cls.api = RecordingClient(cls.wharfd.url, cls.answers)
        status, body = cls.api.login("admin", cls.wharfd.admin_password)
        assert status == 200, body
        cls.events = EventRecorder(cls.api)
        cls.name = f"{registry.host}/team/app"

    @classmethod
    def tearDownClass(cls):
        cls.events.close()
        super().tearDownClass()

    def entry(self, host):
        status, entries = self.api.get("/api/v1/registries")
        self.assertEqual(status, 200, entries)
        return {e["host"]: e for e in entries}.get(host)

    def download(self, name):
        self.assertEqual(self.api.download(name, "latest"), (200, {}))
        return self.api.wait_download(name, "latest", timeout=60)

    def forget(self, name):
        self.api.delete(f"/api/v1/image/local/docker/{name}")
        self.assertNotIn(name, self.api.local_images())

    def test_1_added_tested_used_refused_and_removed_without_restart(self):
        failed = self.download(self.name)
        self.assertIsNotNone(failed, "pulled without credentials")
        self.assertIn("authentication required", failed.get("error", ""))

        path = f"/api/v1/registries/{registry.host}"
        status, body = self.api.put(path, {"username": "puller", "password": PASSWORD})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"host": registry.host, "insecure": False, "ca": False,
                                "credentials": True, "username": "puller", "source": "api"})
        self.assertEqual(self.entry(registry.host), body)

        status, report = self.api.post(path + "/test")
        self.assertEqual(status, 200, report)
        self.assertEqual([s["step"] for s in report["steps"]],
                         ["ping", "challenge", "login", "read"], report)
        self.assertTrue(report["ok"], report)
        self.assertTrue(all(s["ok"] for s in report["steps"]), report)
        self.assertIn("Basic", report["steps"][1]["message"])
        self.assertIn("team/app", report["steps"][3]["message"])

        self.assertIsNone(self.download(self.name), "the API's credentials were not used")
        self.assertIn(self.name, self.api.local_images())

        # A wrong password: the test stops at the login step with the 401.
        status, body = self.api.put(path, {"username": "puller", "password": WRONG_PASSWORD})
        self.assertEqual(status, 200, body)
        status, report = self.api.post(path + "/test")
        self.assertEqual(status, 200, report)
        self.assertFalse(report["ok"], report)
        self.assertEqual([s["step"] for s in report["steps"]], ["ping", "challenge", "login"])
        self.assertEqual([s["ok"] for s in report["steps"]], [True, True, False])
        self.assertIn("401", report["steps"][2]["message"])

        # Without a password given, the same user keeps the stored one (here the wrong one).
        status, body = self.api.put(path, {"username": "puller", "password": PASSWORD})
        self.assertEqual(status, 200, body)
        status, body = self.api.put(path, {"username": "puller", "insecure": True})
        self.assertEqual((status, body["insecure"], body["credentials"]), (200, True, True))
        self.assertTrue(self.api.post(path + "/test")[1]["ok"])

        self.assertEqual(self.api.delete(path), (200, {}))
        self.assertIsNone(self.entry(registry.host))
        status, body = self.api.delete(path)
        self.assertError(status, body, 404, mentions=[registry.host])
        self.forget(self.name)
        failed = self.download(self.name)
        self.assertIsNotNone(failed, "pulled after the credentials were deleted")
        self.assertIn("authentication required", failed.get("error", ""))

    def test_2_bad_input_is_a_400_naming_the_field(self):
        for host, body, field in (
                ("bad_host", {}, "host"),
                ("x.example:99999", {}, "host"),
                ("x.example", {"password": "p"}, "password"),
                ("x.example", {"ca_pem": "not a certificate"}, "ca_pem"),
                ("x.example", {"insecure": "yes"}, "insecure"),
                ("x.example", {"username": 5}, "username"),
                ("x.example", {"passwort": "p"}, "passwort")):
            status, answer = self.api.put(f"/api/v1/registries/{host}", body)
            self.assertError(status, answer, 400, mentions=[field])
        self.assertIsNone(self.entry("x.example"))
        status, body = self.api.put("/api/v1/registries/docker.io/mirrors",
                                    {"mirrors": ["ftp://mirror.example"]})
        self.assertError(status, body, 400, mentions=["mirrors[0]"])
        status, body = self.api.put("/api/v1/registries/docker.io/mirrors", {"mirrors": "x"})
        self.assertError(status, body, 400, mentions=["mirrors"])

    def test_3_configuration_entries_are_shown_read_only(self):
        self.assertEqual(self.entry(CONFIG_HOST),
                         {"host": CONFIG_HOST, "insecure": False, "ca": False,
                          "credentials": True, "username": "config-user", "source": "config"})
        status, body = self.api.delete(f"/api/v1/registries/{CONFIG_HOST}")
        self.assertError(status, body, 409, mentions=["configuration file"])
        status, body = self.api.put(f"/api/v1/registries/{CONFIG_HOST}", {"username": "x"})
        self.assertError(status, body, 409, mentions=["configuration file"])
        self.assertEqual(self.entry(CONFIG_HOST)["username"], "config-user")

    def test_4_users_who_are_not_admins_read_but_never_write(self):
        self.wharfd.add_user("reader", "reader-pass-1")
        reader = RecordingClient(self.wharfd.url, self.answers)
        self.assertEqual(reader.login("reader", "reader-pass-1")[0], 200)
        status, entries = reader.get("/api/v1/registries")
        self.assertEqual(status, 200, entries)
        self.assertIn(CONFIG_HOST, [e["host"] for e in entries])
        self.assertEqual(reader.get("/api/v1/registries/docker.io/mirrors")[0], 200)
        for method, path, body in (
                ("PUT", f"/api/v1/registries/{registry.host}", {"username": "puller",
                                                                 "password": PASSWORD}),
                ("DELETE", f"/api/v1/registries/{CONFIG_HOST}", None),
                ("POST", f"/api/v1/registries/{registry.host}/test", None),
                ("PUT", "/api/v1/registries/docker.io/mirrors", {"mirrors": [mirror.url]})):
            status, answer = reader.call(method, path, body)
            self.assertError(status, answer, 403)
        self.assertIsNone(self.entry(registry.host))
        self.assertEqual(self.api.get("/api/v1/registries/docker.io/mirrors")[1]["mirrors"],
                         [{"url": self.dead_mirror, "source": "config"}])

    def test_5_mirrors_take_effect_at_once(self):
        path = "/api/v1/registries/docker.io/mirrors"
        self.assertIsNotNone(self.download("mirrored"), "pulled from a dead Docker Hub")
        status, body = self.api.put(path, {"mirrors": [mirror.url]})
        self.assertEqual(status, 200, body)
        expected = {"mirrors": [{"url": self.dead_mirror, "source": "config"},
                                {"url": mirror.url, "source": "api"}]}
        self.assertEqual(body, expected)
        self.assertEqual(self.api.get(path), (200, expected))
        self.assertIsNone(self.download("mirrored"), "the API's mirror was not used")
        self.forget("mirrored")
        status, body = self.api.put(path, {"mirrors": []})
        self.assertEqual((status, body), (200, {"mirrors": [{"url": self.dead_mirror,
                                                             "source": "config"}]}))
        self.assertIsNotNone(self.download("mirrored"), "the removed mirror is still used")

    def test_9_no_password_in_answers_events_or_log(self):
        # Runs last: the other tests' answers, events and log lines are in.
        self.api.put(f"/api/v1/registries/{registry.host}", {"username": "puller",
                                                             "password": WRONG_PASSWORD})
        self.api.post(f"/api/v1/registries/{registry.host}/test")
        self.api.get("/api/v1/registries")
        self.assertEqual(self.api.delete(f"/api/v1/registries/{registry.host}"), (200, {}))
        events = self.events.close()
        log = self.wharfd.full_log()
        self.assertIn(b"registry_put", log, "no audit line was written")
        self.assertIn(b"event: job", events, "the events of the downloads were not read")
        for secret in (PASSWORD, WRONG_PASSWORD, CONFIG_PASSWORD):
            self.assertNotIn(secret.encode(), log, "a password in the wharfd log")
            self.assertNotIn(secret.encode(), events, "a password in an event")
            for answer in self.answers:
                self.assertNotIn(secret.encode(), answer, "a password in an answer")
        self.assertGreater(len(self.answers), 30)


class CaFromTheApiTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.addClassCleanup(cls.ca.close)
        cert, key = cls.ca.issue("registry", ip="127.0.0.1")
        cls.registry = cls.serve(Registry(tls=(cert, key)))
        with FixtureBuilder(cls.registry) as fx:
            cls.app = small_image(fx, "secure/app")
        cls.wharfd = cls.serve(Wharfd("http://127.0.0.1:9"))
        cls.api = cls.wharfd.client()
        cls.name = f"{cls.registry.host}/secure/app"

    def download(self):
        self.assertEqual(self.api.download(self.name, "latest"), (200, {}))
        return self.api.wait_download(self.name, "latest", timeout=60)

    def test_a_pem_ca_is_trusted_at_once_and_dropped_at_once(self):
        path = f"/api/v1/registries/{self.registry.host}"
        failed = self.download()
        self.assertIsNotNone(failed, "pulled from an untrusted TLS registry")
        self.assertIn("certificate", failed.get("error", ""))
        pem = Path(self.ca.cert).read_text()
        status, body = self.api.put(path, {"ca_pem": pem})
        self.assertEqual((status, body.get("ca")), (200, True), body)
        status, report = self.api.post(path + "/test")
        self.assertTrue(report["ok"], report)
        self.assertIsNone(self.download(), "the CA given through the API was not trusted")
        self.api.delete(f"/api/v1/image/local/docker/{self.name}")
        self.assertEqual(self.api.delete(path), (200, {}))
        status, report = self.api.post(path + "/test")
        self.assertEqual([s["ok"] for s in report["steps"]], [False], report)
        self.assertIn("certificate", report["steps"][0]["message"])
        self.assertFalse(list(Path(self.wharfd.data_dir, "registries").glob("*.pem")))


class TokenRegistryTest(WharfTestCase):
    """A registry behind Bearer token auth, its token server on another port."""

    @classmethod
    def setUpClass(cls):
        cls.passwords = {u: f"{u}-{os.urandom(6).hex()}" for u in ("pusher", "alice")}
        cls.issuer = cls.serve(TokenIssuer({"pusher": (cls.passwords["pusher"], {"pull", "push"}),
                                            "alice": (cls.passwords["alice"], {"pull"})}))
        cls.registry = cls.serve(Registry(auth="token", token=cls.issuer.registry_auth("wharf"),
                                          user="pusher", password=cls.passwords["pusher"]))
        with FixtureBuilder(cls.registry) as fx:
            small_image(fx, "team/app")
        cls.wharfd = cls.serve(Wharfd("http://127.0.0.1:9"))
        cls.api = cls.wharfd.client()

    def test_credentials_never_go_to_a_token_server_on_another_port(self):
        # The issuer listens on another port than the registry: wharf sends no credentials
        # there, and the test says so at the login step.
        path = f"/api/v1/registries/{self.registry.host}"
        status, body = self.api.put(path, {"username": "alice",
                                           "password": self.passwords["alice"]})
        self.assertEqual(status, 200, body)
        report = self.api.post(path + "/test", {"repository": "team/app"})[1]
        self.assertEqual([(s["step"], s["ok"]) for s in report["steps"]],
                         [("ping", True), ("challenge", True), ("login", False)], report)
        self.assertIn("Bearer", report["steps"][1]["message"])
        self.assertIn("not sent to the token server", report["steps"][2]["message"])
        self.assertFalse(report["ok"])
        self.assertEqual([r for r in self.issuer.seen() if r["user"] == "alice"], [],
                         "alice's credentials went to a token server on another port")

        # Anonymously a token is obtained, but the repository cannot be read with it.
        self.assertEqual(self.api.delete(path), (200, {}))
        report = self.api.post(path + "/test", {"repository": "team/app"})[1]
        self.assertEqual([(s["step"], s["ok"]) for s in report["steps"]],
                         [("ping", True), ("challenge", True), ("login", True), ("read", False)],
                         report)
        self.assertIn("team/app/tags/list: 401", report["steps"][3]["message"])
        status, body = self.api.post(path + "/test", {"repository": "Team/App:1"})
        self.assertError(status, body, 400, mentions=["repository"])
        self.assertNotIn(self.passwords["alice"].encode(), self.wharfd.full_log())


def registries_toml(host, user, password):
    return f'[registries."{host}"]\nusername = "{user}"\npassword = "{password}"\n'


class RegistriesFileTest(WharfTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wharf-registries-file-")
        self.name = f"{registry.host}/team/app"

    def tearDown(self):
        for p in Path(self.dir).iterdir():
            p.unlink()
        os.rmdir(self.dir)

    def secrets_file(self, name, mode):
        path = Path(self.dir, name)
        path.write_text(registries_toml(registry.host, "puller", PASSWORD))
        path.chmod(mode)
        return str(path)

    def pulls_with_config_entry(self, wharfd):
        api = wharfd.client()
        status, entries = api.get("/api/v1/registries")
        self.assertEqual(status, 200, entries)
        self.assertIn({"host": registry.host, "insecure": False, "ca": False,
                       "credentials": True, "username": "puller", "source": "config"}, entries)
        self.assertEqual(api.download(self.name, "latest"), (200, {}))
        self.assertIsNone(api.wait_download(self.name, "latest", timeout=60))
        self.assertNotIn(PASSWORD.encode(), wharfd.full_log())

    def test_a_file_others_may_read_is_refused_at_start(self):
        path = self.secrets_file("registries.toml", 0o644)
        wharfd = Wharfd("http://127.0.0.1:9", top_toml=f'registries_file = "{path}"')
        try:
            with self.assertRaises(RuntimeError):
                wharfd.start(timeout=20)
            log = wharfd.full_log().decode(errors="replace")
            self.assertIn(path, log)
            self.assertIn("0644", log)
            self.assertNotIn(PASSWORD, log)
        finally:
            wharfd.stop()

    def test_a_private_file_is_used(self):
        path = self.secrets_file("registries.toml", 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with Wharfd("http://127.0.0.1:9", top_toml=f'registries_file = "{path}"') as wharfd:
            self.pulls_with_config_entry(wharfd)

    def test_systemd_credentials_directory_is_read(self):
        self.secrets_file("registries", 0o400)
        with Wharfd("http://127.0.0.1:9", env={"CREDENTIALS_DIRECTORY": self.dir}) as wharfd:
            self.pulls_with_config_entry(wharfd)


if __name__ == "__main__":
    unittest.main()
