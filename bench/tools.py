"""The contenders of the pull benchmark, each pulling images from the loopback
registry into an empty store and returning the wall time: wharf (through its
API), skopeo (copy to an OCI layout), podman (pull into vfs storage) and curl
(every blob in parallel to /dev/null: what the registry can serve).
"""

import concurrent.futures
import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import harness  # tests/integration, put on sys.path by run.py
from api_client import EventStream
from fixtures import skopeo_policy

# Data dirs are reused across wharfd starts, so the admin password is fixed.
ADMIN_PASSWORD = "wharf-bench"


def rss_kib(pid, field="VmRSS"):
    """VmRSS (or VmHWM) of a process in KiB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples a process's VmRSS every few milliseconds in a thread; peak in KiB."""

    def __init__(self, pid, interval=0.005):
        self.pid = pid
        self.interval = interval
        self.peak = rss_kib(pid) or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            v = rss_kib(self.pid)
            if v is None:
                return
            self.peak = max(self.peak, v)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        v = rss_kib(self.pid)
        if v:
            self.peak = max(self.peak, v)


class Api:
    """A keep-alive client of the wharf API with the session cookie (urllib opens a
    connection per request, which would cost more than what is measured)."""

    def __init__(self, wharfd):
        api = wharfd.client()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in api.jar)
        self.host = urllib.parse.urlsplit(wharfd.url).netloc
        self.conn = None

    def call(self, method, path, body=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, timeout=60)
            headers = {"Cookie": self.cookie}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn:
            self.conn.close()


def wharf_name(image):
    # wharfd's Docker Hub is the loopback registry, so "bench/a" is pulled from it.
    return image.repo


class Wharf:
    """A fresh wharfd (new data dir) per measurement, stopped afterwards."""

    name = "wharf"

    def __init__(self, binary, registry, max_concurrent=3, data_parent=None, top_toml="",
                 extra_toml=""):
        self.binary = binary
        self.registry = registry
        self.max_concurrent = max_concurrent
        self.data_parent = data_parent
        self.top_toml = top_toml      # more top-level keys of wharfd's config
        self.extra_toml = extra_toml  # more tables ([http] ...), appended to it
        self.last_rss = None  # (idle KiB before the pull, peak KiB during it)

    def start(self, data_dir=None):
        w = harness.Wharfd(self.registry.url, binary=self.binary,
                           max_concurrent=self.max_concurrent, data_dir=data_dir,
                           top_toml=self.top_toml, extra_toml=self.extra_toml)
        w.admin_password = ADMIN_PASSWORD
        w.start()
        return w

    def pull(self, images, timeout=1800):
        w = self.start()
        try:
            api = Api(w)
            api.call("GET", "/api/v1/image/?from=local")  # warm the connection
            idle = rss_kib(w.proc.pid)
            with RssSampler(w.proc.pid) as rss:
                seconds = pull_through_api(api, images, timeout)
            self.last_rss = (idle, rss.peak)
            local = api.call("GET", "/api/v1/image/?from=local")[1]
            names = {e["name"] for e in local["results"]}
            missing = [i.repo for i in images if wharf_name(i) not in names]
            if missing:
                raise RuntimeError(f"wharf finished but {missing[:3]} are not local")
            api.close()
            return seconds
        except Exception:
            print(w.log())
            raise
        finally:
            w.stop()


class EventWatch:
    """Follows GET /api/v1/events in a thread and notes when each image is added and which
    jobs failed, so a pull's end is seen when it happens rather than at the next poll.
    Opened before the downloads are asked for, so nothing is missed."""

    def __init__(self, api, timeout=3600):
        self.stream = EventStream(api.host, api.cookie, timeout=60)
        self.added = {}    # (name, tag) -> monotonic time of its `image` added event
        self.failed = {}   # (name, tag) -> error
        self.cond = threading.Condition()
        self.closing = False
        self.thread = threading.Thread(target=self._read, args=(timeout,), daemon=True)
        self.thread.start()

    def _read(self, timeout):
        try:
            for _, event, body in self.stream.events(lambda e: False, deadline_s=timeout):
                with self.cond:
                    key = (body.get("name"), body.get("tag"))
                    if event == "image" and body.get("action") == "added":
                        self.added.setdefault(key, time.monotonic())
                    elif event == "job" and body.get("status") == "failed":
                        self.failed[key] = body.get("error")
                    self.cond.notify_all()
        except Exception:  # noqa: BLE001 -- http.client fails in odd ways when closed under it
            if not self.closing:
                raise

    def wait(self, wanted, deadline):
        """Monotonic time at which the last of `wanted` was added."""
        with self.cond:
            while True:
                failed = [(k, e) for k, e in self.failed.items() if k in wanted]
                if failed:
                    raise RuntimeError(f"wharf download failed: {failed[0]}")
                if wanted <= self.added.keys():
                    return max(self.added[k] for k in wanted)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"wharf pulls not done: {sorted(wanted - self.added.keys())[:3]}")
                self.cond.wait(min(left, 1.0))

    def close(self):
        self.closing = True
        # http.client hands the socket to the response of a stream that has no length (and
        # clears conn.sock): shut that one down, or the reader waits for its timeout.
        sock = self.stream.conn.sock or getattr(getattr(self.stream.resp.fp, "raw", None),
                                                "_sock", None)
        if sock:
            sock.shutdown(socket.SHUT_RDWR)
        self.stream.close()
        self.thread.join(timeout=5)


def pull_through_api(api, images, timeout):
    """Asks wharf for every image and waits for the events stream to report each one
    added to local. Returns the seconds from the first request to the last image being
    complete."""
    watch = EventWatch(api)
    try:
        t0 = time.monotonic()
        for image in images:
            status, body = api.call("POST", f"/api/v1/image/dockerhub/docker/"
                                            f"{wharf_name(image)}/{image.tag}/download", {})
            if status != 200:
                raise RuntimeError(f"download {image.repo} -> {status} {body}")
        wanted = {(wharf_name(i), i.tag) for i in images}
        return watch.wait(wanted, t0 + timeout) - t0
    finally:
        watch.close()


def _timed(cmd, env=None, timeout=1800):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}... failed ({proc.returncode}): "
                           f"{proc.stderr[-800:]}")
    return seconds


class Skopeo:
    """skopeo copy docker://... oci:DIR, `parallel` images at once (each into its own
    layout, as concurrent copies into one layout would race on index.json)."""

    name = "skopeo"

    def __init__(self, registry, parallel=3, tmp_parent=None):
        self.registry = registry
        self.parallel = parallel
        self.tmp_parent = tmp_parent

    def command(self, image, layout):
        return ["skopeo", "--policy", skopeo_policy(), "copy", "--quiet",
                "--src-tls-verify=false", f"docker://{self.registry.host}/{image.repo}:{image.tag}",
                f"oci:{layout}:{image.tag}"]

    def pull(self, images):
        work = tempfile.mkdtemp(prefix="bench-skopeo-", dir=self.tmp_parent)
        try:
            if len(images) == 1:
                return _timed(self.command(images[0], os.path.join(work, "oci")))
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(self.parallel) as pool:
                list(pool.map(lambda ix: _timed(self.command(ix[1], os.path.join(work, str(ix[0])))),
                              enumerate(images)))
            return time.monotonic() - t0
        finally:
            shutil.rmtree(work, ignore_errors=True)


class Podman:
    """podman pull into a fresh vfs storage (--root/--runroot temp dirs)."""

    name = "podman"

    def __init__(self, registry, tmp_parent=None):
        self.registry = registry
        self.tmp_parent = tmp_parent
        self.conf_dir = tempfile.mkdtemp(prefix="bench-podman-conf-")
        self.registries_conf = os.path.join(self.conf_dir, "registries.conf")
        # insecure here rather than --tls-verify=false: podman 4.3 ignores the flag with
        # --all-tags.
        with open(self.registries_conf, "w") as f:
            f.write(f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')

    def env(self):
        return dict(os.environ, CONTAINERS_REGISTRIES_CONF=self.registries_conf)

    @staticmethod
    def base(root):
        """podman with its storage in root/root and its runroot in root/run, which
        is a link to a short path: podman refuses runroots over 50 characters."""
        run = os.path.join(root, "run")
        if not os.path.islink(run):
            os.symlink(tempfile.mkdtemp(prefix="bpr-", dir="/tmp"), run)
        return ["podman", "--events-backend", "none", "--root", os.path.join(root, "root"),
                "--runroot", os.readlink(run), "--storage-driver", "vfs"]

    @staticmethod
    def remove(root):
        run = os.path.join(root, "run")
        if os.path.islink(run):
            shutil.rmtree(os.readlink(run), ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)

    def pull(self, images):
        root = tempfile.mkdtemp(prefix="bench-podman-", dir=self.tmp_parent)
        try:
            refs = [f"{self.registry.host}/{i.repo}:{i.tag}" for i in images]
            return _timed(self.base(root) + ["pull", "--quiet", "--tls-verify=false", *refs],
                          env=self.env())
        finally:
            self.remove(root)

    def close(self):
        shutil.rmtree(self.conf_dir, ignore_errors=True)


class Curl:
    """Every manifest and blob of the images, fetched in parallel to /dev/null."""

    name = "curl"

    def __init__(self, registry, parallel=16):
        self.registry = registry
        self.parallel = parallel

    def urls(self, images):
        urls = []
        seen = set()
        for image in images:
            urls.append(f"{self.registry.url}/v2/{image.repo}/manifests/{image.tag}")
            for blob in image.blobs:
                if blob.digest not in seen:
                    seen.add(blob.digest)
                    urls.append(f"{self.registry.url}/v2/{image.repo}/blobs/{blob.digest}")
        return urls

    def pull(self, images):
        """Wall seconds; self.last_cpu_s is the CPU time curl took (user + system, its
        kernel receive copies included): what receiving the bytes costs any client."""
        cmd = ["curl", "--silent", "--show-error", "--fail", "--location", "--parallel",
               "--parallel-max", str(self.parallel),
               "-H", "Accept: application/vnd.oci.image.manifest.v1+json"]
        for url in self.urls(images):
            cmd += ["-o", "/dev/null", url]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = _timed(cmd)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.last_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return seconds


def wait_http(url, timeout, proc=None, interval=0.002):
    """Seconds until GET url answers 200 (polling every `interval`)."""
    parts = urllib.parse.urlsplit(url)
    t0 = time.monotonic()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            conn = http.client.HTTPConnection(parts.netloc, timeout=2)
            conn.request("GET", parts.path or "/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout}s")
        time.sleep(interval)


def config_accepts(binary, table, key, value):
    """True if this wharfd binary accepts `key = value` (in [table], or top-level if table is
    empty) in its config: its parsing is strict, so an older binary refuses a key it does not
    know ("...: http.header_timeout_s: unknown key", exit 2). Starts nothing: the bogus
    --listen is refused right after the config is read."""
    with tempfile.TemporaryDirectory(prefix="wharf-bench-probe-") as d:
        config = os.path.join(d, "probe.toml")
        with open(config, "w") as f:
            f.write((f"[{table}]\n" if table else "") + f"{key} = {value}\n")
        out = subprocess.run([str(binary), "--config", config, "--listen", "probe-no-port",
                              "--data", os.path.join(d, "data")],
                             capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    text = out.stdout + out.stderr
    name = f"{table}.{key}" if table else key
    if "unknown key" in text:  # the key, or its whole table ("probe.toml: http: unknown key")
        return False
    if name in text:  # known, but the value is refused: the bench's config is wrong
        raise RuntimeError(f"{binary} refuses {name} = {value}: {text.strip()}")
    return True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
