"""Servers and clients the wharf integration tests share.

Everything here is real: a docker-registry process, a throttling TCP proxy,
the wharfd binary, HTTP over 127.0.0.1. Every server is started on a free
loopback port, every wait is bounded, and every temporary directory is removed
when its owner stops. Python standard library only.
"""

import base64
import http.client
import http.cookiejar
import io
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from api_client import ApiClient, Response  # noqa: F401  (re-exported for the tests)
from proxy import ThrottleProxy  # noqa: F401  (re-exported for the tests)
from support import (free_port, http_status, port_is_free, read_log, read_responses,  # noqa: F401
                     serve_http, stop_http, stop_process, wait_until)

REPO_ROOT = Path(__file__).resolve().parents[2]

MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


class Registry:
    """A docker-registry on 127.0.0.1, optionally behind htpasswd Basic auth, or token
    auth (auth="token", token={realm, service, issuer, rootcertbundle}, as
    token_issuer.TokenIssuer.registry_auth gives; user/password are then an account of
    that token server, used to push fixtures and read them back).

        with Registry() as reg:  reg.host == "127.0.0.1:PORT"

    extra_config: more top-level YAML lines (auth: token, proxy: ...); tls: (cert, key)
    PEM paths to serve https; storage: a directory to serve from, kept on stop.
    """

    def __init__(self, auth=None, user="tester", password=None, port=None, extra_config=(),
                 tls=None, storage=None, token=None):
        assert auth in (None, "htpasswd", "token")
        assert (auth == "token") == (token is not None)
        self.token = token
        self.extra_config = list(extra_config)
        self.tls = tls
        self.storage = storage
        self.auth = auth
        self.user = user
        self.password = password or secrets.token_hex(8)
        self.port = port or free_port()
        self.dir = None
        self.proc = None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def creds(self):
        return (self.user, self.password) if self.auth else None

    @property
    def log_path(self):
        return os.path.join(self.dir, "registry.log")

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="wharf-registry-")
        storage = self.storage or os.path.join(self.dir, "storage")
        os.makedirs(storage, exist_ok=True)
        lines = [
            "version: 0.1",
            "log:",
            "  level: warn",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: {self.host}",
            f"  secret: {secrets.token_hex(16)}",
        ]
        if self.tls:
            lines += ["  tls:", f"    certificate: {self.tls[0]}", f"    key: {self.tls[1]}"]
        lines += self.extra_config
        if self.auth == "htpasswd":
            htpasswd = os.path.join(self.dir, "htpasswd")
            entry = subprocess.run(["htpasswd", "-Bbn", self.user, self.password],
                                   check=True, capture_output=True, text=True).stdout
            Path(htpasswd).write_text(entry.strip() + "\n")
            lines += ["auth:", "  htpasswd:", "    realm: test", f"    path: {htpasswd}"]
        if self.auth == "token":
            lines += ["auth:", "  token:"] + [f"    {k}: {json.dumps(str(v))}"
                                              for k, v in self.token.items()]
        config = os.path.join(self.dir, "config.yml")
        Path(config).write_text("\n".join(lines) + "\n")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", config],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        try:
            context = ssl._create_unverified_context() if self.tls else None
            wait_until(lambda: self._check_alive() and
                       http_status(self.url + "/v2/", context=context) in (200, 401),
                       20, f"docker-registry on {self.host}")
        except Exception:
            print(read_log(self.log_path))
            self.stop()
            raise
        return self

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {read_log(self.log_path)}")
        return True

    def stop(self):
        stop_process(self.proc, grace=5)
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def client(self):
        return RegistryClient(self.host, self.creds,
                              ssl._create_unverified_context() if self.tls else None)


class RegistryClient:
    """The truth about what a registry holds, read over the distribution API. With creds,
    sends Basic auth, and answers a Bearer challenge with a token from its realm."""

    def __init__(self, host, creds=None, tls_context=None):
        self.host = host
        self.creds = creds
        self.tls_context = tls_context  # set: speak https with it

    def _basic(self):
        return "Basic " + base64.b64encode(f"{self.creds[0]}:{self.creds[1]}".encode()).decode()

    def request(self, method, path, body=None, headers=None, timeout=60):
        headers = dict(headers or {})
        if self.creds:
            headers["Authorization"] = self._basic()
        got = self._request(method, path, body, headers, timeout)
        challenge = got[1].get("www-authenticate", "")
        if got[0] == 401 and self.creds and challenge.lower().startswith("bearer "):
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            query = urllib.parse.urlencode({k: params[k] for k in ("service", "scope")
                                            if k in params})
            req = urllib.request.Request(params["realm"] + "?" + query,
                                         headers={"Authorization": self._basic()})
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                 urllib.request.HTTPSHandler(
                                                     context=self.tls_context))
            with opener.open(req, timeout=timeout) as r:
                headers["Authorization"] = "Bearer " + json.loads(r.read())["token"]
            got = self._request(method, path, body, headers, timeout)
        return got

    def _request(self, method, path, body, headers, timeout):
        if self.tls_context:
            conn = http.client.HTTPSConnection(self.host, timeout=timeout,
                                               context=self.tls_context)
        else:
            conn = http.client.HTTPConnection(self.host, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def manifest(self, repo, ref):
        """(parsed manifest, digest, media type, raw bytes)."""
        status, headers, data = self.request("GET", f"/v2/{repo}/manifests/{ref}",
                                             headers={"Accept": MANIFEST_ACCEPT})
        if status != 200:
            raise RuntimeError(f"GET manifest {repo}:{ref} -> {status} {data[:300]!r}")
        return json.loads(data), headers.get("docker-content-digest"), \
            headers.get("content-type"), data

    def blob(self, repo, digest):
        status, _, data = self.request("GET", f"/v2/{repo}/blobs/{digest}")
        if status != 200:
            raise RuntimeError(f"GET blob {repo}@{digest} -> {status}")
        return data

    def put_manifest(self, repo, ref, raw, media_type):
        status, headers, data = self.request("PUT", f"/v2/{repo}/manifests/{ref}", body=raw,
                                             headers={"Content-Type": media_type})
        if status != 201:
            raise RuntimeError(f"PUT manifest {repo}:{ref} -> {status} {data[:300]!r}")
        return headers.get("docker-content-digest")

    def tags(self, repo):
        status, _, data = self.request("GET", f"/v2/{repo}/tags/list")
        return json.loads(data).get("tags") or [] if status == 200 else []


def session_cookie(api):
    """The Cookie header value of an ApiClient's session."""
    return "; ".join(f"{c.name}={c.value}" for c in api.jar)


def wharfd_binary():
    return Path(os.environ.get("WHARFD") or REPO_ROOT / "build" / "wharfd")


def _toml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid TOML basic string


def _toml_value(v):
    """A TOML value of a bool, number, string or list of them."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return _toml_str(v)


class Wharfd:
    """The wharfd binary, started on a free loopback port with its own data dir.

    registries: {host: {"username":..., "password":..., "insecure": bool}}
    """

    def __init__(self, registry_url, registries=None, data_dir=None, binary=None,
                 env=None, platform="", port=None, max_concurrent=3, failed_ttl_s=600,
                 host="127.0.0.1", top_toml="", extra_toml="", index_url=None,
                 dockerhub_toml="", mirrors=(), downloads_toml="", http=None):
        self.binary = Path(binary or wharfd_binary())
        self.registry_url = registry_url
        self.registries = registries or {}
        self.platform = platform
        self.max_concurrent = max_concurrent
        self.failed_ttl_s = failed_ttl_s
        self.extra_env = env or {}
        self.top_toml = top_toml      # top-level keys (before any table)
        self.extra_toml = extra_toml  # more tables, appended
        self.index_url = index_url or registry_url  # [dockerhub] index (search API)
        self.dockerhub_toml = dockerhub_toml  # more keys of the [dockerhub] table
        self.mirrors = list(mirrors)  # [dockerhub] mirrors (URLs)
        self.downloads_toml = downloads_toml  # more keys of the [downloads] table
        self.http = dict(http or {})  # [http] keys ({"header_timeout_s": 3}); empty: no table
        self.host = host
        self.port = port or free_port()
        self.admin_password = secrets.token_urlsafe(12)
        self.tmp = tempfile.mkdtemp(prefix="wharfd-test-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.config_path = os.path.join(self.tmp, "wharf.toml")
        self.log_path = os.path.join(self.tmp, "wharfd.log")
        self.proc = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def listen(self):
        return f"{self.host}:{self.port}"

    def write_config(self):
        lines = [
            f"listen = {_toml_str(self.listen)}",
            f"data_dir = {_toml_str(self.data_dir)}",
            self.top_toml,
            "",
            "[auth]",
            "session_ttl_s = 86400",
            "",
            "[dockerhub]",
            f"registry = {_toml_str(self.registry_url)}",
            f"index = {_toml_str(self.index_url)}",
            f"mirrors = {json.dumps(self.mirrors)}",
            self.dockerhub_toml,
            "",
            "[downloads]",
            f"max_concurrent = {self.max_concurrent}",
            f"failed_ttl_s = {self.failed_ttl_s}",
            f"platform = {_toml_str(self.platform)}",
            self.downloads_toml,
        ]
        for host, opts in self.registries.items():
            lines += ["", f"[registries.{_toml_str(host)}]",
                      f"insecure = {'true' if opts.get('insecure') else 'false'}",
                      f"ca_file = {_toml_str(opts.get('ca_file', ''))}",
                      f"username = {_toml_str(opts.get('username', ''))}",
                      f"password = {_toml_str(opts.get('password', ''))}"]
        if self.http:
            lines += ["", "[http]"] + [f"{k} = {_toml_value(v)}" for k, v in self.http.items()]
        lines.append(self.extra_toml)
        Path(self.config_path).write_text("\n".join(lines) + "\n")

    def command(self):
        return [str(self.binary), "--config", self.config_path, "--listen", self.listen,
                "--data", self.data_dir]

    def env(self):
        env = dict(os.environ)
        env.update(self.extra_env)
        env["WHARF_ADMIN_PASSWORD"] = self.admin_password
        return env

    def start(self, timeout=30):
        if not self.binary.exists():
            raise FileNotFoundError(f"wharfd binary not found: {self.binary}")
        self.write_config()
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env())

        def healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"wharfd exited with {self.proc.returncode}")
            return http_status(self.url + "/healthz") == 200

        try:
            wait_until(healthy, timeout, f"wharfd /healthz on port {self.port}")
        except Exception:
            print(self.log())
            self.stop(cleanup=False)
            raise
        return self

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self):
        self.stop(cleanup=False)
        return self.start()

    def stop(self, cleanup=True):
        stop_process(self.proc, grace=10)
        if cleanup and os.path.isdir(self.tmp):
            self._final_log = read_log(self.log_path)  # log() works after cleanup
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- what the data dir holds -------------------------------------------------

    def blob_files(self):
        """Names of the files in DATA/blobs/sha256 (hex digests if all is well)."""
        d = Path(self.data_dir, "blobs", "sha256")
        return sorted(p.name for p in d.iterdir()) if d.is_dir() else []

    def blob_digests(self):
        return {"sha256:" + name for name in self.blob_files()
                if len(name) == 64 and all(c in "0123456789abcdef" for c in name)}

    def leftover_temp_files(self):
        """Files or directories under the data dir whose names mark unfinished work."""
        found = []
        for root, dirs, files in os.walk(self.data_dir):
            for name in dirs + files:
                if ".tmp-" in name or ".partial" in name:
                    found.append(os.path.relpath(os.path.join(root, name), self.data_dir))
        return found

    def settled_temp_files(self, timeout=5):
        """leftover_temp_files() once it is empty or `timeout` passed: an atomic
        write (index.json) may legitimately be in flight for a moment."""
        try:
            wait_until(lambda: not self.leftover_temp_files(), timeout, "temp files to go")
        except TimeoutError:
            pass
        return self.leftover_temp_files()

    def oci_ref_names(self):
        """{ref name: manifest digest} from DATA/index.json (the OCI layout)."""
        with open(os.path.join(self.data_dir, "index.json")) as f:
            index = json.load(f)
        return {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m["digest"]
                for m in index.get("manifests", [])}

    def add_user(self, name, password, admin=False):
        """`wharfd user add NAME --password-stdin` on this data dir (safe while wharfd runs)."""
        run = subprocess.run([str(self.binary), "user", "--data", self.data_dir, "add", name,
                              *(["--admin"] if admin else []), "--password-stdin"],
                             input=password + "\n", capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            raise RuntimeError(f"wharfd user add {name}: {run.stdout}{run.stderr}")

    def full_log(self):
        """The whole log as bytes (log() keeps only its end), while the tmp dir exists."""
        try:
            return Path(self.log_path).read_bytes()
        except OSError:
            return b""

    def log(self):
        text = read_log(self.log_path) or getattr(self, "_final_log", "")
        return f"---- wharfd log ({self.log_path}) ----\n{text}"

    def client(self, login=True):
        c = ApiClient(self.url)
        if login:
            status, body = c.login("admin", self.admin_password)
            if status != 200:
                raise RuntimeError(f"login failed: {status} {body}")
        return c

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class WharfTestCase(unittest.TestCase):
    """Base for tests against a wharfd: prints the daemon's log when a case fails
    and offers assertions for the API's error shape."""

    wharfd = None  # set by subclasses in setUpClass
    maxDiff = None

    def run(self, result=None):
        failures = (len(result.failures) + len(result.errors)) if result else 0
        outcome = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures and self.wharfd:
            sys.stderr.write(self.wharfd.log() + "\n")
        return outcome

    @classmethod
    def serve(cls, thing):
        """Starts a registry, proxy, server or wharfd for the whole class and stops it once
        the class is done, or at once if setUpClass fails later on (last started, first
        stopped). Returns it."""
        started = thing.start()
        cls.addClassCleanup(thing.stop)
        return started

    def answers(self, f, count, method="GET"):
        """`count` HTTP responses read in order off one connection (the binary file `f`):
        [(status, headers, body)]; the test fails, rather than errors, when some lack."""
        got, error = [], None
        try:
            for _ in range(count):
                got += read_responses(f, 1, method)
        except (http.client.HTTPException, OSError) as e:
            error = e
        if error is not None:
            self.fail(f"{len(got)} of {count} answers {[a[0] for a in got]}, then {error!r}")
        return got

    def answer(self, data, method="GET"):
        """The one response in `data` (status, headers, body); fails when there is none."""
        return self.answers(io.BytesIO(data), 1, method)[0]

    def assertError(self, status, body, code, message=None, mentions=None):
        """The documented error shape {"error": {"code": N, "message": "..."}}."""
        self.assertEqual(status, code, f"expected HTTP {code}, got {status}: {body}")
        self.assertIsInstance(body, dict, f"error body is not a JSON object: {body!r}")
        self.assertEqual(set(body), {"error"}, body)
        self.assertEqual(body["error"].get("code"), code, body)
        self.assertIsInstance(body["error"].get("message"), str, body)
        self.assertTrue(body["error"]["message"], body)
        if message is not None:
            self.assertEqual(body["error"]["message"], message)
        for word in mentions or []:
            self.assertIn(word.lower(), body["error"]["message"].lower(),
                          f"message should name {word!r}: {body}")
