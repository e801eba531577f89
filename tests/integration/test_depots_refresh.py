"""Remote catalogs: fetched over HTTP with ETag caching and refreshed every
refresh_s; a server that breaks (500, then invalid JSON) leaves the last good
copy listed; a fixed server's new copy shows at the next refresh; a server
unreachable at start leaves the depot empty until it comes up. And a
malformed local catalog stops wharfd at start, naming the file and the problem."""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler

from harness import WharfTestCase, Wharfd, free_port, serve_http, stop_http, wait_until

LXC_SOURCE = {"protocol": "simplestreams", "server": "https://images.example.org", "os": "demo",
              "release": "one", "arch": "amd64", "variant": "default"}


def docker_entry(name):
    return {"name": name, "type": "docker", "title": name.title(), "version": "latest",
            "description": f"{name} for the refresh test", "icon": "", "icon_local": "container.svg",
            "arch": "amd64", "size": None, "inspect": ""}


def catalog(*docker_names, lxc=None):
    images = [docker_entry(n) for n in docker_names]
    if lxc:
        images.append({"name": lxc, "type": "lxc", "title": "Tiramisu Linux", "version": "1",
                       "description": "an LXC entry", "icon": "", "icon_local": "container.svg",
                       "arch": "amd64", "size": "1000", "inspect": "{}", "source": LXC_SOURCE})
    return json.dumps({"version": 1, "images": images})


FIRST = catalog("team/first", lxc="demo-one")
SECOND = catalog("team/second", "team/third")


class CatalogServer:
    """Serves /appcenter.json. mode "ok" answers the current body with an ETag
    (304 when If-None-Match matches it), "500" fails, "invalid" answers a body
    that is not JSON. Counts what it answered."""

    def __init__(self, body, port=0):
        self.lock = threading.Lock()
        self.mode, self.body = "ok", body
        self.counts = {200: 0, 304: 0, 500: 0}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    mode, body = server.mode, server.body
                etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
                if mode == "500":
                    return self.answer(500, b"catalog backend down", {})
                if mode == "invalid":
                    return self.answer(200, b'{"version": 1, "images": [', {"ETag": '"broken"'})
                if self.headers.get("If-None-Match") == etag:
                    return self.answer(304, b"", {"ETag": etag})
                self.answer(200, body.encode(), {"ETag": etag,
                                                 "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})

            def answer(self, status, data, headers):
                with server.lock:
                    server.counts[status] += 1
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = serve_http(Handler, port)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/appcenter.json"

    def set(self, mode, body=None):
        with self.lock:
            self.mode = mode
            if body is not None:
                self.body = body

    def count(self, status):
        with self.lock:
            return self.counts[status]

    def stop(self):
        stop_http(self.server)


def catalog_toml(url):
    return f'[catalogs]\nappcenter = "{url}"\nrefresh_s = 1\n'


class RemoteCatalogTest(WharfTestCase):
    def start_wharfd(self, url):
        self.wharfd = Wharfd("http://127.0.0.1:1", extra_toml=catalog_toml(url)).start()
        self.addCleanup(self.wharfd.stop)
        self.api = self.wharfd.client()

    def listed(self, depot="appcenter"):
        status, body = self.api.get(f"/api/v1/image/?from={depot}")
        self.assertEqual(status, 200, body)
        return body["results"]

    def names(self, depot="appcenter"):
        return [e["name"] for e in self.listed(depot)]

    def test_cached_refreshed_and_last_good_copy_kept(self):
        server = CatalogServer(FIRST)
        self.addCleanup(server.stop)
        self.start_wharfd(server.url)
        first = self.listed()
        self.assertEqual([e["name"] for e in first], ["team/first", "demo-one"])
        self.assertEqual([e["repository"] for e in first], ["dockerhub", "appcenter"])
        # filter_text matches titles too: only the LXC entry's title says Tiramisu.
        status, body = self.api.get("/api/v1/image/?from=appcenter&filter_text=tIRAMISU")
        self.assertEqual([e["name"] for e in body["results"]], ["demo-one"])
        # Unchanged: each refresh is a conditional GET answered 304, the copy stays.
        wait_until(lambda: server.count(304) >= 2, 10, "two 304 answers")
        self.assertEqual(server.count(200), 1)
        self.assertEqual(self.listed(), first)

        server.set("500")
        wait_until(lambda: server.count(500) >= 2, 10, "two refreshes answered 500")
        self.assertEqual(self.listed(), first)
        self.assertIn("keeping the last good copy", self.wharfd.log())
        self.assertIn("500", self.wharfd.log())

        server.set("invalid")
        served = server.count(200)
        wait_until(lambda: server.count(200) >= served + 2, 10, "two invalid answers")
        self.assertEqual(self.listed(), first)
        self.assertIn("not valid JSON", self.wharfd.log())

        server.set("ok", SECOND)
        wait_until(lambda: self.names() == ["team/second", "team/third"], 10,
                   "the new catalog to be listed")
        self.assertEqual([e["name"] for e in self.listed("qnap")], ["team/second", "team/third"])
        # The official depot is still the shipped one.
        self.assertIn("tutum/mysql", self.names("official"))

    def test_unreachable_at_start_then_loaded(self):
        port = free_port()
        self.start_wharfd(f"http://127.0.0.1:{port}/appcenter.json")
        self.assertEqual(self.listed(), [])
        log = self.wharfd.log()
        self.assertIn("appcenter catalog", log)
        self.assertIn("connection refused", log)
        self.assertIn("stays empty", log)
        server = CatalogServer(FIRST, port=port)
        self.addCleanup(server.stop)
        wait_until(lambda: self.names() == ["team/first", "demo-one"], 10,
                   "the catalog to load once its server is up")


class MalformedLocalCatalogTest(unittest.TestCase):
    def run_wharfd(self, official_path):
        w = Wharfd("http://127.0.0.1:1",
                   extra_toml=f'[catalogs]\nofficial = "{official_path}"\n')
        self.addCleanup(w.stop)
        w.write_config()
        os.makedirs(w.data_dir, exist_ok=True)
        return subprocess.run(w.command(), capture_output=True, text=True, timeout=30,
                              env=w.env(), stdin=subprocess.DEVNULL)

    def test_wharfd_refuses_to_start_naming_the_file_and_the_problem(self):
        tmp = tempfile.mkdtemp(prefix="wharf-catalog-")
        self.addCleanup(shutil.rmtree, tmp, True)
        bad = os.path.join(tmp, "official.json")
        entry = docker_entry("team/app")
        del entry["title"]
        with open(bad, "w") as f:
            json.dump({"version": 1, "images": [entry]}, f)
        proc = self.run_wharfd(bad)
        self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f'{bad}: images[0] (team/app): missing "title"', proc.stderr)

        with open(bad, "w") as f:
            f.write('{"version": 1, "images": [}')
        proc = self.run_wharfd(bad)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"{bad}: not valid JSON", proc.stderr)

        missing = os.path.join(tmp, "absent.json")
        proc = self.run_wharfd(missing)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"cannot read catalog {missing}", proc.stderr)


if __name__ == "__main__":
    unittest.main()
