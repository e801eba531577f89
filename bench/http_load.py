"""HTTP load for the API benchmark: wrk at N connections, single sequential GETs,
podman's Docker-compatible service, and a wharfd filled through its own API."""

import os
import re
import subprocess
import time

import harness  # tests/integration, put on sys.path by run.py
import floor
import tools
from report import median


WRK_LAT = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url, conns, seconds, headers=()):
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
    if "Non-2xx" in text or (errors and any(int(errors.group(i)) for i in (1, 2, 3))):
        raise RuntimeError(f"wrk saw errors against {url}:\n{text}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {p: float(v) * UNITS[u] for p, v, u in WRK_LAT.findall(text)}
    # Requests still unanswered after wrk's 10 s timeout (a saturated server) count as
    # timeouts, not answers; the latency percentiles are of the answered ones.
    timeouts = int(errors.group(4)) if errors else 0
    return {"rps": rps, "p50": lat.get("50", 0.0), "p99": lat.get("99", 0.0),
            "timeouts": timeouts}


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
