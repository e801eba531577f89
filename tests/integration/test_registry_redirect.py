"""Blob redirects, as registries backed by object storage or a CDN answer blob GETs.

A recording HTTP front (port A) forwards every request to a docker-registry behind
htpasswd Basic auth, except blob GETs, which it redirects (307 or 302) to a "blob host"
(port B, standing in for S3: a presigned-style URL whose query carries a signature it
checks). The blob host records every request and serves the blob bytes, which it fetches
from the registry with its own credentials. wharfd knows the front as the registry, with
Basic credentials for it.

Asserted: the pull succeeds and verifies (listing, inspect Id, diff_ids, blobs stored);
every blob went through the blob host with the signature intact and none of its requests
carried Authorization, while the front's did; a redirect loop (blob host back to the
front, or the front to itself) fails the job in bounded time with an error about
redirects that does not leak the signature."""

import base64
import http.client
import os
import re
import secrets
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd, serve_http, stop_http

ATTEMPTS = 3
BLOB_PATH = re.compile(r"^/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _RecordingServer:
    """A threaded HTTP/1.0 server on a free loopback port whose handle(handler, method)
    answers each request with answer(); every request is recorded ({"method", "path",
    "headers" with lower-case names, "status"})."""

    def __init__(self):
        self.requests = []
        self._lock = threading.Lock()
        self._server = None

    @property
    def host(self):
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self):
        return f"http://{self.host}"

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner._dispatch(self, "GET")

            def do_HEAD(self):
                owner._dispatch(self, "HEAD")

        self._server = serve_http(Handler)
        return self

    def stop(self):
        if self._server:
            stop_http(self._server)
            self._server = None

    def _dispatch(self, handler, method):
        record = {"method": method, "path": handler.path,
                  "headers": {k.lower(): v for k, v in handler.headers.items()},
                  "status": None}
        handler.record = record  # answer() fills in the status before the first byte goes
        with self._lock:
            self.requests.append(record)
        self.handle(handler, method)

    def seen(self, path=""):
        pattern = re.compile(path)
        with self._lock:
            return [r for r in self.requests if pattern.search(r["path"])]

    @staticmethod
    def answer(handler, status, headers=(), body=b"", method="GET"):
        handler.record["status"] = status
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(body)
        return status


class RedirectingFront(_RecordingServer):
    """Forwards requests to `registry_host`, but answers blob GETs with `policy(repo,
    path)` when that gives (status, location)."""

    def __init__(self, registry_host, policy):
        super().__init__()
        self.registry_host = registry_host
        self.policy = policy

    def handle(self, handler, method):
        match = BLOB_PATH.match(urllib.parse.urlsplit(handler.path).path)
        redirect = self.policy(match["repo"], handler.path) if match and method == "GET" else None
        if redirect:
            status, location = redirect
            return self.answer(handler, status, [("Location", location)])
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in HOP_HEADERS | {"host"}}
        conn = http.client.HTTPConnection(self.registry_host, timeout=30)
        try:
            conn.request(method, handler.path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        return self.answer(handler, resp.status,
                           [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_HEADERS],
                           body, method)


class BlobHost(_RecordingServer):
    """Serves GET /store/REPO/blobs/DIGEST?X-Amz-Signature=SIG (403 for another SIG) with
    the registry's bytes, read with the registry's own credentials. Repositories whose
    name ends in "loop" are sent back to `loop_to` + /v2/REPO/blobs/DIGEST instead."""

    def __init__(self, registry):
        super().__init__()
        self.client = registry.client()
        self.signature = secrets.token_hex(16)
        self.loop_to = None

    def location(self, registry_path):
        """Where the front sends a blob GET of registry path /v2/REPO/blobs/DIGEST."""
        return (f"{self.url}/store{registry_path[len('/v2'):]}?X-Amz-Expires=300"
                f"&X-Amz-Signature={self.signature}")

    def handle(self, handler, method):
        url = urllib.parse.urlsplit(handler.path)
        match = re.match(r"^/store/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$", url.path)
        if not match:
            return self.answer(handler, 404, method=method)
        repo, digest = match["repo"], match["digest"]
        if repo.endswith("loop"):
            back = f"{self.loop_to}/v2/{repo}/blobs/{digest}"
            return self.answer(handler, 307, [("Location", back)])
        if urllib.parse.parse_qs(url.query).get("X-Amz-Signature") != [self.signature]:
            return self.answer(handler, 403, body=b"SignatureDoesNotMatch", method=method)
        data = self.client.blob(repo, digest)
        return self.answer(handler, 200, [("Content-Type", "application/octet-stream")], data,
                           method)


class RedirectTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry(auth="htpasswd", user="puller",
                                          password="pa55-" + os.urandom(6).hex()))
        cls.truth = {}
        with FixtureBuilder(cls.registry) as fx:
            for repo in ("redirect/r307", "redirect/r302", "redirect/loop", "redirect/selfloop"):
                layers = [{f"/{repo}": os.urandom(20000)}, {"/etc/x": repo.encode()}]
                cls.truth[repo] = fx.image(repo, ["latest"], layers,
                                           {"cmd": ["/bin/true"], "env": [f"REPO={repo}"]})
        cls.blob = cls.serve(BlobHost(cls.registry))
        cls.front = cls.serve(RedirectingFront(cls.registry.host, cls.policy))
        cls.blob.loop_to = cls.front.url
        cls.wharfd = cls.serve(Wharfd("http://127.0.0.1:9", registries={
            cls.front.host: {"username": cls.registry.user, "password": cls.registry.password}},
            downloads_toml=f"attempts = {ATTEMPTS}"))
        cls.api = cls.wharfd.client()
        cls.basic = "Basic " + base64.b64encode(
            f"{cls.registry.user}:{cls.registry.password}".encode()).decode()

    @classmethod
    def policy(cls, repo, path):
        if repo == "redirect/selfloop":
            return 302, path  # relative, back to the front itself
        return (302 if repo == "redirect/r302" else 307), cls.blob.location(path)

    def pull(self, repo):
        name = f"{self.front.host}/{repo}"
        self.assertEqual(self.api.download(name, "latest"), (200, {}))
        return name, self.api.wait_download(name, "latest", timeout=60)

    def check_redirected_pull(self, repo, status):
        t = self.truth[repo]
        name, failed = self.pull(repo)
        self.assertIsNone(failed, f"pull through {status} redirects failed: {failed}")
        local = self.api.local_images()
        self.assertIn(name, local, sorted(local))
        self.assertEqual((local[name]["tags"], local[name]["size"]), (["latest"], [t.size]))
        got_status, got = self.api.get(f"/api/v1/image/docker/{name}/latest/inspect")
        self.assertEqual(got_status, 200, got)
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertIn(f"{name}@{t.digest}", got["RepoDigests"])
        self.assertTrue(t.blobs <= self.wharfd.blob_digests())
        self.assertEqual(self.wharfd.settled_temp_files(), [])

        # The front redirected every blob GET, and those GETs carried the credentials.
        redirected = self.front.seen(f"^/v2/{repo}/blobs/")
        self.assertEqual({r["path"].rsplit("/", 1)[1] for r in redirected},
                         {t.config_digest, *t.layers})
        self.assertEqual({r["status"] for r in redirected}, {status})
        for r in self.front.seen(f"^/v2/{repo}/"):
            if r["status"] != 401:  # the first, anonymous try is answered with the challenge
                self.assertEqual(r["headers"].get("authorization"), self.basic,
                                 f"front request without the credentials: {r['path']}")
        # The blob host served them, signature intact, and never saw an Authorization.
        served = self.blob.seen(f"^/store/{repo}/blobs/")
        self.assertEqual({urllib.parse.urlsplit(r["path"]).path.rsplit("/", 1)[1] for r in served},
                         {t.config_digest, *t.layers})
        for r in served:
            self.assertEqual(r["status"], 200, r["path"])
            self.assertNotIn("authorization", r["headers"],
                             f"Authorization went to the blob host: {r['path']}")
            self.assertIn(f"X-Amz-Signature={self.blob.signature}", r["path"])
        self.assertNotIn(self.registry.password, self.wharfd.log())

    def test_307_to_a_blob_host(self):
        self.check_redirected_pull("redirect/r307", 307)

    def test_302_to_a_blob_host(self):
        self.check_redirected_pull("redirect/r302", 302)

    def assert_bounded_per_blob(self, hops):
        """At most a handful of hops per try for each blob: the config is fetched beside the
        layers, so several blobs may be chasing the loop at once, each cut on its own."""
        per_blob = {}
        for r in hops:
            blob = urllib.parse.urlsplit(r["path"]).path.rsplit("/", 1)[1]
            per_blob[blob] = per_blob.get(blob, 0) + 1
        for blob, count in per_blob.items():
            self.assertLessEqual(count, ATTEMPTS * 10, f"{blob}: {count} hops")

    def check_loop_fails(self, repo):
        t = self.truth[repo]
        started = time.monotonic()
        name, failed = self.pull(repo)
        elapsed = time.monotonic() - started
        self.assertIsNotNone(failed, "a redirect loop ended in a pull")
        self.assertEqual(failed["status"], "failed")
        error = failed.get("error") or ""
        self.assertIn("redirects", error.lower())
        self.assertIn(self.front.host, error)
        self.assertNotIn(self.blob.signature, error)
        self.assertNotIn(self.blob.signature, self.wharfd.log())
        self.assertLess(elapsed, 30, "the loop was not cut in bounded time")
        self.assertNotIn(name, self.api.local_images())
        self.assertFalse(set(t.layers) & self.wharfd.blob_digests())
        self.assertEqual(self.wharfd.settled_temp_files(), [])
        return error

    def test_redirect_loop_through_the_blob_host_fails(self):
        self.check_loop_fails("redirect/loop")
        hops = self.blob.seen("^/store/redirect/loop/")
        self.assertTrue(hops, "the blob host was never reached")
        # Bounded: a handful of hops per try, not an endless chase.
        self.assert_bounded_per_blob(hops)
        self.assertEqual({r["status"] for r in hops}, {307})
        for r in hops:
            self.assertNotIn("authorization", r["headers"])

    def test_front_redirecting_to_itself_fails(self):
        self.check_loop_fails("redirect/selfloop")
        hops = self.front.seen("^/v2/redirect/selfloop/blobs/")
        self.assertTrue(hops)
        self.assert_bounded_per_blob(hops)
        self.assertEqual(self.blob.seen("^/store/redirect/selfloop/"), [])


if __name__ == "__main__":
    unittest.main()
