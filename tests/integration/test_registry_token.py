"""Pulls from docker-registry behind Bearer token auth (`auth: token`), with tokens from
a loopback token issuer (token_issuer.py: HTTP Basic in, RS256 JWT signed with the
openssl CLI out, its certificate as the registry's rootcertbundle). Each registry and the
issuer are reached through one port (Front: /token to the issuer, the rest to the registry),
as a registry with its own token service is: wharf sends a registry's credentials only to a
realm on the registry's own host and port (test_wild_registries checks that another port
gets none).

Two registries trust the issuer: A (service wharf-a) and B (service wharf-b), B serving
A's storage, so the same images are reachable under two hosts with two accounts:
wharfd has alice's credentials for A and bob's for B. The fixtures are pushed to A by
the issuer's `pusher` account (pull and push); alice and bob may only pull.

Asserted: the pull and its Id; one token per (host, scope), reused by later pulls of
other tags, remote_inspect and the tag list until shortly before expires_in ends, then
asked again; a cached token the registry comes to refuse is replaced by one fresh token;
each host's credentials reach the issuer only for that host's service (and
none when wharfd has no credentials for the host); a wrong password fails the job with
the issuer's 401, asked once, leaving nothing behind."""

import http.client
import os
import time
import unittest
from http.server import BaseHTTPRequestHandler

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd
from support import serve_http, stop_http
from token_issuer import TokenIssuer

PASSWORDS = {user: f"{user}-{os.urandom(6).hex()}"
             for user in ("pusher", "alice", "bob", "carol")}


class Front:
    """A registry and its token server on one port, as a registry that issues its own tokens
    has them: /token goes to the issuer, the rest to `target` (a Registry). wharf sends a
    registry's credentials only to a token realm on the registry's own host and port."""

    def __init__(self, issuer):
        self.issuer = issuer
        self.target = None
        self.server = None

    @property
    def host(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def auth(self, service):
        """The registry's `auth: token:` settings, its realm on this front."""
        return dict(self.issuer.registry_auth(service), realm=f"http://{self.host}/token")

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                to = owner.issuer.host if self.path.startswith("/token") else owner.target.host
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection")}
                conn = http.client.HTTPConnection(to, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    got = conn.getresponse()
                    data = got.read()
                    self.send_response(got.status)
                    for k, v in got.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(k, v)
                    length = got.getheader("Content-Length") if self.command == "HEAD" else None
                    self.send_header("Content-Length", length or str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        self.server = serve_http(Handler)
        return self

    def stop(self):
        if self.server:
            stop_http(self.server)
            self.server = None


def scope(repo):
    return f"repository:{repo}:pull"


def brief(records):
    """Token requests without their tokens, for failure messages."""
    return [(r["service"], r["scopes"], r["user"], r["status"]) for r in records]


def image(fx, repo, tags, seed):
    return fx.image(repo, list(tags),
                    [{f"/{seed}": os.urandom(3000)}, {"/etc/conf": seed.encode()}],
                    {"cmd": [f"/{seed}"], "env": [f"SEED={seed}"]},
                    local_tag=f"{repo.replace('/', '-')}-{seed}")


class TokenAuthTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.issuer = cls.serve(TokenIssuer({
            "pusher": (PASSWORDS["pusher"], {"pull", "push"}),
            "alice": (PASSWORDS["alice"], {"pull"}),
            "bob": (PASSWORDS["bob"], {"pull"}),
            "carol": (PASSWORDS["carol"], {"pull"})}))
        cls.front_a = cls.serve(Front(cls.issuer))
        cls.front_b = cls.serve(Front(cls.issuer))
        cls.reg_a = cls.serve(Registry(auth="token", token=cls.front_a.auth("wharf-a"),
                                       user="pusher", password=PASSWORDS["pusher"]))
        cls.truth = {}
        with FixtureBuilder(cls.reg_a) as fx:
            cls.truth["app"] = image(fx, "team/app", ["latest"], "app")
            cls.truth["cache:one"] = image(fx, "team/cache", ["one"], "one")
            cls.truth["cache:two"] = image(fx, "team/cache", ["two"], "two")
            cls.truth["expiry"] = image(fx, "team/expiry", ["latest"], "expiry")
            cls.truth["inspect"] = image(fx, "team/inspect", ["latest", "1.0"], "inspect")
            image(fx, "team/private", ["latest"], "private")  # for the failing pulls
        cls.issuer.clear()  # from here on, every token request is wharfd's
        cls.front_a.target = cls.reg_a
        cls.reg_b = cls.serve(Registry(auth="token", token=cls.front_b.auth("wharf-b"),
                                       user="pusher", password=PASSWORDS["pusher"],
                                       storage=os.path.join(cls.reg_a.dir, "storage")))
        cls.front_b.target = cls.reg_b
        cls.wharfd = cls.serve(Wharfd("http://127.0.0.1:9", registries={
            cls.front_a.host: {"username": "alice", "password": PASSWORDS["alice"]},
            cls.front_b.host: {"username": "bob", "password": PASSWORDS["bob"]}}))
        cls.api = cls.wharfd.client()

    def pull(self, name, tag="latest", api=None):
        api = api or self.api
        self.assertEqual(api.download(name, tag), (200, {}))
        return api.wait_download(name, tag, timeout=60)

    def assertPulled(self, name, tag, t):
        local = self.api.local_images()
        self.assertIn(name, local, sorted(local))
        self.assertIn(tag, local[name]["tags"])
        status, got = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertIn(f"{name}@{t.digest}", got["RepoDigests"])
        self.assertTrue(t.blobs <= self.wharfd.blob_digests())

    def assertNoSecretsLogged(self, wharfd):
        log = wharfd.log()
        for user, password in PASSWORDS.items():
            self.assertNotIn(password, log, f"{user}'s password in the wharfd log")
        for r in self.issuer.seen():
            if r["token"]:
                self.assertNotIn(r["token"], log, "a bearer token in the wharfd log")

    def start_wharfd(self, registries):
        """A second wharfd for one test, stopped when it ends; its log is shown on failure."""
        wharfd = Wharfd("http://127.0.0.1:9", registries=registries).start()
        self.addCleanup(wharfd.stop)
        self.wharfd = wharfd  # this test's instance only: run() prints its log on failure
        return wharfd, wharfd.client()

    # --- pulls --------------------------------------------------------------------

    def test_pull_with_a_token_from_the_issuer(self):
        name = f"{self.front_a.host}/team/app"
        self.assertIsNone(self.pull(name))
        self.assertPulled(name, "latest", self.truth["app"])
        self.assertEqual(self.api.local_images()[name]["size"], [self.truth["app"].size])
        asked = self.issuer.seen(scope("team/app"), "wharf-a")
        self.assertEqual(len(asked), 1, brief(asked))
        self.assertEqual(asked[0]["scopes"], [scope("team/app")], "wharf asks for pull only")
        self.assertEqual((asked[0]["user"], asked[0]["password_ok"], asked[0]["status"]),
                         ("alice", True, 200))
        self.assertNoSecretsLogged(self.wharfd)

    def test_token_is_reused_for_the_repository_until_it_expires(self):
        name = f"{self.front_a.host}/team/cache"
        self.assertIsNone(self.pull(name, "one"))
        self.assertEqual(len(self.issuer.seen(scope("team/cache"), "wharf-a")), 1,
                         brief(self.issuer.seen()))
        # Another tag, remote_inspect and the tag list need the same scope: no new token.
        self.assertIsNone(self.pull(name, "two"))
        self.assertPulled(name, "one", self.truth["cache:one"])
        self.assertPulled(name, "two", self.truth["cache:two"])
        status, got = self.api.get(f"/api/v1/image/docker/{name}/two/remote_inspect")
        self.assertEqual((status, got.get("Id")), (200, self.truth["cache:two"].id), got)
        status, got = self.api.get(f"/api/v1/image/dockerhub/docker/0/{name}/tags")
        self.assertEqual(status, 200, got)
        self.assertEqual(sorted(got["tags"]), ["one", "two"])
        self.assertEqual(len(self.issuer.seen(scope("team/cache"), "wharf-a")), 1,
                         brief(self.issuer.seen(scope("team/cache"), "wharf-a")))

    def test_token_is_asked_again_once_it_expires(self):
        # wharf keeps a token for expires_in less min(10 s, half of it): 6 s -> 3 s.
        self.addCleanup(setattr, self.issuer, "expires_in", self.issuer.expires_in)
        self.issuer.expires_in = 6
        path = f"/api/v1/image/docker/{self.front_a.host}/team/expiry/latest/remote_inspect"
        for expected_tokens in (1, 1, "sleep", 2):
            if expected_tokens == "sleep":
                time.sleep(3.3)
                continue
            status, got = self.api.get(path)
            self.assertEqual((status, got.get("Id")), (200, self.truth["expiry"].id), got)
            self.assertEqual(len(self.issuer.seen(scope("team/expiry"), "wharf-a")),
                             expected_tokens,
                             brief(self.issuer.seen(scope("team/expiry"), "wharf-a")))

    def test_remote_inspect_through_token_auth(self):
        t = self.truth["inspect"]
        name = f"{self.front_a.host}/team/inspect"
        status, got = self.api.get(f"/api/v1/image/docker/{name}/1.0/remote_inspect")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["Digest"], t.digest)
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertEqual(got["Config"]["Env"], t.config["config"]["Env"])
        self.assertNotIn(name, self.api.local_images())
        self.assertFalse(set(t.layers) & self.wharfd.blob_digests(), "layers were downloaded")
        asked = self.issuer.seen(scope("team/inspect"), "wharf-a")
        self.assertEqual([(r["service"], r["user"]) for r in asked], [("wharf-a", "alice")])

    def test_cached_token_the_registry_refuses_is_replaced_once(self):
        # Registry C serves A's storage. Restarted on its port under another service name,
        # it refuses the token wharf cached (wrong audience) and challenges for the new
        # service: wharf asks the issuer once for a fresh token and carries on with it.
        front_c = Front(self.issuer).start()
        self.addCleanup(front_c.stop)
        reg_c = Registry(auth="token", token=front_c.auth("wharf-c"),
                         user="pusher", password=PASSWORDS["pusher"],
                         storage=os.path.join(self.reg_a.dir, "storage")).start()
        self.addCleanup(reg_c.stop)
        front_c.target = reg_c
        wharfd, api = self.start_wharfd({front_c.host: {"username": "carol",
                                                      "password": PASSWORDS["carol"]}})
        path = f"/api/v1/image/docker/{front_c.host}/team/inspect/latest/remote_inspect"
        asked = {}
        for step in ("first", "cached", "restart", "refreshed", "cached again"):
            if step == "restart":
                reg_c.stop()
                reg_c.token = front_c.auth("wharf-c2")
                reg_c.start()
                continue
            status, got = api.get(path)
            self.assertEqual((status, got.get("Id")), (200, self.truth["inspect"].id),
                             f"{step}: {got}")
            asked[step] = [(r["service"], r["user"], r["status"])
                           for r in self.issuer.seen(scope("team/inspect"))
                           if r["service"] in ("wharf-c", "wharf-c2")]
        self.assertEqual(asked["first"], [("wharf-c", "carol", 200)])
        self.assertEqual(asked["cached"], asked["first"])
        self.assertEqual(asked["refreshed"], asked["first"] + [("wharf-c2", "carol", 200)])
        self.assertEqual(asked["cached again"], asked["refreshed"])
        self.assertNoSecretsLogged(wharfd)

    # --- whose credentials go where -------------------------------------------------

    def test_each_host_gets_a_token_with_its_own_credentials(self):
        name = f"{self.front_b.host}/team/app"
        self.assertIsNone(self.pull(name))
        self.assertPulled(name, "latest", self.truth["app"])
        # B is another host: a token of its own, though A's for this scope may be cached.
        asked = self.issuer.seen(scope("team/app"), "wharf-b")
        self.assertEqual([(r["user"], r["status"]) for r in asked], [("bob", 200)])
        for r in self.issuer.seen():
            if r["user"] in ("alice", "bob"):
                self.assertEqual(r["service"], {"alice": "wharf-a", "bob": "wharf-b"}[r["user"]],
                                 f"{r['user']}'s credentials went with a token request for "
                                 f"another registry: {brief([r])}")
        self.assertNoSecretsLogged(self.wharfd)

    def test_credentials_of_another_host_are_not_sent(self):
        # This wharfd has credentials for B only: A's tokens are asked anonymously, get no
        # access, and A refuses them.
        wharfd, api = self.start_wharfd({self.front_b.host: {"username": "bob",
                                                           "password": PASSWORDS["bob"]}})
        before = len(self.issuer.seen(service="wharf-a"))
        name = f"{self.front_a.host}/team/private"
        failed = self.pull(name, api=api)
        self.assertIsNotNone(failed, "pulled from a token registry without credentials")
        error = failed.get("error") or ""
        self.assertIn("401", error)
        self.assertIn(self.front_a.host, error)
        asked = self.issuer.seen(service="wharf-a")[before:]
        self.assertTrue(asked, "no token was asked for A")
        self.assertEqual({(r["user"], r["status"]) for r in asked}, {(None, 200)},
                         f"credentials went to the issuer for a host they are not for: "
                         f"{brief(asked)}")
        self.assertNotIn(name, api.local_images())
        self.assertEqual(wharfd.blob_digests(), set())

    def test_wrong_password_fails_with_the_issuers_401(self):
        wrong = PASSWORDS["alice"] + "-wrong"
        wharfd, api = self.start_wharfd({self.front_a.host: {"username": "alice",
                                                           "password": wrong}})
        before = len(self.issuer.seen())
        name = f"{self.front_a.host}/team/private"
        started = time.monotonic()
        failed = self.pull(name, api=api)
        self.assertIsNotNone(failed, "pulled with a wrong password")
        self.assertEqual(failed["status"], "failed")
        error = failed.get("error") or ""
        for word in ("401", "invalid username or password", self.front_a.host):
            self.assertIn(word, error)
        self.assertNotIn(wrong, error)
        self.assertNotIn(wrong, wharfd.log())
        self.assertLess(time.monotonic() - started, 20)
        asked = self.issuer.seen()[before:]
        # A refusal is final: the issuer is not asked again and again with a bad password.
        self.assertEqual([(r["user"], r["password_ok"], r["status"]) for r in asked],
                         [("alice", False, 401)])
        self.assertNotIn(name, api.local_images())
        self.assertEqual(wharfd.blob_digests(), set())
        self.assertEqual(wharfd.settled_temp_files(), [])


if __name__ == "__main__":
    unittest.main()
