"""Registry calls made for an API request (remote inspect, tags) have a total deadline,
`[http] upstream_timeout_s`, besides the stall detection, stop as soon as the client that
asked goes away, and however many there are, never delay the requests answered from
wharfd's own data. Against a registry on loopback that drips its answers a byte every 0.3 s
(stall detection alone never fires on it)."""

import http.server
import socket
import threading
import time
import unittest

from api_client import ApiClient
from harness import WharfTestCase, Wharfd, session_cookie
from support import Prober, request_bytes, serve_http, stop_http

DRIP_S = 0.3
DRIP_BYTES = 2000  # 10 minutes of dripping: far longer than any deadline here


class DripRegistry:
    """/v2/ answers 200 at once; every other GET answers 200 and drips its body. Records
    the requests it saw and how each drip ended ("done", or the error that cut it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.started = []  # paths whose drip began
        self.ended = {}    # path -> (monotonic time, how)
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/v2/":
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                self.send_response(200)
                self.send_header("Content-Type",
                                 "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", str(DRIP_BYTES))
                self.end_headers()
                with owner.lock:
                    owner.started.append(self.path)
                how = "done"
                try:
                    for _ in range(DRIP_BYTES):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(DRIP_S)
                except OSError as e:
                    how = type(e).__name__
                with owner.lock:
                    owner.ended[self.path] = (time.monotonic(), how)
                self.close_connection = True

        self.server = serve_http(Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        stop_http(self.server)


class UpstreamDeadlineTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = DripRegistry()
        cls.addClassCleanup(cls.registry.stop)

    def test_remote_inspect_ends_at_the_deadline(self):
        with Wharfd("http://127.0.0.1:9", http={"upstream_timeout_s": 2}) as wharfd:
            api = wharfd.client()
            start = time.monotonic()
            status, body = api.get(
                f"/api/v1/image/docker/{self.registry.host}/drip/latest/remote_inspect")
            took = time.monotonic() - start
            print(f"\nremote inspect of a dripping registry: {status} after {took:.2f} s")
            self.assertEqual(status, 502, body)
            self.assertIn("upstream_timeout_s", body["error"]["message"])
            self.assertGreaterEqual(took, 1.9)
            self.assertLess(took, 10, "the deadline is 2 s; stall detection never fires here")

    def test_a_client_that_leaves_stops_the_registry_call(self):
        with Wharfd("http://127.0.0.1:9", http={"upstream_timeout_s": 600}) as wharfd:
            api = wharfd.client()
            path = f"/api/v1/image/dockerhub/docker/0/{self.registry.host}/gone/tags"
            cookie = session_cookie(api)
            sock = socket.create_connection(("127.0.0.1", wharfd.port), timeout=10)
            sock.sendall(request_bytes("GET", path, headers=[f"Cookie: {cookie}"]))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with self.registry.lock:
                    if any("/gone/" in p for p in self.registry.started):
                        break
                time.sleep(0.05)
            else:
                self.fail(f"wharfd never asked the registry for the tags: {self.registry.started}")
            left = time.monotonic()
            sock.close()
            ended = None
            while time.monotonic() < left + 15 and ended is None:
                with self.registry.lock:
                    ended = next((v for p, v in self.registry.ended.items() if "/gone/" in p),
                                 None)
                time.sleep(0.05)
            self.assertIsNotNone(ended, "the registry call went on after the client left")
            at, how = ended
            print(f"\nregistry call cut {at - left:.2f} s after the client left ({how})")
            self.assertNotEqual(how, "done")
            self.assertLess(at - left, 10)
            # wharfd itself is fine and answers the next request at once.
            self.assertEqual(api.get("/healthz")[0], 200)

    def test_many_slow_registry_calls_do_not_stall_the_others(self):
        # A logged-in non-admin user asks 70 remote inspects of the dripping registry at
        # once: they wait on the pool for upstream calls, never on the one that answers from
        # memory, so health checks and listings stay prompt.
        # All from 127.0.0.1, with the prober: the per-client limit is raised out of the way.
        http = {"upstream_timeout_s": 6, "max_connections_per_client": 256}
        # A configured registry: a user who is not an admin may reach it
        # ([security] user_registries).
        with Wharfd("http://127.0.0.1:9", http=http,
                    registries={self.registry.host: {"insecure": True}}) as wharfd:
            wharfd.add_user("viewer", "viewer-password")
            viewer = ApiClient(wharfd.url)
            self.assertEqual(viewer.login("viewer", "viewer-password")[0], 200)
            path = f"/api/v1/image/docker/{self.registry.host}/many/latest/remote_inspect"
            statuses = []
            lock = threading.Lock()

            def inspect():
                got = viewer.get(path)[0]  # one client, its session shared by the threads
                with lock:
                    statuses.append(got)

            with Prober(wharfd.port, session_cookie(wharfd.client()),
                        label="70 dripping remote inspects") as probe:
                threads = [threading.Thread(target=inspect) for _ in range(70)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=90)
            r = probe.result
            self.assertIsNotNone(r, "the prober gave no result")
            self.assertGreater(r["count"], 5)
            self.assertEqual(r["failures"], [])
            self.assertLess(r["worst"], 1.0, f"a probe took {r['worst']:.3f} s")
            # Each one ends at its deadline (those queued behind the 64 first, a deadline later).
            self.assertEqual(sorted(set(statuses)), [502], statuses)
            self.assertEqual(len(statuses), 70)


if __name__ == "__main__":
    unittest.main()
