"""HTTP load for the API benchmark: wrk at N connections, single sequential GETs,
idle connections held open beside them, podman's Docker-compatible service, and a wharfd
filled through its own API."""

import os
import re
import resource
import select
import socket
import subprocess
import threading
import time

import harness  # tests/integration, put on sys.path by run.py
import floor
import tools
from report import median


WRK_LAT = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url, conns, seconds, headers=(), strict=True):
    """wrk's req/s, p50 and p99 (ms) and its timeouts. strict: socket errors (other than
    timeouts) and non-2xx answers raise; otherwise they are counted ("errors", "non2xx")."""
    threads = min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    text = out.stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    socket_errors = sum(int(errors.group(i)) for i in (1, 2, 3)) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    non2xx = int(non2xx.group(1)) if non2xx else 0
    if strict and (non2xx or socket_errors):
        raise RuntimeError(f"wrk saw errors against {url}:\n{text}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {p: float(v) * UNITS[u] for p, v, u in WRK_LAT.findall(text)}
    # Requests still unanswered after wrk's 10 s timeout (a saturated server) count as
    # timeouts, not answers; the latency percentiles are of the answered ones.
    timeouts = int(errors.group(4)) if errors else 0
    result = {"rps": rps, "p50": lat.get("50", 0.0), "p99": lat.get("99", 0.0),
              "timeouts": timeouts}
    if not strict:
        result.update(errors=socket_errors, non2xx=non2xx)
    return result


def one_request_ms(url, headers=(), count=3, budget_s=60):
    """Median time of single sequential GETs (at most `count`, within about budget_s)."""
    times = []
    t_end = time.monotonic() + budget_s
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total}"]
    for h in headers:
        cmd += ["-H", h]
    while len(times) < count and (not times or time.monotonic() < t_end):
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=300).stdout
        times.append(float(out) * 1000)
    return median(times)


def check_200(url, headers=()):
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for h in headers:
        cmd += ["-H", h]
    code = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=60).stdout
    if code != "200":
        raise RuntimeError(f"GET {url} -> {code}")


class IdleConnections:
    """`count` TCP connections to a server, opened from `source` (another loopback address,
    bound with port 0, so that they are another client to a per-address limit) and held
    open doing nothing: even ones send nothing at all, odd ones the start of a request
    (request line and a header, no blank line: a client that stalls mid-headers). A thread
    checks them every `check_s` and re-opens any the server closed, at most `max_reopens`
    times in all, so that a server that drops them costs a bounded churn; `reopened` and
    `min_open` (the fewest open at a check while the thread ran) say how well they were held.
    Loopback only; every wait is bounded.

        with IdleConnections("127.0.0.1", port, 1000) as idle: ... idle.open_now() ...
    """

    PARTIAL = (b"GET /api/v1/image/?from=local HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"User-Agent: wharf-bench-idle\r\n")

    def __init__(self, host, port, count, source="127.0.0.2", check_s=0.5, max_reopens=None):
        if not (host.startswith("127.") and source.startswith("127.")):
            raise ValueError(f"IdleConnections is for loopback only, not {source} -> {host}")
        self.host, self.port, self.count, self.source = host, port, count, source
        self.check_s = check_s
        self.max_reopens = count * 5 if max_reopens is None else max_reopens
        self.socks = [None] * count
        self.reopened = 0
        self.failed = 0  # connects that failed (refused, timed out)
        self.min_open = None
        self._stop = threading.Event()
        self._thread = None

    def _connect(self, i, timeout=2):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(timeout)
            s.bind((self.source, 0))
            s.connect((self.host, self.port))
            if i % 2:
                s.sendall(self.PARTIAL)
            s.setblocking(False)
        except OSError:
            s.close()
            self.failed += 1
            return None
        return s

    def _closed(self):
        """Indices of the connections the server closed (or answered: an error status
        ends the connection as far as holding it goes); closes them on this side."""
        fds = {s.fileno(): i for i, s in enumerate(self.socks) if s is not None}
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN | select.POLLRDHUP)
        gone = []
        for fd, _ in poller.poll(0):
            i = fds[fd]
            gone.append(i)
            self.socks[i].close()
            self.socks[i] = None
        return gone

    def open_now(self):
        return sum(1 for s in self.socks if s is not None)

    def _watch(self):
        while not self._stop.wait(self.check_s):
            self._closed()
            now = self.open_now()
            self.min_open = now if self.min_open is None else min(self.min_open, now)
            pass_end = time.monotonic() + 2  # a pass re-opens for 2 s at most
            for i in [i for i, s in enumerate(self.socks) if s is None]:
                if (self.reopened >= self.max_reopens or time.monotonic() > pass_end
                        or self._stop.is_set()):
                    break
                self.reopened += 1
                self.socks[i] = self._connect(i)

    def open_all(self, budget_s=60):
        """Opens every connection, in `budget_s` at most (a server that does not accept
        them makes each connect wait for its timeout)."""
        deadline = time.monotonic() + budget_s
        for i in range(self.count):
            if time.monotonic() > deadline:
                self.failed += self.count - i
                break
            self.socks[i] = self._connect(i)

    def __enter__(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < self.count + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, self.count + 1024), hard))
        self.open_all()
        if not self.open_now():
            self.close()
            raise RuntimeError(f"no idle connection to {self.host}:{self.port} from "
                               f"{self.source} could be opened")
        time.sleep(self.check_s)  # let the server accept, and refuse, what it will
        self._closed()
        self.min_open = self.open_now()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def close(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        for i, s in enumerate(self.socks):
            if s is not None:
                s.close()
                self.socks[i] = None

    def __exit__(self, *exc):
        self.close()


class PodmanService:
    def __init__(self, podman, root):
        self.podman = podman
        self.root = root
        self.port = tools.free_port()
        self.proc = None

    def __enter__(self):
        self.log = open(os.path.join(self.root, "service.log"), "wb")
        self.proc = subprocess.Popen(
            tools.Podman.base(self.root) + ["system", "service", "--time=0",
                                            f"tcp://127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.podman.env())
        tools.wait_http(self.url("/_ping"), 60, self.proc, interval=0.05)
        return self

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/v1.41{path}"

    def wait_idle(self, quiet_s=0.5, max_s=120):
        """Waits until the service has stopped working on requests wrk already gave up on
        (podman goes on answering them for seconds), so that it does not take the CPU from
        the next measurement. Returns the seconds waited (at most max_s)."""
        t0 = time.monotonic()
        last = floor.process_cpu_s(self.proc.pid)
        while time.monotonic() - t0 < max_s:
            time.sleep(quiet_s)
            now = floor.process_cpu_s(self.proc.pid)
            if now - last < 0.05 * quiet_s:  # under 5% of a core
                break
            last = now
        return time.monotonic() - t0

    def __exit__(self, *exc):
        harness.stop_process(self.proc, grace=10)
        self.log.close()


def load_wharf(args, reg, images, data_dir, max_concurrent=16):
    """Pulls `images` into a wharfd over its API (the honest route). Returns seconds."""
    w = tools.Wharf(args.wharfd, reg, max_concurrent=max_concurrent).start(data_dir=data_dir)
    try:
        api = tools.Api(w)
        seconds = tools.pull_through_api(api, images, timeout=3600)
        status, body = api.call("GET", "/api/v1/image/?from=local")
        if status != 200 or body["total_count"] != len(images):
            raise RuntimeError(f"wharf lists {body.get('total_count')} images, "
                               f"expected {len(images)}")
        api.close()
        return seconds
    finally:
        w.stop()  # removes its config and log; the data dir stays
