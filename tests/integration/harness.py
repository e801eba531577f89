"""Servers and clients the wharf integration tests share.

Everything here is real: a docker-registry process, a throttling TCP proxy,
the wharfd binary, HTTP over 127.0.0.1. Every server is started on a free
loopback port, every wait is bounded, and every temporary directory is removed
when its owner stops. Python standard library only.
"""

import base64
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

from proxy import ThrottleProxy  # noqa: F401  (re-exported for the tests)

REPO_ROOT = Path(__file__).resolve().parents[2]

MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_until(predicate, timeout, what, interval=0.1):
    """Calls predicate until it returns a truthy value, which is returned.
    Connection errors are retried; other exceptions (assertions) propagate.
    Raises TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, http.client.HTTPException, ValueError) as e:
            last_error = e  # the server may not be up yet; assertions propagate
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}"
                               f" (last error: {last_error!r})")
        time.sleep(interval)


def serve_http(handler, port=0):
    """A ThreadingHTTPServer on 127.0.0.1:port (0: a free port) serving `handler` from a
    thread of its own; stop it with stop_http."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    return server


def stop_http(server):
    server.shutdown()
    server.server_close()


def http_status(url, timeout=2, context=None):
    """Status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, http.client.HTTPException):
        return None


def wharfd_binary():
    return Path(os.environ.get("WHARFD") or REPO_ROOT / "build" / "wharfd")


def stop_process(proc, grace=10):
    """SIGTERM, then SIGKILL after `grace` seconds. Safe to call twice."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def read_log(path, limit=20000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


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


def _toml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid TOML basic string


class Wharfd:
    """The wharfd binary, started on a free loopback port with its own data dir.

    registries: {host: {"username":..., "password":..., "insecure": bool}}
    """

    def __init__(self, registry_url, registries=None, data_dir=None, binary=None,
                 env=None, platform="", port=None, max_concurrent=3, failed_ttl_s=600,
                 host="127.0.0.1", top_toml="", extra_toml="", index_url=None,
                 dockerhub_toml="", mirrors=(), downloads_toml=""):
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
        os.makedirs(self.data_dir, exist_ok=True)
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


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (get_all works)
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None


class ApiClient:
    """The wharf API as `curl -b cookies.txt -c cookies.txt` uses it."""

    def __init__(self, base_url, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.ProxyHandler({}))

    def request(self, method, path, body=None, form=None, headers=None):
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=self.timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def bare(self, method, path):
        """A request with the session cookie and no body nor Content-Length, as
        `curl -XPOST -b cookies.txt URL` sends it (urllib always adds a length)."""
        host = urllib.parse.urlsplit(self.base_url).netloc
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        conn = http.client.HTTPConnection(host, timeout=self.timeout)
        try:
            conn.putrequest(method, path)
            if cookie:
                conn.putheader("Cookie", cookie)
            conn.endheaders()
            resp = conn.getresponse()
            r = Response(resp.status, resp.headers, resp.read())
            return r.status, r.json
        finally:
            conn.close()

    def call(self, method, path, body=None):
        r = self.request(method, path, body=body)
        return r.status, r.json

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None):
        return self.call("POST", path, body)

    def put(self, path, body=None):
        return self.call("PUT", path, body)

    def delete(self, path):
        return self.call("DELETE", path)

    def login(self, user, password, form=True):
        creds = {"username": user, "password": password}
        r = self.request("POST", "/api/v1/login", form=creds if form else None,
                         body=None if form else creds)
        return r.status, r.json

    def logout(self):
        return self.put("/api/v1/logout")

    def local_images(self):
        status, body = self.get("/api/v1/image/?from=local")
        if status != 200:
            raise AssertionError(f"GET local listing -> {status} {body}")
        return {entry["name"]: entry for entry in body["results"]}

    def download(self, name, tag, depot="dockerhub", meta=None):
        path = f"/api/v1/image/{depot}/docker/{name}/{tag}/download"
        return self.post(path, meta if meta is not None else {})

    def download_jobs(self):
        status, body = self.get("/api/v1/image/downloadstatus")
        if status != 200:
            raise AssertionError(f"GET downloadstatus -> {status} {body}")
        return body

    @staticmethod
    def find_job(jobs, name, tag):
        for job in jobs:
            if job.get("name") == name and job.get("tag", tag) == tag:
                return job
        return None

    def wait_jobs(self, refs, timeout=120, seen=None):
        """Polls downloadstatus until every (name, tag) in refs has left the list
        (finished) or shows status "failed". Returns {(name, tag): None when
        finished, else the failed entry}. Appends every entry observed to `seen`.
        Raises TimeoutError."""
        pending = set(refs)
        results = {}

        def settled():
            jobs = self.download_jobs()
            if seen is not None:
                seen.extend(jobs)
            for ref in list(pending):
                job = self.find_job(jobs, *ref)
                if job is None or job.get("status") == "failed":
                    results[ref] = job
                    pending.discard(ref)
            return not pending

        wait_until(settled, timeout, f"downloads of {sorted(pending)}", interval=0.2)
        return results

    def wait_download(self, name, tag, timeout=120, seen=None):
        """None when the job finished, its entry when it failed."""
        return self.wait_jobs([(name, tag)], timeout, seen)[(name, tag)]


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
