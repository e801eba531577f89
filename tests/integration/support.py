"""Small helpers of the integration tests: free loopback ports, bounded waits, loopback
HTTP servers in a thread, stopping processes, reading logs. Python standard library only."""

import http.client
import socket
import subprocess
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
