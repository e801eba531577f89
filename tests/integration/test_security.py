"""Security and HTTP hardening: the session wall over the whole route table, admin-only
changes, cross-site requests, login throttling, request limits and timeouts, the audit log,
secrets kept out of logs and answers, and the TLS listener with a test CA."""

import http.client
import http.cookiejar
import os
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

from fixtures import FixtureBuilder
from harness import ApiClient, Registry, WharfTestCase, Wharfd, wait_until

ROUTES_NEEDING_SESSION = [
    ("GET", "/api/v1/login_refresh"),
    ("PUT", "/api/v1/logout"),
    ("GET", "/api/v1/image/?from=local"),
    ("GET", "/api/v1/image/?from=appcenter"),
    ("GET", "/api/v1/image/downloadstatus"),
    ("GET", "/api/v1/image/docker/lgsd/diamond/latest/inspect"),
    ("GET", "/api/v1/image/docker/lgsd/diamond/latest/remote_inspect"),
    ("GET", "/api/v1/image/dockerhub/docker/0/lgsd/diamond/tags"),
    ("POST", "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download"),
    ("DELETE", "/api/v1/image/local/docker/lgsd/diamond"),
    ("DELETE", "/api/v1/image/downloadstatus/docker/lgsd/diamond/latest"),
    ("GET", "/api/v1/events"),
]


class SecurityTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry(auth="htpasswd", password="reg-secret-Zq81"))
        with FixtureBuilder(cls.registry) as fx:
            fx.diamond()
        cls.wharfd = cls.serve(Wharfd(cls.registry.url, registries={
            cls.registry.host: {"username": cls.registry.user,
                                "password": cls.registry.password}}))

    def test_every_route_needs_a_session(self):
        anon = ApiClient(self.wharfd.url)
        for method, path in ROUTES_NEEDING_SESSION:
            status, body = anon.call(method, path)
            self.assertError(status, body, 401)
        # A forged or expired cookie is no better than none.
        anon.jar.set_cookie(http.cookiejar.Cookie(
            0, "wharf_session", "f" * 64, None, False, "127.0.0.1", False, False, "/", True,
            False, None, True, None, None, {}))
        status, body = anon.get("/api/v1/image/?from=local")
        self.assertError(status, body, 401)
        for public in ("/healthz", "/metrics"):
            self.assertEqual(anon.request("GET", public).status, 200, public)

    def test_unknown_route_wrong_method_bad_bodies_and_limits(self):
        api = self.wharfd.client()
        self.assertError(*api.get("/api/v1/nope"), 404)
        status, body = api.call("GET", "/api/v1/login")
        self.assertError(status, body, 405)
        status, body = api.post("/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download",
                                "{not json")
        self.assertError(status, body, 400, mentions="JSON")
        status, body = api.post("/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download",
                                {"description": 5})
        self.assertError(status, body, 400, mentions="description")
        big = "x" * (1024 * 1024 + 10)
        resp = api.request("POST", "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download",
                           big)
        self.assertEqual(resp.status, 413)
        self.assertEqual(resp.json["error"]["code"], 413)
        resp = api.request("GET", "/api/v1/image/?filter_text=" + "a" * 20000)
        self.assertIn(resp.status, (414, 400))

    def test_a_second_wharfd_cannot_take_the_port(self):
        """No SO_REUSEPORT: another wharfd (another data dir) on the same port stops at once
        instead of silently taking half of the connections."""
        other = Wharfd(self.registry.url, port=self.wharfd.port)
        try:
            os.makedirs(other.data_dir)
            other.write_config()
            run = subprocess.run(other.command(), env=other.env(), capture_output=True,
                                 text=True, timeout=30)
            self.assertNotEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn(f"cannot listen on 127.0.0.1:{self.wharfd.port}", run.stderr)
        finally:
            other.stop()
        self.assertEqual(self.wharfd.client().get("/api/v1/login_refresh")[0], 200)

    def test_the_data_directory_must_be_wharfds_own(self):
        other = Wharfd(self.registry.url)
        try:
            other.start()  # a data directory wharfd creates is private
            self.assertEqual(os.stat(other.data_dir).st_mode & 0o777, 0o700)
            other.stop(cleanup=False)
            os.chmod(other.data_dir, 0o777)
            run = subprocess.run(other.command(), env=other.env(), capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertIn(f"data directory {other.data_dir} is writable by every user",
                          run.stderr)
            os.chmod(other.data_dir, 0o755)  # others may read: a warning, not a refusal
            other.start()
            self.assertIn(f"data directory {other.data_dir} is open to other users (mode 0755)",
                          other.log())
        finally:
            other.stop()

    def test_a_slowloris_client_is_dropped(self):
        sock = socket.create_connection(("127.0.0.1", self.wharfd.port))
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes
            sock.settimeout(30)
            start = time.time()
            data = sock.recv(4096)  # the server gives up and closes
            self.assertLess(time.time() - start, 25)
            self.assertNotIn(b"200 OK", data)
        finally:
            sock.close()

    def test_cross_site_changes_are_refused(self):
        api = self.wharfd.client()
        path = "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download"
        resp = api.request("POST", path, {}, headers={"Origin": "http://evil.example"})
        self.assertEqual(resp.status, 403)
        self.assertIn("cross-site", resp.json["error"]["message"])
        same = api.request("POST", path, {}, headers={"Origin": self.wharfd.url})
        self.assertEqual(same.status, 200)
        api.wait_download("lgsd/diamond", "latest")

    def test_users_managed_with_wharfd_user_and_non_admins_cannot_change(self):
        w = self.wharfd
        def user(*args, password=None):
            return subprocess.run([str(w.binary), "user", "--data", w.data_dir, *args],
                                  input=password, capture_output=True, text=True, timeout=30)
        self.assertEqual(user("add", "viewer", "--password-stdin",
                              password="viewer-pass-1\n").returncode, 0)
        dup = user("add", "viewer", "--password-stdin", password="viewer-pass-1\n")
        self.assertEqual(dup.returncode, 1)
        self.assertIn("exists", dup.stderr)
        api = ApiClient(w.url)
        status, body = api.login("viewer", "viewer-pass-1")
        self.assertEqual((status, body["isAdmin"]), (200, False))
        self.assertEqual(api.get("/api/v1/image/?from=local")[0], 200)
        for method, path in [
                ("POST", "/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download"),
                ("DELETE", "/api/v1/image/local/docker/lgsd/diamond"),
                ("DELETE", "/api/v1/image/downloadstatus/docker/lgsd/diamond/latest")]:
            self.assertError(*api.call(method, path), 403)
        # A password change ends the user's sessions; removal forbids login.
        self.assertEqual(user("passwd", "viewer", "--password-stdin",
                              password="viewer-pass-2\n").returncode, 0)
        self.assertError(*api.get("/api/v1/image/?from=local"), 401)
        self.assertEqual(api.login("viewer", "viewer-pass-2")[0], 200)
        self.assertEqual(user("del", "viewer").returncode, 0)
        self.assertError(*api.get("/api/v1/image/?from=local"), 401)
        self.assertEqual(api.login("viewer", "viewer-pass-2")[0], 401)

    def test_login_is_throttled(self):
        api = ApiClient(self.wharfd.url)
        statuses = [api.login("throttled-user", "wrong")[0] for _ in range(5)]
        self.assertEqual(statuses, [401] * 5)
        resp = api.request("POST", "/api/v1/login",
                           form={"username": "throttled-user", "password": "wrong"})
        self.assertEqual(resp.status, 429)
        self.assertGreater(int(resp.headers["Retry-After"]), 0)
        self.assertEqual(resp.json["error"]["code"], 429)

    def test_z_secrets_stay_out_of_logs_and_answers_and_actions_are_audited(self):
        api = self.wharfd.client()
        status, _ = api.download(f"{self.registry.host}/lgsd/diamond", "1.0")
        self.assertEqual(status, 200)
        api.wait_download(f"{self.registry.host}/lgsd/diamond", "1.0")
        for method, path in [("GET", "/api/v1/image/?from=local"),
                             ("GET", "/api/v1/image/downloadstatus"),
                             ("GET", "/api/v1/login_refresh")]:
            raw = api.request(method, path).raw.decode()
            self.assertNotIn(self.registry.password, raw)
            self.assertNotIn(self.wharfd.admin_password, raw)
        status, _ = api.delete(f"/api/v1/image/local/docker/{self.registry.host}/lgsd/diamond")
        self.assertEqual(status, 200)
        log = self.wharfd.log()
        self.assertNotIn(self.registry.password, log)
        self.assertNotIn(self.wharfd.admin_password, log)
        self.assertRegex(log, r'audit: login user="admin" from=127\.0\.0\.1')
        self.assertRegex(log, r'audit: download user="admin" .*lgsd/diamond:1\.0')
        self.assertRegex(log, r'audit: delete user="admin" .*lgsd/diamond')
        self.assertRegex(log, r'audit: login failed user="throttled-user"')
        # The config holds the registry's password: wharfd says so when others can read it.
        readable = os.stat(self.wharfd.config_path).st_mode & 0o044
        self.assertEqual("holds registry passwords and is readable by other users" in log,
                         bool(readable), oct(os.stat(self.wharfd.config_path).st_mode))


class ConnectionCapTest(WharfTestCase):
    def test_connections_over_the_cap_get_503_until_some_close(self):
        with Wharfd("http://127.0.0.1:9", top_toml="max_connections = 4") as wharfd:
            host, port = "127.0.0.1", wharfd.port
            time.sleep(0.5)  # the start-up health checks' connections have ended
            idle = [socket.create_connection((host, port)) for _ in range(4)]
            try:
                time.sleep(0.3)  # accepted and handed to the pool
                status, body = ApiClient(wharfd.url).call("GET", "/healthz")
                self.assertError(status, body, 503, mentions=["too many connections",
                                                              "max_connections is 4"])
            finally:
                for s in idle:
                    s.close()
            # Once the idle clients are gone, the server answers again.
            wait_until(lambda: ApiClient(wharfd.url).call("GET", "/healthz")[0] == 200, 10,
                       "wharfd to answer after the idle connections closed")
            api = wharfd.client()
            self.assertEqual(api.get("/api/v1/image/?from=local")[0], 200)


    def test_a_kept_alive_connection_serves_many_requests(self):
        # A connection is closed after 100 requests (as nginx does): a busy
        # client reconnects rarely, and still goes back in the queue now and then.
        with Wharfd("http://127.0.0.1:9") as wharfd:
            conn = http.client.HTTPConnection("127.0.0.1", wharfd.port, timeout=10)
            try:
                closes = []
                for i in range(100):
                    conn.request("GET", "/healthz")
                    r = conn.getresponse()
                    r.read()
                    self.assertEqual(r.status, 200)
                    if (r.getheader("Connection") or "").lower() == "close":
                        closes.append(i + 1)
                        break
                self.assertEqual(closes, [100], "the request after which wharfd closed")
            finally:
                conn.close()


class AddressThrottleTest(WharfTestCase):
    def test_many_failures_from_one_address_block_it(self):
        with Wharfd("http://127.0.0.1:9") as wharfd:
            api = ApiClient(wharfd.url)
            for i in range(20):
                self.assertEqual(api.login(f"guess{i}", "wrong")[0], 401)
            # Now even the right password for another user waits.
            status, body = api.login("admin", wharfd.admin_password)
            self.assertError(status, body, 429)


def make_test_ca(tmp):
    """A CA and a server certificate for 127.0.0.1, made with the openssl CLI."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=wharf test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return [os.path.join(tmp, n) for n in ("ca.pem", "server.pem", "server.key")]


class TlsTest(WharfTestCase):
    def test_https_listener_with_a_test_ca(self):
        with tempfile.TemporaryDirectory() as tmp:
            ca, cert, key = make_test_ca(tmp)
            ctx = ssl.create_default_context(cafile=ca)
            wharfd = Wharfd("http://127.0.0.1:9", top_toml=f'tls_cert = "{cert}"\n'
                                                         f'tls_key = "{key}"')
            try:
                # Start without the harness's http health check: probe over https.
                os.makedirs(wharfd.data_dir, exist_ok=True)
                wharfd.write_config()
                log = open(wharfd.log_path, "ab")
                wharfd.proc = subprocess.Popen(wharfd.command(), stdout=log,
                                               stderr=subprocess.STDOUT, env=wharfd.env())
                url = f"https://127.0.0.1:{wharfd.port}"

                def up():
                    try:
                        with urllib.request.urlopen(url + "/healthz", context=ctx, timeout=2) as r:
                            return r.status == 200
                    except OSError:
                        return False
                wait_until(up, 20, "wharfd over https")
                jar = http.cookiejar.CookieJar()
                opener = urllib.request.build_opener(
                    urllib.request.HTTPSHandler(context=ctx),
                    urllib.request.HTTPCookieProcessor(jar), urllib.request.ProxyHandler({}))
                req = urllib.request.Request(
                    url + "/api/v1/login", method="POST",
                    data=f"username=admin&password={wharfd.admin_password}".encode())
                with opener.open(req, timeout=10) as r:
                    self.assertEqual(r.status, 200)
                    cookie = r.headers["Set-Cookie"]
                self.assertIn("Secure", cookie)
                self.assertIn("HttpOnly", cookie)
                # A client that does not trust the test CA is refused.
                with self.assertRaises(urllib.error.URLError) as err:
                    urllib.request.urlopen(url + "/healthz", timeout=5,
                                           context=ssl.create_default_context())
                self.assertIn("CERTIFICATE_VERIFY_FAILED", str(err.exception))
                log.close()
            finally:
                wharfd.stop()


if __name__ == "__main__":
    unittest.main()
