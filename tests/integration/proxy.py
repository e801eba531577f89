"""A throttling loopback TCP proxy, so a download can be watched in progress."""

import socket
import threading
import time


class ThrottleProxy:
    """A loopback TCP proxy that forwards to `target` ("host:port") and limits
    the bytes sent back to clients to `rate` bytes per second (shared by all
    connections; None = unlimited). Counts the bytes it served."""

    CHUNK = 16 * 1024

    def __init__(self, target, rate=None):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.rate = rate
        self.served = 0
        self._lock = threading.Lock()
        self._budget_time = time.monotonic()
        self._stopping = threading.Event()
        self._conns = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._thread = None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    def set_rate(self, rate):
        with self._lock:
            self.rate = rate
            self._budget_time = time.monotonic()

    def start(self):
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self):
        self._listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _wait_for_budget(self, n):
        """Paces the downstream direction: each chunk is scheduled after the
        previous one at the current rate."""
        while not self._stopping.is_set():
            with self._lock:
                rate = self.rate
                if rate is None:
                    return
                now = time.monotonic()
                start = max(self._budget_time, now)
                if start - now < 0.05:
                    self._budget_time = start + n / rate
                    return
                delay = start - now
            time.sleep(min(delay, 0.05))

    def _pump(self, src, dst, downstream):
        src.settimeout(1.0)
        try:
            while not self._stopping.is_set():
                try:
                    data = src.recv(self.CHUNK)
                except socket.timeout:
                    continue
                if not data:
                    break
                if downstream:
                    self._wait_for_budget(len(data))
                dst.sendall(data)
                if downstream:
                    with self._lock:
                        self.served += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)

    def stop(self):
        self._stopping.set()
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
