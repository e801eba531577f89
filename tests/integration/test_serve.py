"""wharf as a registry: the pull side of the OCI Distribution API on /v2/, read by
real clients (skopeo, podman, containerd's ctr) and by raw HTTP, with Docker's token
flow, Basic credentials, anonymous mode, and every write and bad input refused in the
spec's error shape without touching the store."""

import base64
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from engines import Podman
from fixtures import FixtureBuilder, skopeo
from harness import Registry, WharfTestCase, Wharfd

USER, PASSWORD = "puller", "pull-secret-1"

registry = None
truth = {}


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truth["diamond"] = fx.diamond()
            truth["multi"] = fx.multi_arch("library/multi")
            for name in ("through", "joined", "podman-through"):
                truth[name] = fx.image(f"lgsd/{name}", ["latest"],
                                       [{f"/{name}": os.urandom(3000)}], {"cmd": [f"/{name}"]})
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class V2:
    """Raw HTTP to wharfd's /v2/: (status, headers, body bytes)."""

    def __init__(self, wharfd):
        self.host, self.port = wharfd.host, wharfd.port

    def request(self, method, path, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.headers, r.read()
        finally:
            conn.close()

    def token(self, scopes=(), creds=(USER, PASSWORD)):
        query = "&".join(["service=wharf"] + [f"scope={s}" for s in scopes])
        status, _, body = self.request("GET", f"/v2/token?{query}",
                                       {"Authorization": basic(*creds)} if creds else {})
        return status, json.loads(body)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ServeTest(WharfTestCase):
    """One wharfd holding lgsd/diamond (two tags) and library/multi, served on /v2/."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.wharfd.add_user(USER, PASSWORD)
        cls.api = cls.wharfd.client()
        for name, tag in [("lgsd/diamond", "latest"), ("lgsd/diamond", "1.0"),
                          ("multi", "latest")]:
            cls.api.download(name, tag)
        failed = cls.api.wait_jobs([("lgsd/diamond", "latest"), ("lgsd/diamond", "1.0"),
                                    ("multi", "latest")], timeout=120)
        assert not any(failed.values()), failed
        cls.v2 = V2(cls.wharfd)
        status, body = cls.v2.token(["repository:lgsd/diamond:pull"])
        assert status == 200, body
        cls.diamond_token = body["token"]
        cls.address = f"127.0.0.1:{cls.wharfd.port}"

    def inspect(self, name, tag):
        status, body = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, body)
        return body

    def get(self, path, token=None, headers=None, method="GET"):
        headers = dict(headers or {})
        headers["Authorization"] = "Bearer " + (token or self.diamond_token)
        return self.v2.request(method, path, headers)

    def assertDistError(self, answer, status, code):
        got, headers, body = answer
        self.assertEqual(got, status, body)
        errors = json.loads(body)["errors"]
        self.assertEqual([e["code"] for e in errors], [code], body)
        self.assertTrue(errors[0]["message"])
        self.assertEqual(headers["Docker-Distribution-API-Version"], "registry/2.0")

    # --- who may pull ----------------------------------------------------------

    def test_01_base_without_credentials_is_a_bearer_challenge(self):
        answer = self.v2.request("GET", "/v2/")
        self.assertDistError(answer, 401, "UNAUTHORIZED")
        challenge = answer[1]["WWW-Authenticate"]
        self.assertEqual(challenge, f'Bearer realm="http://{self.address}/v2/token",'
                                    'service="wharf"')
        answer = self.v2.request("GET", "/v2/lgsd/diamond/manifests/latest")
        self.assertIn('scope="repository:lgsd/diamond:pull"', answer[1]["WWW-Authenticate"])

    def test_02_token_flow(self):
        status, body = self.v2.token(["repository:library/multi:pull"])
        self.assertEqual(status, 200, body)
        self.assertEqual(set(body), {"token", "access_token", "expires_in", "issued_at"})
        self.assertEqual(body["token"], body["access_token"])
        self.assertEqual(body["expires_in"], 300)
        self.assertRegex(body["issued_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        status, headers, raw = self.get("/v2/", token=body["token"])
        self.assertEqual((status, json.loads(raw)), (200, {}))
        self.assertEqual(headers["Docker-Distribution-API-Version"], "registry/2.0")
        status, _, _ = self.get("/v2/multi/manifests/latest", token=body["token"])
        self.assertEqual(status, 200)

    def test_03_wrong_credentials_are_refused(self):
        status, body = self.v2.token(creds=(USER, "wrong"))
        self.assertEqual(status, 401, body)
        self.assertEqual(body["errors"][0]["code"], "UNAUTHORIZED")
        status, body = self.v2.token(creds=("nobody", PASSWORD))
        self.assertEqual(status, 401, body)
        status, body = self.v2.token(creds=None)
        self.assertEqual(status, 401, body)
        answer = self.v2.request("GET", "/v2/lgsd/diamond/tags/list",
                                 {"Authorization": basic(USER, "wrong")})
        self.assertDistError(answer, 401, "UNAUTHORIZED")
        self.assertDistError(self.get("/v2/", token="f" * 64), 401, "UNAUTHORIZED")

    def test_04_a_token_reads_only_its_repositories(self):
        answer = self.get("/v2/library/multi/manifests/latest")
        self.assertDistError(answer, 401, "UNAUTHORIZED")
        self.assertIn('scope="repository:library/multi:pull"', answer[1]["WWW-Authenticate"])
        digest = truth["multi"]["amd64"].layers[0]
        self.assertDistError(self.get(f"/v2/library/multi/blobs/{digest}"), 401, "UNAUTHORIZED")
        self.assertDistError(self.get("/v2/_catalog"), 401, "UNAUTHORIZED")

    def test_06_no_engine_configured(self):
        self.assertEqual(self.api.get("/api/v1/image/docker/lgsd/diamond/latest/engine"),
                         (200, {"engine": False, "present": None}))
        status, body = self.api.get("/api/v1/image/docker/lgsd/none/latest/engine")
        self.assertError(status, body, 404)

    def test_05_basic_credentials_on_each_request(self):
        for _ in range(20):
            status, _, raw = self.v2.request("GET", "/v2/lgsd/diamond/tags/list",
                                             {"Authorization": basic(USER, PASSWORD)})
            self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(raw), {"name": "lgsd/diamond", "tags": ["1.0", "latest"]})

    # --- what is served --------------------------------------------------------

    def test_10_manifest_is_the_stored_one(self):
        wharf_digest = self.inspect("lgsd/diamond", "latest")["RepoDigests"][0].split("@")[1]
        for path in ["/v2/lgsd/diamond/manifests/latest",
                     f"/v2/lgsd/diamond/manifests/{wharf_digest}"]:
            status, headers, raw = self.get(path)
            self.assertEqual(status, 200, raw)
            self.assertEqual(sha256(raw), wharf_digest)
            self.assertEqual(headers["Docker-Content-Digest"], wharf_digest)
            self.assertEqual(headers["ETag"], f'"{wharf_digest}"')
            self.assertEqual(int(headers["Content-Length"]), len(raw))
            self.assertEqual(headers["Content-Type"], json.loads(raw).get(
                "mediaType", "application/vnd.oci.image.manifest.v1+json"))
            status, head_headers, head_raw = self.get(path, method="HEAD")
            self.assertEqual((status, head_raw), (200, b""))
            self.assertEqual(head_headers["Content-Length"], headers["Content-Length"])
            self.assertEqual(head_headers["Docker-Content-Digest"], wharf_digest)

    def test_11_blobs_whole_and_ranges(self):
        diamond = truth["diamond"]
        for digest in [diamond.config_digest, *diamond.layers]:
            status, headers, raw = self.get(f"/v2/lgsd/diamond/blobs/{digest}")
            self.assertEqual(status, 200)
            self.assertEqual(sha256(raw), digest)
            self.assertEqual(headers["Docker-Content-Digest"], digest)
            self.assertEqual(int(headers["Content-Length"]), len(raw))
        layer = diamond.layers[0]
        _, _, whole = self.get(f"/v2/lgsd/diamond/blobs/{layer}")
        status, headers, part = self.get(f"/v2/lgsd/diamond/blobs/{layer}",
                                         headers={"Range": "bytes=10-19"})
        self.assertEqual((status, part), (206, whole[10:20]))
        self.assertEqual(headers["Content-Range"], f"bytes 10-19/{len(whole)}")
        status, _, part = self.get(f"/v2/lgsd/diamond/blobs/{layer}",
                                   headers={"Range": "bytes=-7"})
        self.assertEqual((status, part), (206, whole[-7:]))
        status, headers, _ = self.get(f"/v2/lgsd/diamond/blobs/{layer}",
                                      headers={"Range": f"bytes={len(whole)}-"})
        self.assertEqual(status, 416)
        self.assertEqual(headers["Content-Range"], f"bytes */{len(whole)}")
        status, headers, raw = self.get(f"/v2/lgsd/diamond/blobs/{layer}", method="HEAD")
        self.assertEqual((status, raw, int(headers["Content-Length"])), (200, b"", len(whole)))

    def test_12_tags_and_catalog_pages(self):
        status, headers, raw = self.get("/v2/lgsd/diamond/tags/list?n=1")
        self.assertEqual((status, json.loads(raw)), (200, {"name": "lgsd/diamond",
                                                           "tags": ["1.0"]}))
        self.assertEqual(headers["Link"], '</v2/lgsd/diamond/tags/list?n=1&last=1.0>; '
                                          'rel="next"')
        status, headers, raw = self.get("/v2/lgsd/diamond/tags/list?n=1&last=1.0")
        self.assertEqual(json.loads(raw)["tags"], ["latest"])
        self.assertIsNone(headers["Link"])
        status, body = self.v2.token(["registry:catalog:*"])
        status, headers, raw = self.get("/v2/_catalog", token=body["token"])
        self.assertEqual((status, json.loads(raw)),
                         (200, {"repositories": ["lgsd/diamond", "library/multi"]}))
        status, headers, raw = self.get("/v2/_catalog?n=1", token=body["token"])
        self.assertEqual(json.loads(raw), {"repositories": ["lgsd/diamond"]})
        self.assertIn("last=lgsd/diamond", headers["Link"])
        self.assertDistError(self.get("/v2/_catalog?n=x", token=body["token"]), 400,
                             "PAGINATION_NUMBER_INVALID")

    def test_13_docker_hub_names_and_ns(self):
        status, body = self.v2.token(["repository:multi:pull"])
        for path in ["/v2/multi/manifests/latest", "/v2/library/multi/manifests/latest",
                     "/v2/library/multi/manifests/latest?ns=docker.io"]:
            status, _, raw = self.get(path, token=body["token"])
            self.assertEqual(status, 200, (path, raw))
        self.assertDistError(self.get("/v2/library/multi/manifests/latest?ns=ghcr.io",
                                      token=body["token"]), 404, "NAME_UNKNOWN")

    # --- bad input and writes --------------------------------------------------

    def test_20_unknown_and_invalid_names(self):
        blob_files = self.wharfd.blob_files()
        listing = self.api.local_images()
        cases = [
            ("/v2/lgsd/nothing/manifests/latest", 404, "NAME_UNKNOWN"),
            ("/v2/lgsd/diamond/manifests/nope", 404, "MANIFEST_UNKNOWN"),
            ("/v2/lgsd/diamond/manifests/sha256:" + "0" * 64, 404, "MANIFEST_UNKNOWN"),
            ("/v2/lgsd/diamond/blobs/sha256:" + "0" * 64, 404, "BLOB_UNKNOWN"),
            ("/v2/lgsd/diamond/blobs/sha256:abc", 400, "DIGEST_INVALID"),
            ("/v2/lgsd/diamond/blobs/md5:abc", 400, "DIGEST_INVALID"),
            ("/v2/lgsd/../diamond/manifests/latest", 400, "NAME_INVALID"),
            ("/v2/LGSD/diamond/manifests/latest", 400, "NAME_INVALID"),
            ("/v2/" + "a" * 300 + "/manifests/latest", 400, "NAME_INVALID"),
            ("/v2/lgsd/diamond/nothing", 404, "NAME_UNKNOWN"),
        ]
        for path, status, code in cases:  # Basic credentials: allowed to read any name
            with self.subTest(path=path[:60]):
                answer = self.v2.request("GET", path, {"Authorization": basic(USER, PASSWORD)})
                self.assertDistError(answer, status, code)
        # A blob of another repository is not served through this one.
        other = truth["multi"]["amd64"].layers[0]
        self.assertDistError(self.get(f"/v2/lgsd/diamond/blobs/{other}"), 404, "BLOB_UNKNOWN")
        self.assertEqual(self.wharfd.blob_files(), blob_files)
        self.assertEqual(self.api.local_images(), listing)

    def test_21_writes_are_unsupported(self):
        blob_files = self.wharfd.blob_files()
        for method, path in [("PUT", "/v2/lgsd/diamond/manifests/latest"),
                             ("POST", "/v2/lgsd/diamond/blobs/uploads/"),
                             ("PATCH", "/v2/lgsd/diamond/blobs/uploads/x"),
                             ("DELETE", "/v2/lgsd/diamond/manifests/latest"),
                             ("DELETE", "/v2/lgsd/diamond/blobs/" + truth_layer())]:
            with self.subTest(method=method, path=path):
                answer = self.get(path, method=method)
                self.assertDistError(answer, 405, "UNSUPPORTED")
                self.assertEqual(answer[1]["Allow"], "GET, HEAD")
        self.assertEqual(self.wharfd.blob_files(), blob_files)
        self.assertEqual(self.get("/v2/lgsd/diamond/manifests/latest")[0], 200)

    # --- real clients ----------------------------------------------------------

    def test_30_skopeo_inspect_and_copy(self):
        ref = f"docker://{self.address}/lgsd/diamond:latest"
        out = skopeo("inspect", "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}", ref)
        wharf = self.inspect("lgsd/diamond", "latest")
        self.assertEqual(json.loads(out)["Digest"], wharf["RepoDigests"][0].split("@")[1])
        layout = tempfile.mkdtemp(prefix="wharf-serve-copy-")
        try:
            skopeo("copy", "--src-tls-verify=false", "--src-creds", f"{USER}:{PASSWORD}", ref,
                   f"oci:{layout}:copy")
            copied = sorted(os.listdir(os.path.join(layout, "blobs", "sha256")))
            self.assertTrue(copied)
            for name in copied:
                with open(os.path.join(layout, "blobs", "sha256", name), "rb") as f:
                    data = f.read()
                self.assertEqual(hashlib.sha256(data).hexdigest(), name)
                with open(os.path.join(self.wharfd.data_dir, "blobs", "sha256", name), "rb") as f:
                    self.assertEqual(f.read(), data, f"blob {name} differs from wharf's")
        finally:
            shutil.rmtree(layout, ignore_errors=True)

    def test_31_podman_pull(self):
        podman = Podman().start()
        try:
            ref = f"{self.address}/lgsd/diamond:1.0"
            podman.pull(ref, creds=f"{USER}:{PASSWORD}", timeout=120)
            pod = podman.inspect(ref)
            wharf = self.inspect("lgsd/diamond", "1.0")
            self.assertEqual(pod["Id"], wharf["Id"].removeprefix("sha256:"))
            self.assertEqual(pod["RootFS"]["Layers"], wharf["RootFS"]["Layers"])
        finally:
            podman.stop()

    def test_32_containerd_fetch_and_pull(self):
        if shutil.which("containerd") is None or shutil.which("ctr") is None:
            self.skipTest("containerd is not installed (scripts/deps installs it)")
        if os.geteuid() != 0:
            self.skipTest("containerd needs root")
        with Containerd() as ctr:
            ref = f"{self.address}/lgsd/diamond:latest"
            ctr.run("content", "fetch", "--plain-http", "-u", f"{USER}:{PASSWORD}", ref)
            ctr.run("images", "pull", "--plain-http", "-u", f"{USER}:{PASSWORD}", ref)
            listed = ctr.run("images", "ls", "-q")
            self.assertIn(ref, listed.split())
            wharf = self.inspect("lgsd/diamond", "latest")
            digest = wharf["RepoDigests"][0].split("@")[1]
            info = ctr.run("images", "ls")
            self.assertIn(digest, info)


def truth_layer():
    return truth["diamond"].layers[0]


class Containerd:
    """containerd as root with a private root, state dir and socket; ctr on that socket."""

    def __enter__(self):
        self.dir = d = tempfile.mkdtemp(prefix="wharf-containerd-")
        self.socket = f"{d}/containerd.sock"
        config = (f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
                  f'[grpc]\n  address = "{self.socket}"\n'
                  f'[ttrpc]\n  address = "{d}/ttrpc.sock"\n'
                  f'[debug]\n  address = "{d}/debug.sock"\n'
                  '[metrics]\n  address = ""\n'
                  'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
        with open(f"{d}/config.toml", "w") as f:
            f.write(config)
        self.log = open(f"{d}/containerd.log", "wb")
        self.proc = subprocess.Popen(["containerd", "--config", f"{d}/config.toml"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(self.socket):
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        try:
            self.run("version")
        except Exception:
            self.__exit__()
            raise
        return self

    def run(self, *args, timeout=120):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        proc = subprocess.run(["ctr", "--address", self.socket, "--namespace", "wharf-test",
                               *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        subprocess.run(["umount", "-R", f"{self.dir}/root"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class PullThroughTest(WharfTestCase):
    """[serve] pull_through: a manifest wharf lacks is downloaded first, then served."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url, extra_toml="[serve]\npull_through = true\n"))
        cls.wharfd.add_user(USER, PASSWORD)
        cls.api = cls.wharfd.client()
        cls.v2 = V2(cls.wharfd)
        cls.address = f"127.0.0.1:{cls.wharfd.port}"

    def basic_get(self, path, method="GET"):
        return self.v2.request(method, path, {"Authorization": basic(USER, PASSWORD)})

    def local_names(self):
        return set(self.api.local_images())

    def test_skopeo_through_wharf_lands_in_local(self):
        self.assertNotIn("lgsd/through", self.local_names())
        out = skopeo("inspect", "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}",
                     f"docker://{self.address}/lgsd/through:latest")
        self.assertEqual(json.loads(out)["Digest"], truth["through"].digest)
        self.assertIn("lgsd/through", self.local_names())
        self.assertIn("pull-through download user=\"puller\"", self.wharfd.log())
        for digest in truth["through"].blobs:  # everything verified and stored before
            self.assertIn(digest.split(":")[1], self.wharfd.blob_files())

    def test_concurrent_requests_join_one_download(self):
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(
                lambda _: self.basic_get("/v2/lgsd/joined/manifests/latest"), range(6)))
        for status, headers, raw in answers:
            self.assertEqual(status, 200, raw)
            self.assertEqual(headers["Docker-Content-Digest"], truth["joined"].digest)
        self.assertEqual(self.wharfd.log().count("download of lgsd/joined:latest started"), 1)

    def test_unknown_image_fails_at_once(self):
        started = time.monotonic()
        answer = self.basic_get("/v2/lgsd/absent/manifests/latest")
        self.assertEqual(answer[0], 404, answer[2])
        error = json.loads(answer[2])["errors"][0]
        self.assertEqual(error["code"], "MANIFEST_UNKNOWN")
        self.assertIn("failed", error["message"])
        # Bounded by the failure, not by pull_through_wait_s (600 s).
        self.assertLess(time.monotonic() - started, 120)
        self.assertNotIn("lgsd/absent", self.local_names())

    def test_head_and_podman_through_wharf(self):
        podman = Podman().start()
        try:
            ref = f"{self.address}/lgsd/podman-through:latest"
            podman.pull(ref, creds=f"{USER}:{PASSWORD}", timeout=120)
            self.assertEqual(podman.inspect(ref)["Id"], truth["podman-through"].id)
        finally:
            podman.stop()
        self.assertIn("lgsd/podman-through", self.local_names())

    def test_digest_references_are_not_pulled_through(self):
        answer = self.basic_get(f"/v2/lgsd/other/manifests/sha256:{'1' * 64}")
        self.assertEqual(answer[0], 404)
        self.assertNotIn("lgsd/other", self.wharfd.log())


class ServeModesTest(WharfTestCase):
    """[serve] anonymous and enabled, each on a wharfd of its own."""

    def test_anonymous_pulls_without_credentials(self):
        with Wharfd(registry.url, extra_toml="[serve]\nanonymous = true\n") as wharfd:
            self.wharfd = wharfd
            v2 = V2(wharfd)
            status, _, raw = v2.request("GET", "/v2/")
            self.assertEqual((status, json.loads(raw)), (200, {}))
            status, _, raw = v2.request("GET", "/v2/_catalog")
            self.assertEqual((status, json.loads(raw)), (200, {"repositories": []}))
            status, _, raw = v2.request("GET", "/v2/token?scope=repository:a/b:pull")
            self.assertEqual(status, 200, raw)
            status, _, raw = v2.request("PUT", "/v2/a/b/manifests/latest")
            self.assertEqual(status, 405, raw)

    def test_disabled(self):
        with Wharfd(registry.url, extra_toml="[serve]\nenabled = false\n") as wharfd:
            self.wharfd = wharfd
            status, _, raw = V2(wharfd).request("GET", "/v2/")
            self.assertEqual(status, 404, raw)
            self.assertEqual(json.loads(raw)["errors"][0]["code"], "UNSUPPORTED")
            self.assertEqual(wharfd.client().get("/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
