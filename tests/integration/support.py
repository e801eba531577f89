"""Small helpers of the integration tests: free loopback ports, bounded waits, loopback HTTP
servers in a thread, stopping processes, reading logs; raw HTTP from any 127/8 address, the
memory and descriptors of a process, and a prober that measures how promptly a server answers.
Python standard library only."""

import http.client
import io
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path


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


# --- raw HTTP over loopback, for the tests of the HTTP server itself -----------------------

_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def connect_from(source, port, host="127.0.0.1", timeout=10, rcvbuf=None):
    """A TCP connection to host:port from the local address `source`: on Linux all of 127/8
    is local, so 127.0.0.2 is another client address than 127.0.0.1. rcvbuf: SO_RCVBUF, set
    before connecting so that the window stays small (a client that does not read)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)  # the port at connect
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((source, 0))
        s.settimeout(timeout)
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def request_bytes(method, path, headers=(), body=b"", host="127.0.0.1"):
    """An HTTP/1.1 request as bytes: the Host header (none when host is None), `headers`
    ("Name: value" lines), and a Content-Length when there is a body."""
    lines = [f"{method} {path} HTTP/1.1", *([f"Host: {host}"] if host else []), *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def recv_until_closed(sock, timeout=10, limit=4 << 20):
    """Everything the server sends until it closes (or resets) the connection."""
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass  # the caller checks what came
    return data


class Watch:
    """Reads many non-blocking sockets at once: what each received and when it was closed."""

    def __init__(self, socks):
        self.sel = selectors.DefaultSelector()
        self.data = {s: b"" for s in socks}
        self.closed = {s: None for s in socks}  # monotonic time of EOF or reset
        for s in socks:
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)

    def open(self):
        return [s for s, t in self.closed.items() if t is None]

    def mark_closed(self, s):
        if self.closed[s] is None:
            self.closed[s] = time.monotonic()
            self.sel.unregister(s)

    def poll(self, timeout):
        for key, _ in self.sel.select(timeout):
            try:
                chunk = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                self.data[key.fileobj] += chunk
            else:
                self.mark_closed(key.fileobj)

    def run(self, seconds, done=None):
        """Polls for `seconds`, or until every socket is closed or done() is true."""
        end = time.monotonic() + seconds
        while self.open() and time.monotonic() < end and not (done and done()):
            self.poll(min(0.1, max(0.0, end - time.monotonic())))
        return self

    def close(self):
        self.sel.close()


class _SharedFile:
    """A socket stand-in for http.client.HTTPResponse whose makefile() is one buffered file,
    which the response does not close: responses read one after another off one connection."""

    class _Unclosable:
        def __init__(self, f):
            self._f = f

        def __getattr__(self, name):
            return getattr(self._f, name)

        def close(self):
            pass

    def __init__(self, f):
        self._f = f

    def makefile(self, *_args, **_kw):
        return self._Unclosable(self._f)


def read_responses(f, count, method="GET"):
    """`count` HTTP responses read in order from the binary file `f` (sock.makefile("rb") or
    io.BytesIO): [(status, {lower-case header: value}, body)]. 1xx answers are skipped."""
    out = []
    for _ in range(count):
        r = http.client.HTTPResponse(_SharedFile(f), method=method)
        r.begin()
        body = r.read()
        out.append((r.status, {k.lower(): v for k, v in r.getheaders()}, body))
    return out


def parse_response(data, method="GET"):
    """(status, headers, body) of the one HTTP response in the bytes `data`."""
    return read_responses(io.BytesIO(data), 1, method)[0]


def proc_status_kib(pid, field="VmRSS"):
    """A field of /proc/PID/status in KiB (VmRSS: resident memory, VmHWM: its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def open_fds(pid):
    """How many file descriptors the process holds (its sockets among them)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


class Prober:
    """Measures how promptly a server answers while a test loads it: GET /healthz and a
    logged-in GET /api/v1/image/?from=local in turn, each on a new connection from 127.0.0.1,
    every `interval` s, from a process of its own (so that the load the test makes in its own
    threads cannot delay the probes). Each probe's latency runs from connect to last byte; a
    probe that fails or is not 200 is a failure (its latency counts as `timeout`).

        with Prober(port, cookie) as probe:  ...load...
        probe.result -> {"count", "worst", "worst_path", "worst_at", "median", "failures": [...],
                         "stall": the prober's own worst delay in waking (a busy machine's)}
    """

    PATHS = ("/healthz", "/api/v1/image/?from=local")

    def __init__(self, port, cookie, interval=0.05, timeout=5.0, max_s=300, label=None):
        self.args = [str(port), str(interval), str(timeout), str(max_s)]
        self.label = label  # set: the summary is printed under it when the probes stop
        self.cookie = cookie
        self.proc = None
        self.result = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "probe",
                                      *self.args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write(self.cookie + "\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("the prober did not start")
        return self

    def stop(self):
        if self.proc is None:
            return self.result
        try:
            out, _ = self.proc.communicate(timeout=30)  # closing stdin ends its loop
            self.result = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None
        if self.label:
            print(f"\n{self.label}: probes: {self.summary()}", flush=True)
        return self.result

    def summary(self):
        r = self.result or {}
        return (f"{r.get('count', 0)} probes, worst {r.get('worst', 0):.3f} s "
                f"({r.get('worst_path')}, {r.get('worst_at', 0):.1f} s in), median "
                f"{r.get('median', 0):.3f} s, {len(r.get('failures', []))} failed "
                f"{r.get('failures', [])[:5]}; the prober itself waited up to "
                f"{r.get('stall', 0):.3f} s for the CPU")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _probe_main(port, interval, timeout, max_s):
    cookie = sys.stdin.readline().strip()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("ready", flush=True)
    latencies, failures = [], []
    began = time.monotonic()
    end = began + max_s
    stall = 0.0  # the prober's own worst oversleep: how long the machine kept it waiting
    i = 0
    while not stop.is_set() and time.monotonic() < end:
        path = Prober.PATHS[i % len(Prober.PATHS)]
        i += 1
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if "/api/" in path else {})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                failures.append(f"{path}: HTTP {resp.status} {body[:200]!r}")
            latency = time.monotonic() - start
        except (OSError, http.client.HTTPException) as e:
            failures.append(f"{path}: {e!r} after {time.monotonic() - start:.3f} s")
            latency = max(timeout, time.monotonic() - start)
        finally:
            conn.close()
        latencies.append((latency, path, start - began))
        wake = time.monotonic() + interval
        stop.wait(interval)
        stall = max(stall, time.monotonic() - wake)
    ordered = sorted(latencies)
    worst = ordered[-1] if ordered else (0.0, None, 0.0)
    print(json.dumps({"count": len(latencies), "worst": worst[0], "worst_path": worst[1],
                      "worst_at": worst[2], "stall": stall,
                      "median": ordered[len(ordered) // 2][0] if ordered else 0.0,
                      "failures": failures}), flush=True)


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "probe":
    _probe_main(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
