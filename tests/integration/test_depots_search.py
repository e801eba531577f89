"""The dockerhub depot: Docker Hub's v1 search replayed from the recorded
fixture (data/dockerhub_search_*.json) by a loopback test server, and the
fallback to a real docker-registry's /v2/_catalog (more than 100 repositories,
so more than one page, behind Basic auth) when the index has no search API."""

import hashlib
import json
import math
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler

import test_depots as shapes
from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd, serve_http, stop_http

SEARCH_TIMEOUT_S = 2
STALL_S = 6  # the test index's "stall" query answers after this long


class RecordedIndex:
    """Docker Hub's index as recorded: GET /v1/search?q=Q&n=N&page=P answers
    from data/dockerhub_search_Q_1.json, _2.json... (pages of the recording,
    joined, then cut at n a page as Docker Hub does). Unknown queries find
    nothing; q=fail answers 503, q=stall answers only after STALL_S seconds.
    Remembers every (q, n, page) asked."""

    def __init__(self):
        self.asked = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/v1/search":
                    return self.answer(404, b"404 page not found\n", "text/plain")
                q, n, page = params.get("q", ""), int(params.get("n", 25)), int(
                    params.get("page", 1))
                index.asked.append((q, n, page))
                if q == "fail":
                    return self.answer(503, b"search is down for maintenance\n", "text/plain")
                if q == "stall":
                    time.sleep(STALL_S)
                body = json.dumps(index.page(q, n, page)).encode()
                self.answer(200, body, "application/json")

            def answer(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the stall case)

            def log_message(self, *args):
                pass

        self.handler = Handler
        self.server = None

    @staticmethod
    def recording(q):
        results, k = [], 1
        while q.replace("-", "").isalnum() and (shapes.DATA / f"dockerhub_search_{q}_{k}.json"
                                                ).is_file():
            doc = json.loads((shapes.DATA / f"dockerhub_search_{q}_{k}.json").read_text())
            assert doc["page"] == k and doc["query"] == q
            results += doc["results"]
            total = doc["num_results"]
            k += 1
        if k > 1:
            assert total == len(results), f"recording of {q} is incomplete"
        return results

    def page(self, q, n, page):
        results = self.recording(q)
        return {"num_pages": math.ceil(len(results) / n), "num_results": len(results),
                "page_size": n, "query": q, "page": page,
                "results": results[(page - 1) * n:page * n]}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.server = serve_http(self.handler)
        return self

    def stop(self):
        stop_http(self.server)


class HubSearchTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.index = cls.serve(RecordedIndex())
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            fx.image("jwilder/nginx-proxy", ["latest"], [{"/etc/proxy.conf": b"proxy\n"}])
        cls.wharfd = cls.serve(Wharfd(cls.registry.url, index_url=cls.index.url,
                                      dockerhub_toml=f"search_timeout_s = {SEARCH_TIMEOUT_S}"))

    def setUp(self):
        self.api = self.wharfd.client()
        self.index.asked.clear()

    def search(self, query):
        status, body = self.api.get("/api/v1/image/?from=dockerhub&" + query)
        self.assertEqual(status, 200, body)
        return body

    def test_seed_example_shape_and_values(self):
        body = self.search("filter_text=dorowu")
        self.assertEqual(shapes.listing_shape_problems(body, shapes.SEED["dockerhub"],
                                                       shapes.HUB_ENVELOPE_EXTRA), [])
        want = shapes.SEED["dockerhub"]["results"]
        self.assertEqual([e["name"] for e in body["results"]], [e["name"] for e in want])
        for got, seed in zip(body["results"], want):
            for key in ("description", "star_count", "is_official", "is_trusted", "repository",
                        "type", "installed", "downloading"):
                self.assertEqual(got[key], seed[key], f"{seed['name']}.{key}")
            self.assertEqual(got["location"], seed["location"] + "/")
        self.assertEqual((body["total_count"], body["num_results"], body["num_pages"]), (7, 7, 1))
        self.assertEqual(self.index.asked[-1], ("dorowu", 25, 1))
        # The other dialect asks the same and answers the same.
        self.assertEqual(self.api.get("/api/v1/image/?category=dockerhub&filter_text=dorowu")[1],
                         body)

    def test_pages_and_sizes_pass_through(self):
        recorded = RecordedIndex.recording("nginx")
        first = self.search("filter_text=nginx")
        self.assertEqual((first["page"], first["n"], first["num_pages"], first["num_results"]),
                         (1, 25, 2, 37))
        self.assertEqual([e["name"] for e in first["results"]],
                         [r["name"] for r in recorded[:25]])
        second = self.search("filter_text=nginx&page=2")
        self.assertEqual((second["page"], second["n"], len(second["results"])), (2, 25, 12))
        self.assertEqual([e["name"] for e in second["results"]],
                         [r["name"] for r in recorded[25:]])
        small = self.search("filter_text=nginx&page=4&n=10")
        self.assertEqual((small["page"], small["n"], small["num_pages"], small["total_count"]),
                         (4, 10, 4, 7))
        self.assertEqual(self.index.asked, [("nginx", 25, 1), ("nginx", 25, 2), ("nginx", 10, 4)])
        for bad in ("n=0", "n=101", "page=0", "page=x"):
            status, body = self.api.get("/api/v1/image/?from=dockerhub&filter_text=nginx&" + bad)
            self.assertError(status, body, 400, mentions=[bad.split("=")[0]])

    def test_results_are_mapped(self):
        got = {e["name"]: e for e in self.search("filter_text=nginx&n=50")["results"]}
        self.assertEqual(len(got), 37)
        self.assertEqual(got["nginx"]["location"], "https://registry.hub.docker.com/_/nginx/")
        self.assertIs(got["nginx"]["is_official"], True)
        proxy = got["jwilder/nginx-proxy"]
        self.assertEqual(proxy["location"], "https://registry.hub.docker.com/u/jwilder/nginx-proxy/")
        self.assertEqual((proxy["star_count"], proxy["is_trusted"], proxy["is_official"]),
                         (2132, True, False))
        self.assertIs(got["nginx/unit"]["is_trusted"], False)

    def test_installed_is_live(self):
        def proxy_entry():
            found = [e for e in self.search("filter_text=nginx&n=50")["results"]
                     if e["name"] == "jwilder/nginx-proxy"]
            return found[0]
        self.assertEqual((proxy_entry()["installed"], proxy_entry()["downloading"]),
                         (False, False))
        status, body = self.api.download("jwilder/nginx-proxy", "latest")
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.api.wait_download("jwilder/nginx-proxy", "latest", timeout=60))
        self.assertEqual((proxy_entry()["installed"], proxy_entry()["downloading"]), (True, False))
        self.assertIs([e for e in self.search("filter_text=nginx")["results"]
                       if e["name"] == "nginx"][0]["installed"], False)

    def test_type_lxc_asks_nothing(self):
        body = self.search("filter_text=nginx&type=lxc")
        self.assertEqual((body["results"], body["total_count"], body["type"]), ([], 0, "lxc"))
        self.assertEqual(self.index.asked, [])

    def test_upstream_failure_is_502_with_its_status_and_message(self):
        status, body = self.api.get("/api/v1/image/?from=dockerhub&filter_text=fail")
        self.assertError(status, body, 502, mentions=["503", "down for maintenance"])

    def test_stalled_upstream_is_cut_after_the_timeout(self):
        start = time.monotonic()
        status, body = self.api.get("/api/v1/image/?from=dockerhub&filter_text=stall")
        took = time.monotonic() - start
        self.assertError(status, body, 502, mentions=[f"within {SEARCH_TIMEOUT_S} s"])
        self.assertLess(took, STALL_S - 1, "the search waited for the stalled index")
        self.assertGreaterEqual(took, SEARCH_TIMEOUT_S - 0.5)


def push_tiny(client, repo, config_repo=None):
    """One tiny config blob and manifest under repo:latest, over plain HTTP.
    The blob is uploaded once and mounted into the other repositories."""
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    if config_repo:
        status, _, _ = client.request(
            "POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={config_repo}")
    else:
        status = 0
    if status != 201:
        status, headers, data = client.request("POST", f"/v2/{repo}/blobs/uploads/")
        if status != 202:
            raise RuntimeError(f"start upload to {repo} -> {status} {data[:200]!r}")
        location = urllib.parse.urlsplit(headers["location"])
        sep = "&" if location.query else "?"
        status, _, data = client.request(
            "PUT", f"{location.path}?{location.query}{sep}digest={digest}", body=config,
            headers={"Content-Type": "application/octet-stream"})
        if status != 201:
            raise RuntimeError(f"upload to {repo} -> {status} {data[:200]!r}")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                   "size": len(config)},
        "layers": []}).encode()
    client.put_manifest(repo, "latest", manifest, "application/vnd.oci.image.manifest.v1+json")


REPOSITORIES = sorted(["library/alpine", "library/busybox", "library/debian", "ops/monitor",
                       "ops/backup", "qa/webapp", "qa/api-gateway"]
                      + [f"team/app-{i:03d}" for i in range(100)])


class CatalogFallbackTest(WharfTestCase):
    """The index is the registry itself (docker-registry answers /v1/search
    with 404), as with `make demo`."""

    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry(auth="htpasswd"))
        client = cls.registry.client()
        for repo in REPOSITORIES:
            push_tiny(client, repo, config_repo=REPOSITORIES[0] if repo != REPOSITORIES[0]
                      else None)
        creds = {cls.registry.host: {"username": cls.registry.user,
                                     "password": cls.registry.password}}
        cls.wharfd = cls.serve(Wharfd(cls.registry.url, registries=creds))
        cls.anonymous = cls.serve(Wharfd(cls.registry.url))

    def setUp(self):
        self.api = self.wharfd.client()

    def search(self, query):
        status, body = self.api.get("/api/v1/image/?from=dockerhub&" + query)
        self.assertEqual(status, 200, body)
        return body

    @staticmethod
    def shown(names):
        return [n[len("library/"):] if n.startswith("library/") else n for n in names]

    def test_every_catalog_page_is_read(self):
        self.assertGreater(len(REPOSITORIES), 100)
        body = self.search("filter_text=")
        self.assertEqual((body["num_results"], body["num_pages"], body["page"], body["n"]),
                         (len(REPOSITORIES), math.ceil(len(REPOSITORIES) / 25), 1, 25))
        self.assertEqual([e["name"] for e in body["results"]], self.shown(REPOSITORIES[:25]))
        last = self.search("page=2&n=100")
        self.assertEqual([e["name"] for e in last["results"]], self.shown(REPOSITORIES[100:]))
        self.assertEqual(shapes.listing_shape_problems(body, shapes.SEED["dockerhub"],
                                                       shapes.HUB_ENVELOPE_EXTRA), [])

    def test_filter_is_case_insensitive_and_paged(self):
        for text in ("APP-09", "app", "Ops/", "nothing-like-this"):
            want = [n for n in REPOSITORIES if text.lower() in n.lower()]
            body = self.search(f"filter_text={text}&n=7&page=2")
            self.assertEqual(body["num_results"], len(want), text)
            self.assertEqual(body["num_pages"], math.ceil(len(want) / 7), text)
            self.assertEqual([e["name"] for e in body["results"]], self.shown(want[7:14]), text)

    def test_library_names_are_official(self):
        got = {e["name"]: e for e in self.search("filter_text=a&n=100")["results"]}
        alpine = got["alpine"]
        self.assertEqual((alpine["is_official"], alpine["star_count"], alpine["is_trusted"],
                          alpine["description"]), (True, 0, False, ""))
        self.assertEqual(alpine["location"], "https://registry.hub.docker.com/_/alpine/")
        app = got["team/app-000"]
        self.assertEqual((app["is_official"], app["star_count"]), (False, 0))
        self.assertEqual(app["location"], "https://registry.hub.docker.com/u/team/app-000/")

    def test_registry_refusing_us_is_502(self):
        status, body = self.anonymous.client().get("/api/v1/image/?from=dockerhub&filter_text=a")
        self.assertError(status, body, 502, mentions=[self.registry.host, "credentials"])


if __name__ == "__main__":
    unittest.main()
