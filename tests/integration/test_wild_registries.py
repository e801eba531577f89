"""Registries as they exist in the wild, and what a registry may not do to wharf, against
crafted registries on loopback (Python http.server) where docker-registry cannot produce the
case, and a real docker-registry as Docker Hub:

- a Docker Hub mirror that answers 200 with an HTML page is passed over, and named;
- an OCI artifact is refused by download and by remote inspect (400), storing nothing;
- nested indexes are followed; one message when no entry fits the platform;
- a registry's credentials never go to a token realm on another port;
- [security] user_registries = "configured": users who are not admins reach only Docker
  Hub, configured registries and catalog entries (403 naming the host otherwise);
- the body of an answer that is not a registry error is never echoed.
"""

import gzip
import hashlib
import io
import json
import os
import tarfile
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd
from support import serve_http, stop_http

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ARTIFACT_TYPE = "application/vnd.example.sbom.v1+json"
SECRET = "internal-secret-page-text"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type, data, platform=None):
    d = {"mediaType": media_type, "digest": digest(data), "size": len(data)}
    if platform:
        os_, arch = platform.split("/")[:2]
        d["platform"] = {"os": os_, "architecture": arch}
    return d


def small_layer():
    """A gzip tar of one file, and its diff_id."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = os.urandom(3000)
        info = tarfile.TarInfo("hello.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), digest(tar_bytes)


class WildRegistry:
    """A registry of fixed answers: `manifests[(repo, ref)] = (media type, bytes)`, `blobs[
    digest] = bytes`, tag lists from the manifests' tags. With `realm` set (a URL, or "self"
    for its own /token), every /v2/ request needs "Bearer good-token" first and /token asks
    for `basic` (an Authorization value) when set. `broken` paths answer 500 with an HTML
    page. Records (path, Authorization) of every request."""

    def __init__(self, realm=None, basic=None):
        self.realm = realm
        self.basic = basic
        self.manifests = {}
        self.blobs = {}
        self.broken = set()
        self.requests = []
        self.lock = threading.Lock()
        self.server = None

    @property
    def host(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def add_manifest(self, repo, ref, media_type, body):
        data = json.dumps(body).encode()
        self.manifests[(repo, ref)] = (media_type, data)
        self.manifests[(repo, digest(data))] = (media_type, data)
        return data

    def add_blob(self, data):
        self.blobs[digest(data)] = data
        return data

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", content_type="application/json", headers=()):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                path = urllib.parse.urlsplit(self.path).path
                with owner.lock:
                    owner.requests.append((path, auth))
                if path == "/token":
                    if owner.basic and auth != owner.basic:
                        return self.reply(401, b'{"details":"credentials wanted"}')
                    return self.reply(200, b'{"token":"good-token"}')
                if owner.realm and auth != "Bearer good-token":
                    realm = f"http://{owner.host}/token" if owner.realm == "self" else owner.realm
                    challenge = f'Bearer realm="{realm}",service="wild"'
                    return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                      headers=[("WWW-Authenticate", challenge)])
                if path == "/v2/":
                    return self.reply(200, b"{}")
                if path in owner.broken:
                    page = f"<html><body>{SECRET}</body></html>".encode()
                    return self.reply(500, page, "text/html")
                parts = path[len("/v2/"):].rsplit("/", 2)
                if len(parts) == 3 and parts[1] == "manifests":
                    found = owner.manifests.get((parts[0], parts[2]))
                    if found:
                        return self.reply(200, found[1], found[0],
                                          [("Docker-Content-Digest", digest(found[1]))])
                if len(parts) == 3 and parts[1] == "blobs" and parts[2] in owner.blobs:
                    return self.reply(200, owner.blobs[parts[2]], "application/octet-stream")
                if len(parts) == 3 and parts[1:] == ["tags", "list"]:
                    tags = sorted(ref for repo, ref in owner.manifests
                                  if repo == parts[0] and not ref.startswith("sha256:"))
                    if tags:
                        return self.reply(200, json.dumps({"name": parts[0], "tags": tags})
                                          .encode())
                self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')

        self.server = serve_http(Handler)
        return self

    def stop(self):
        if self.server:
            stop_http(self.server)
            self.server = None

    def tokens_asked(self):
        with self.lock:
            return [auth for path, auth in self.requests if path == "/token"]


class HtmlPortal:
    """A captive portal: 200 text/html to every request."""

    def start(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = b"<!DOCTYPE html><html><body>Please log in to the hotel wifi</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET

        self.server = serve_http(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self):
        stop_http(self.server)


def image_manifest(wild, layer=None, config_platform="linux/amd64", artifact_type=None,
                   config_type=OCI_CONFIG):
    """Serves an image's config (and layer) as blobs of `wild`; returns its manifest."""
    os_, arch = config_platform.split("/")[:2]
    layer_blob, diff_id = layer or (None, None)
    config = wild.add_blob(json.dumps({
        "architecture": arch, "os": os_, "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id] if diff_id else []}}).encode())
    layers = []
    if layer_blob:
        wild.add_blob(layer_blob)
        layers.append(descriptor(OCI_LAYER_GZIP, layer_blob))
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": descriptor(config_type, config), "layers": layers}
    if artifact_type:
        manifest["artifactType"] = artifact_type
    return manifest


class WildRegistriesTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = cls.serve(Registry())
        with FixtureBuilder(cls.hub) as fx:
            fx.image("team/app", ["latest"], [{"/app": os.urandom(4000)}])
        cls.portal = cls.serve(HtmlPortal())
        cls.wild = cls.serve(WildRegistry())
        cls.other = cls.serve(WildRegistry())  # configured nowhere
        cls.realm = cls.serve(WildRegistry())  # a token server on another port
        cls.far_realm = cls.serve(WildRegistry(realm=f"http://{cls.realm.host}/token"))
        cls.own_realm = cls.serve(WildRegistry(realm="self", basic="Basic Ym9iOnB3"))
        cls.fill()
        cls.wharfd = cls.serve(Wharfd(
            cls.hub.url, mirrors=[cls.portal.url], platform="linux/amd64",
            registries={cls.wild.host: {"insecure": True},
                        cls.far_realm.host: {"username": "bob", "password": "pw"},
                        cls.own_realm.host: {"username": "bob", "password": "pw"}}))
        cls.api = cls.wharfd.client()
        cls.wharfd.add_user("viewer", "viewer-password-1")
        cls.user = cls.wharfd.client(login=False)
        status, body = cls.user.login("viewer", "viewer-password-1")
        assert status == 200, body

    @classmethod
    def fill(cls):
        w = cls.wild
        cls.layer = small_layer()
        w.add_manifest("plain", "latest", OCI_MANIFEST, image_manifest(w, cls.layer))
        w.add_manifest("sbom", "v1", OCI_MANIFEST, image_manifest(
            w, config_type="application/vnd.oci.empty.v1+json", artifact_type=ARTIFACT_TYPE))
        w.add_manifest("chart", "1.0", OCI_MANIFEST, image_manifest(
            w, config_type="application/vnd.cncf.helm.config.v1+json"))
        # latest → index without platforms → index with amd64 → the image.
        image = w.add_manifest("nest", "image", OCI_MANIFEST, image_manifest(w, cls.layer))
        inner = w.add_manifest("nest", "inner", OCI_INDEX, {
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [descriptor(OCI_MANIFEST, image, "linux/amd64")]})
        cls.nest_top = w.add_manifest("nest", "latest", OCI_INDEX, {
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [descriptor(OCI_INDEX, inner)]})
        arm = w.add_manifest("armonly", "image", OCI_MANIFEST,
                             image_manifest(w, config_platform="linux/arm64"))
        arm_inner = w.add_manifest("armonly", "inner", OCI_INDEX, {
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [descriptor(OCI_MANIFEST, arm, "linux/arm64")]})
        w.add_manifest("armonly", "latest", OCI_INDEX, {
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [descriptor(OCI_INDEX, arm_inner)]})
        w.broken.add("/v2/broken/manifests/latest")
        for reg in (cls.other, cls.far_realm, cls.own_realm):
            reg.add_manifest("app", "latest", OCI_MANIFEST, image_manifest(reg))

    # --- helpers ---------------------------------------------------------------

    def inspect(self, name, tag, api=None):
        return (api or self.api).get(f"/api/v1/image/docker/{name}/{tag}/remote_inspect")

    def tags(self, name, api=None):
        return (api or self.api).get(f"/api/v1/image/dockerhub/docker/0/{name}/tags")

    def assertRefusedLeavingNothing(self, name, tag, message):
        """A download of name:tag fails with `message`; nothing is listed or stored."""
        before_local = self.api.local_images()
        before_blobs = self.wharfd.blob_files()
        status, body = self.api.download(name, tag)
        self.assertEqual(status, 200, body)
        failed = self.api.wait_download(name, tag, timeout=60)
        self.assertIsNotNone(failed, "the download should fail")
        self.assertEqual(failed["error"], message)
        self.assertEqual(self.api.local_images(), before_local)
        self.assertEqual(self.wharfd.blob_files(), before_blobs)
        self.assertEqual(self.wharfd.settled_temp_files(), [])

    # --- mirrors ---------------------------------------------------------------

    def test_0_a_mirror_answering_html_is_passed_over_and_named(self):
        # First of the class: the mirror has not failed yet, so it is asked (it then rests).
        status, body = self.inspect("team/missing", "latest")
        self.assertError(status, body, 404)
        self.assertIn(f"mirror {self.portal.host} answered an HTML page (Content-Type "
                      "text/html) that is not a manifest", body["error"]["message"])
        self.assertNotIn("hotel", body["error"]["message"])
        status, body = self.api.download("team/app", "latest")
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.api.wait_download("team/app", "latest", timeout=120))
        self.assertIn("team/app", self.api.local_images())
        self.assertIn(f"mirror {self.portal.host} answered an HTML page", self.wharfd.log())

    # --- artifacts -------------------------------------------------------------

    def test_an_artifact_is_refused_by_remote_inspect_and_download(self):
        name = f"{self.wild.host}/sbom"
        message = f"{name}:v1 is not a container image (artifact type {ARTIFACT_TYPE})"
        status, body = self.inspect(name, "v1")
        self.assertError(status, body, 400, message=message)
        self.assertRefusedLeavingNothing(name, "v1", message)

    def test_a_helm_chart_is_refused_naming_its_config_type(self):
        name = f"{self.wild.host}/chart"
        message = (f"{name}:1.0 is not a container image (config media type "
                   "application/vnd.cncf.helm.config.v1+json)")
        status, body = self.inspect(name, "1.0")
        self.assertError(status, body, 400, message=message)
        self.assertRefusedLeavingNothing(name, "1.0", message)

    # --- nested indexes --------------------------------------------------------

    def test_nested_indexes_are_followed(self):
        name = f"{self.wild.host}/nest"
        status, body = self.inspect(name, "latest")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["Digest"], digest(self.nest_top))
        self.assertEqual(body["Architecture"], "amd64")
        status, body = self.api.download(name, "latest")
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.api.wait_download(name, "latest", timeout=60))
        self.assertIn(digest(self.layer[0]), self.wharfd.blob_digests())

    def test_no_entry_for_the_platform_at_any_depth_is_one_message(self):
        name = f"{self.wild.host}/armonly"
        message = "no image for linux/amd64 in this index; it has linux/arm64"
        status, body = self.inspect(name, "latest")
        self.assertError(status, body, 404)
        self.assertIn(message, body["error"]["message"])
        before = self.wharfd.blob_files()
        self.api.download(name, "latest")
        failed = self.api.wait_download(name, "latest", timeout=60)
        self.assertIsNotNone(failed)
        self.assertIn(message, failed["error"])
        self.assertEqual(self.wharfd.blob_files(), before)

    # --- credentials -----------------------------------------------------------

    def test_credentials_never_go_to_a_realm_on_another_port(self):
        status, body = self.inspect(f"{self.far_realm.host}/app", "latest")
        self.assertEqual(status, 200, body)
        asked = self.realm.tokens_asked()
        self.assertTrue(asked, "the realm should have been asked for a token")
        self.assertEqual(set(asked), {""}, "no Authorization may reach another port")
        self.assertIn("is not on the registry's host", self.wharfd.log())

    def test_a_realm_on_the_registrys_own_port_gets_the_credentials(self):
        status, body = self.inspect(f"{self.own_realm.host}/app", "latest")
        self.assertEqual(status, 200, body)
        self.assertIn("Basic Ym9iOnB3", self.own_realm.tokens_asked())

    # --- who may reach what ----------------------------------------------------

    def test_users_reach_only_configured_registries(self):
        name = f"{self.other.host}/app"
        expected = (f"registry {self.other.host} is not Docker Hub, a configured registry or a "
                    "catalog entry's; only admins may reach it ([security] user_registries = "
                    "\"configured\")")
        for status, body in (self.inspect(name, "latest", self.user),
                             self.tags(name, self.user)):
            self.assertError(status, body, 403, message=expected)
        self.assertNotIn("/v2/app/manifests/latest", [p for p, _ in self.other.requests])
        # A configured registry and Docker Hub: allowed.
        status, body = self.inspect(f"{self.wild.host}/plain", "latest", self.user)
        self.assertEqual(status, 200, body)
        status, body = self.inspect("team/app", "latest", self.user)
        self.assertEqual(status, 200, body)
        # An admin reaches any host.
        status, body = self.inspect(name, "latest")
        self.assertEqual(status, 200, body)
        status, body = self.tags(name)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["tags"], ["latest"])

    # --- what is echoed --------------------------------------------------------

    def test_a_body_that_is_not_a_registry_error_is_not_echoed(self):
        status, body = self.inspect(f"{self.wild.host}/broken", "latest")
        self.assertError(status, body, 502, mentions=["500"])
        self.assertNotIn(SECRET, body["error"]["message"])
        self.assertNotIn("<html", body["error"]["message"])


if __name__ == "__main__":
    unittest.main()
