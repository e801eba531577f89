"""The curated depots (appcenter/qnap, official), the local listing and the tags
endpoint against a real docker-registry: the seed examples' shapes, both
dialects, the filters, installed/downloading going live during a throttled
download, and tags with more than 100 entries.

Also holds the shape comparison the other depot tests import
(test_depots_search)."""

import json
import unittest
from pathlib import Path

from fixtures import FixtureBuilder
from harness import REPO_ROOT, Registry, ThrottleProxy, WharfTestCase, Wharfd, wait_until

DATA = Path(__file__).resolve().parent / "data"
SEED = json.loads((DATA / "seed_examples.json").read_text())
CATALOGS = REPO_ROOT / "share" / "catalog"

# Keys wharf adds to the seed's shapes (the API notes allow extra keys; these are the only
# ones): the other revision's depot parameter, the local icon, Docker Hub paging.
ENVELOPE_EXTRA = {"from"}
HUB_ENVELOPE_EXTRA = {"from", "page", "n", "num_pages", "num_results"}
CATALOG_ENTRY_EXTRA = {"icon_local"}


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def shape_problems(got, want, path="$", extra=frozenset()):
    """Where `got` differs in shape from `want`: the same keys (plus `extra`), the
    same JSON type at every key, nested objects and array elements included.
    An array's elements must each have the type of the example's elements."""
    if json_type(got) != json_type(want):
        return [f"{path}: {json_type(got)} where the example has {json_type(want)}"]
    problems = []
    if isinstance(want, dict):
        missing = set(want) - set(got)
        unexpected = set(got) - set(want) - set(extra)
        if missing:
            problems.append(f"{path}: missing keys {sorted(missing)}")
        if unexpected:
            problems.append(f"{path}: unexpected keys {sorted(unexpected)}")
        for key in set(want) & set(got):
            problems += shape_problems(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list) and want:
        for i, item in enumerate(got):
            problems += shape_problems(item, want[0], f"{path}[{i}]")
    return problems


def listing_shape_problems(got, example, envelope_extra, entry_extra=frozenset()):
    """A listing against a seed listing: the envelope, then each result against
    the example's entry of the same name if there is one, else against each
    example entry of the same type until one fits."""
    envelope = {k: v for k, v in example.items() if k != "results"}
    problems = shape_problems({k: v for k, v in got.items() if k != "results"}, envelope,
                              extra=envelope_extra)
    if not isinstance(got.get("results"), list):
        return problems + ["$.results: not an array"]
    by_name = {e["name"]: e for e in example["results"]}
    for i, entry in enumerate(got["results"]):
        path = f"$.results[{i}] ({entry.get('name')})"
        if entry.get("name") in by_name:
            problems += shape_problems(entry, by_name[entry["name"]], path, entry_extra)
            continue
        candidates = [e for e in example["results"] if e.get("type") == entry.get("type")]
        tries = [shape_problems(entry, c, path, entry_extra) for c in candidates]
        if not tries:
            problems.append(f"{path}: no example entry of type {entry.get('type')}")
        elif all(tries):
            problems += min(tries, key=len)
    return problems


def catalog(name):
    return json.loads((CATALOGS / f"{name}.json").read_text())["images"]


class ShapeHelperTest(unittest.TestCase):
    """The comparison itself must be able to fail."""

    def test_detects_missing_retyped_and_nested_differences(self):
        want = {"a": 1, "b": [1, 2], "c": {"d": "x"}, "e": None}
        self.assertEqual(shape_problems({"a": 2, "b": [], "c": {"d": "y"}, "e": None}, want), [])
        self.assertTrue(shape_problems({"a": True, "b": [1], "c": {"d": "x"}, "e": None}, want))
        self.assertTrue(shape_problems({"a": 1, "b": ["1"], "c": {"d": "x"}, "e": None}, want))
        self.assertTrue(shape_problems({"a": 1, "b": [1], "c": {"d": 1}, "e": None}, want))
        self.assertTrue(shape_problems({"a": 1, "b": [1], "c": {}, "e": None}, want))
        self.assertTrue(shape_problems({"a": 1, "b": [1], "c": {"d": "x"}, "e": "s"}, want))
        self.assertTrue(shape_problems({"a": 1, "b": [1], "c": {"d": "x"}, "e": None, "z": 0},
                                       want))
        self.assertEqual(shape_problems({"a": 1, "b": [1], "c": {"d": "x"}, "e": None, "z": 0},
                                        want, extra={"z"}), [])


class DepotsTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            cls.redis = fx.big("library/redis", size=3 * 1024 * 1024)
        # One tiny image under 120 tags (and latest), PUT over HTTP.
        client = cls.registry.client()
        _, _, media_type, raw = client.manifest("library/redis", "latest")
        cls.many_tags = [f"v{i}.{j}" for i in range(12) for j in range(10)] + ["latest"]
        cls._copy_blobs(client, "library/redis", "team/many", raw)
        for tag in cls.many_tags:
            client.put_manifest("team/many", tag, raw, media_type)
        cls.proxy = cls.serve(ThrottleProxy(cls.registry.host))
        cls.wharfd = cls.serve(Wharfd(cls.proxy.url))

    @classmethod
    def _copy_blobs(cls, client, source, dest, raw_manifest):
        """Mounts the manifest's blobs into another repository (cross-repo mount)."""
        manifest = json.loads(raw_manifest)
        for desc in [manifest["config"], *manifest["layers"]]:
            status, _, body = client.request(
                "POST", f"/v2/{dest}/blobs/uploads/?mount={desc['digest']}&from={source}")
            if status != 201:
                raise RuntimeError(f"mount {desc['digest']} -> {status} {body[:200]!r}")

    def setUp(self):
        self.api = self.wharfd.client()

    def listing(self, query):
        status, body = self.api.get("/api/v1/image/?" + query)
        self.assertEqual(status, 200, body)
        return body

    def entry(self, query, name):
        found = [e for e in self.listing(query)["results"] if e["name"] == name]
        self.assertEqual(len(found), 1, f"{name} in {query}")
        return found[0]

    # --- shapes -------------------------------------------------------------------

    def test_catalog_depots_have_the_seed_shapes(self):
        for query, example in [("category=qnap", SEED["qnap"]), ("from=appcenter", SEED["qnap"]),
                               ("category=official", SEED["official"]),
                               ("from=official", SEED["official"])]:
            body = self.listing(query)
            self.assertEqual(listing_shape_problems(body, example, ENVELOPE_EXTRA,
                                                    CATALOG_ENTRY_EXTRA), [], query)
            self.assertEqual(body["total_count"], len(body["results"]))
            self.assertGreater(len(body["results"]), len(example["results"]), query)

    def test_seed_entries_are_reproduced(self):
        """The seed's qnap and official entries come back with the seed's values
        (descriptions are our own; installed is live)."""
        for query, example in [("category=qnap", SEED["qnap"]),
                               ("category=official", SEED["official"])]:
            got = {e["name"]: e for e in self.listing(query)["results"]}
            for want in example["results"]:
                entry = got.get(want["name"])
                self.assertIsNotNone(entry, f"{want['name']} missing from {query}")
                for key, value in want.items():
                    if key not in ("description", "installed"):
                        self.assertEqual(entry[key], value, f"{query} {want['name']}.{key}")
            self.assertEqual([e["name"] for e in example["results"]],
                             [e["name"] for e in self.listing(query)["results"]
                              ][:len(example["results"])], "seed entries come first, in order")

    def test_icon_local_names_a_shipped_icon(self):
        for entry in self.listing("from=appcenter")["results"]:
            self.assertTrue(entry["icon_local"].startswith("/icons/"), entry)
            name = entry["icon_local"].rsplit("/", 1)[1]
            self.assertTrue((REPO_ROOT / "share" / "icons" / name).is_file(), entry)

    # --- dialects -----------------------------------------------------------------

    def test_both_dialects_give_identical_results(self):
        def without_echo(body, lxc_repository):
            body = dict(body)
            self.assertEqual(body.pop("category"), body.pop("from"))
            results = []
            for e in body.pop("results"):
                if e["type"] == "lxc":
                    self.assertEqual(e["repository"], lxc_repository, e)
                    e = {k: v for k, v in e.items() if k != "repository"}
                results.append(e)
            return body, results

        for filters in ["", "&type=lxc", "&type=docker", "&filter_text=UBUNTU"]:
            qnap = self.listing("category=qnap" + filters)
            appcenter = self.listing("from=appcenter" + filters)
            self.assertEqual(qnap["category"], "qnap")
            self.assertEqual(appcenter["from"], "appcenter")
            self.assertEqual(without_echo(qnap, "qnap"), without_echo(appcenter, "appcenter"),
                             filters)
            # The parameter spelling alone changes nothing.
            self.assertEqual(self.listing("from=qnap" + filters),
                             self.listing("category=qnap" + filters))
            self.assertEqual(self.listing("category=appcenter" + filters), appcenter)
        self.assertEqual(self.listing("category=official"), self.listing("from=official"))
        # Both given: from wins.
        self.assertEqual(self.listing("from=official&category=qnap")["from"], "official")
        # LXC entries name the requested spelling as their repository; Docker ones dockerhub.
        for e in self.listing("category=qnap")["results"]:
            self.assertEqual(e["repository"], "qnap" if e["type"] == "lxc" else "dockerhub", e)

    # --- filters ------------------------------------------------------------------

    def expected_names(self, depot, text="", type_=""):
        out = []
        for e in catalog(depot):
            haystack = " ".join([e["name"], e["title"], e["description"]]).lower()
            if text.lower() in haystack and (not type_ or e["type"] == type_):
                out.append(e["name"])
        return out

    def test_filter_text_matches_name_title_and_description(self):
        """Case-insensitive substring of name, title or description (a title-only
        match is shown in test_depots_refresh, whose catalog is written for it)."""
        description_word = "BitTorrent"  # aostanin/deluge's description, not its name or title
        cases = [("appcenter", "DEBIAN"), ("appcenter", "novnc"), ("appcenter", description_word),
                 ("official", "mySQL"), ("official", "no such image anywhere")]
        for depot, text in cases:
            body = self.listing(f"from={depot}&filter_text={text.replace(' ', '%20')}")
            self.assertEqual(body["filter_text"], text)
            self.assertEqual([e["name"] for e in body["results"]],
                             self.expected_names(depot, text), (depot, text))
            self.assertEqual(body["total_count"], len(body["results"]))
        self.assertIn("aostanin/deluge", [e["name"] for e in self.listing(
            f"from=appcenter&filter_text={description_word}")["results"]])
        self.assertEqual(self.listing("from=official&filter_text=no%20such%20image%20anywhere")
                         ["results"], [])

    def test_type_filter(self):
        for depot in ("appcenter", "official"):
            for type_ in ("lxc", "docker"):
                body = self.listing(f"from={depot}&type={type_}")
                self.assertEqual(body["type"], type_)
                self.assertEqual([e["name"] for e in body["results"]],
                                 self.expected_names(depot, type_=type_), (depot, type_))
                self.assertTrue(all(e["type"] == type_ for e in body["results"]))
        self.assertEqual(self.listing("from=official&type=lxc")["results"], [])
        both = self.listing("from=appcenter&type=lxc&filter_text=ubuntu")["results"]
        self.assertEqual([e["name"] for e in both],
                         [n for n in self.expected_names("appcenter", "ubuntu", "lxc")])
        status, body = self.api.get("/api/v1/image/?from=appcenter&type=vm")
        self.assertError(status, body, 400, mentions=["type"])
        status, body = self.api.get("/api/v1/image/?from=elsewhere")
        self.assertError(status, body, 400, mentions=["from"])

    # --- installed / downloading --------------------------------------------------

    def redis_flags(self):
        flags = {}
        for query in ("from=official", "category=qnap", "from=appcenter"):
            e = self.entry(query, "redis")
            flags[query] = (e["installed"], e["downloading"])
        return flags

    def test_installed_and_downloading_are_live(self):
        self.assertEqual(set(self.redis_flags().values()), {(False, False)})
        self.proxy.set_rate(200 * 1024)  # ~15 s for the 3 MiB layer: watchable
        try:
            status, body = self.api.download("redis", "latest")
            self.assertEqual(status, 200, body)
            wait_until(lambda: set(self.redis_flags().values()) == {(False, True)}, 20,
                       "redis to show downloading in every catalog depot")
            # The tags endpoint does not list it as installed before it completes.
            status, tags = self.api.get("/api/v1/image/dockerhub/docker/1/redis/tags")
            self.assertEqual(status, 200, tags)
            self.assertEqual(tags["installed"], [])
        finally:
            self.proxy.set_rate(None)
        self.assertIsNone(self.api.wait_download("redis", "latest", timeout=60))
        self.assertEqual(set(self.redis_flags().values()), {(True, False)})
        # Others stay as they were.
        self.assertEqual((self.entry("from=official", "nginx")["installed"],
                          self.entry("from=official", "nginx")["downloading"]), (False, False))
        # The local listing has the seed's local shape (Docker entries).
        local = self.listing("category=local")
        docker_example = dict(SEED["local"])
        docker_example["results"] = [e for e in SEED["local"]["results"] if e["type"] == "docker"]
        # update_available (a boolean per tag), ids (config digests) and created (the
        # configs' creation times) extend the seed's local entry, each aligned with tags.
        self.assertEqual(listing_shape_problems(local, docker_example, ENVELOPE_EXTRA,
                                                {"update_available", "ids", "created"}), [])
        self.assertEqual(local["results"][0]["update_available"], [False])
        self.assertEqual(len(local["results"][0]["ids"]), 1)
        self.assertRegex(local["results"][0]["ids"][0], r"^sha256:[0-9a-f]{64}$")
        self.assertEqual([type(c) for c in local["results"][0]["created"]], [str])
        self.assertEqual([e["name"] for e in local["results"]], ["redis"])
        status, tags = self.api.get("/api/v1/image/dockerhub/docker/1/redis/tags")
        self.assertEqual(tags, {"installed": ["latest"], "tags": ["latest"]})

    # --- tags ---------------------------------------------------------------------

    def test_tags_more_than_100_latest_first(self):
        status, body = self.api.get("/api/v1/image/dockerhub/docker/0/team/many/tags")
        self.assertEqual(status, 200, body)
        self.assertEqual(shape_problems(body, SEED["tags"]), [])
        self.assertGreater(len(body["tags"]), 100)
        self.assertEqual(body["tags"], ["latest"] + sorted(t for t in self.many_tags
                                                           if t != "latest"))
        self.assertEqual(body["installed"], [])
        # The registry holds exactly these.
        self.assertEqual(sorted(body["tags"]), sorted(self.registry.client().tags("team/many")))

    def test_tags_is_official_means_library(self):
        status, body = self.api.get("/api/v1/image/dockerhub/docker/1/redis/tags")
        self.assertEqual(status, 200, body)
        self.assertIn("latest", body["tags"])
        status, body = self.api.get("/api/v1/image/dockerhub/docker/1/library/redis/tags")
        self.assertEqual(status, 200, body)
        # is_official=1 puts a bare name in library/: library/many does not exist.
        status, body = self.api.get("/api/v1/image/dockerhub/docker/1/many/tags")
        self.assertError(status, body, 404, mentions=["many"])

    def test_tags_of_an_unknown_repository(self):
        status, body = self.api.get("/api/v1/image/dockerhub/docker/0/nobody/nothing/tags")
        self.assertError(status, body, 404, message="Repository not found: nobody/nothing")
        status, body = self.api.get("/api/v1/image/dockerhub/docker/2/redis/tags")
        self.assertError(status, body, 400, mentions=["is_official"])


if __name__ == "__main__":
    unittest.main()
