"""Loopback proxies for the tests: a throttling TCP proxy, so a download can be
watched in progress, and a fault-injecting HTTP proxy (cuts, stalls, 503/429)."""

import random
import re
import socket
import threading
import time


class _Listener:
    """A loopback listener in front of `target` ("host:port"): accepts in a thread and
    hands each connection to `_accepted(client)`; stop() closes the listener."""

    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self._lock = threading.Lock()
        self._stopping = threading.Event()
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

    def start(self):
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._listener.close()
        self._close_connections()
        if self._thread:
            self._thread.join(timeout=5)

    def _close_connections(self):
        pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        self._listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self._accepted(client)


class ThrottleProxy(_Listener):
    """A loopback TCP proxy that forwards to `target` ("host:port") and limits
    the bytes sent back to clients to `rate` bytes per second (shared by all
    connections; None = unlimited). Counts the bytes it served."""

    CHUNK = 16 * 1024

    def __init__(self, target, rate=None):
        super().__init__(target)
        self.rate = rate
        self.served = 0
        self._budget_time = time.monotonic()
        self._conns = set()

    def set_rate(self, rate):
        with self._lock:
            self.rate = rate
            self._budget_time = time.monotonic()

    def _accepted(self, client):
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
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
                    # Counted before it is sent: a client that has read everything must
                    # find it counted (one chunk more if the send then fails).
                    with self._lock:
                        self.served += len(data)
                dst.sendall(data)
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

    def _close_connections(self):
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class FaultProxy(_Listener):
    """A fault-injecting loopback HTTP/1.1 proxy in front of `target` ("host:port").

    Each client connection carries one request: the proxy reads its head, records it
    in `requests` ({"method", "path", "headers" with lower-case names, "time" from
    time.monotonic()}), and
    forwards it to the target on a fresh connection with "Connection: close" - unless
    the first matching rule (see add_rule) injects a fault. Bytes that are not HTTP
    (a TLS ClientHello probing for https) get the connection closed, as a plain HTTP
    server would do.

        with FaultProxy(registry.host) as proxy:
            proxy.add_rule("status", path=r"/blobs/", times=2, status=503)
    """

    HEAD_LIMIT = 64 * 1024

    def __init__(self, target):
        super().__init__(target)
        self.requests = []
        self._rules = []

    def add_rule(self, action, method="GET", path="", times=1, status=503, headers=None,
                 body=b"", after=0, seconds=0.0, when=None, probability=1.0):
        """Injects a fault into the next `times` requests (None = every one) whose method
        is `method`, whose path matches the regex `path`, for which `when(headers)` (if
        given; lower-case header names) is true, and then only with `probability`.
        Actions:
          "status": answer `status` with `headers` and `body` instead of forwarding;
          "cut":    forward, then hang up after `after` bytes of the response body;
          "stall":  forward, send `after` body bytes, then nothing for `seconds`, then hang up;
          "flip":   forward all of it, but with the body byte at offset `after` inverted;
          "drop":   hang up without answering.
        `after` may be a function of the request's path and headers, called per request (a
        random offset for each)."""
        assert action in ("status", "cut", "stall", "flip", "drop")
        rule = {"action": action, "method": method, "path": re.compile(path), "times": times,
                "status": status, "headers": dict(headers or {}), "after": after,
                "seconds": seconds, "body": body.encode() if isinstance(body, str) else body,
                "when": when, "probability": probability, "hits": 0}
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_rules(self):
        with self._lock:
            self._rules.clear()

    def seen(self, method=None, path=""):
        """The recorded requests matching `method` (any if None) and the regex `path`."""
        pattern = re.compile(path)
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and pattern.search(r["path"])]

    def _accepted(self, client):
        threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _rule_for(self, method, path, headers):
        """The first rule that applies to this request, with its `after` resolved."""
        with self._lock:
            for rule in self._rules:
                if rule["method"] != method or not rule["path"].search(path):
                    continue
                if rule["times"] is not None and rule["hits"] >= rule["times"]:
                    continue
                if rule["when"] is not None and not rule["when"](headers):
                    continue
                if rule["probability"] < 1.0 and random.random() >= rule["probability"]:
                    continue
                rule["hits"] += 1
                after = rule["after"]
                if callable(after):
                    after = after(path, headers)
                return {**rule, "after": after}
        return None

    def _read_head(self, sock):
        """Bytes up to and including the blank line, and what followed; None if the
        peer closed, sent too much, or did not speak HTTP."""
        data = b""
        while b"\r\n\r\n" not in data:
            if len(data) > self.HEAD_LIMIT or self._stopping.is_set():
                return None
            chunk = sock.recv(16 * 1024)
            if not chunk:
                return None
            data += chunk
            if not data[:1].isupper():
                return None  # a TLS ClientHello, not HTTP
        end = data.index(b"\r\n\r\n") + 4
        return data[:end], data[end:]

    def _serve(self, client):
        upstream = None
        try:
            client.settimeout(10)
            got = self._read_head(client)
            if got is None:
                return
            head, _ = got
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            with self._lock:
                self.requests.append({"method": method, "path": path, "headers": headers,
                                      "time": time.monotonic()})
            rule = self._rule_for(method, path, headers)
            if rule and rule["action"] == "drop":
                return
            if rule and rule["action"] == "status":
                self._answer(client, rule)
                return
            upstream = socket.create_connection(self.target, timeout=10)
            out = [lines[0]] + [line for line in lines[1:]
                                if line and not line.lower().startswith("connection:")]
            upstream.sendall(("\r\n".join(out) + "\r\nConnection: close\r\n\r\n").encode("latin-1"))
            self._relay(upstream, client, rule)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()

    @staticmethod
    def _answer(client, rule):
        reasons = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                   503: "Service Unavailable", 504: "Gateway Timeout", 200: "OK"}
        headers = {"Content-Length": str(len(rule["body"])), "Connection": "close",
                   **rule["headers"]}
        head = f"HTTP/1.1 {rule['status']} {reasons.get(rule['status'], 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        client.sendall(head.encode("latin-1") + rule["body"])

    def _relay(self, upstream, client, rule):
        """Copies the response to the client; a cut or stall rule limits the body bytes, a
        flip rule changes one of them."""
        flip = rule["after"] if rule and rule["action"] == "flip" else None
        limit = rule["after"] if rule and rule["action"] in ("cut", "stall") else None
        head_done = False
        buffered = b""
        sent_body = 0
        while not self._stopping.is_set():
            data = upstream.recv(16 * 1024)
            if not data:
                return
            if not head_done:
                buffered += data
                if b"\r\n\r\n" not in buffered:
                    continue
                end = buffered.index(b"\r\n\r\n") + 4
                client.sendall(buffered[:end])
                data, head_done = buffered[end:], True
            if limit is not None and sent_body + len(data) >= limit:
                client.sendall(data[:limit - sent_body])
                if rule["action"] == "stall":
                    self._stopping.wait(rule["seconds"])
                return
            if flip is not None and sent_body <= flip < sent_body + len(data):
                i = flip - sent_body
                data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
            client.sendall(data)
            sent_body += len(data)
