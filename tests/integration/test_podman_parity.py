"""Parity with podman: the same images pulled from the same loopback registry by
wharfd (the download API) and by `podman pull` (its own storage, configuration and
temp dirs, vfs, plain HTTP), then wharf's inspect compared with `podman image
inspect`: Id, Architecture, Os, Created, Author, Config, RootFS, RepoTags,
RepoDigests and Size. Fixtures: a single-arch OCI image, a multi-arch OCI index, a
Docker manifest list and a Docker image pulled by digest, all with a full config.
Two known differences are expected failures (test_07, test_08): a by-digest image's
RepoTags, and "created" written in a form Go would not write (an extra image).

Size means two things: wharf's is the layers' uncompressed (tar) bytes, as the local
listing shows; podman's adds the metadata containers/storage keeps with the image
(the config, the manifest twice, the index it came from). Layers are compared with
layers (`podman history`), and the rest is checked to be exactly that metadata."""

import hashlib
import json
import os
import unittest
import urllib.parse

from engines import Podman
from fixtures import HOST_ARCH, FixtureBuilder, put_index
from harness import Registry, WharfTestCase, Wharfd

PLATFORMS = {"amd64": {"architecture": "amd64", "os": "linux"},
             "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
# Every field of an image config that Docker's and podman's inspect show, set.
RICH_CONFIG = {
    "entrypoint": ["/usr/bin/tini", "--"],
    "cmd": ["/usr/bin/parity", "--serve", "--port=8080"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PARITY_MODE=test", "EMPTY=", "SPACED=a b  c"],
    "workingdir": "/srv/parity",
    "user": "1000:1000",
    "exposedports": ["8080/tcp", "2003/udp", "9000"],
    "volumes": ["/var/lib/parity", "/cache"],
    "stopsignal": "SIGQUIT",
    "author": "wharf tests <tests@example.org>",
}
CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "Labels", "ExposedPorts", "User",
                 "Volumes", "StopSignal"]
EMPTY = (None, "", [], {})  # Go's omitempty drops these; Docker's shape shows them

registry = None
cases = {}  # fixture name -> {"name", "ref", "truth", "meta" (metadata podman stores)}
quirks = {}  # name -> {"name", "ref", "id"}: images whose config no Go tool writes


def rich(fixture, **more):
    labels = {"org.example.fixture": fixture, "maintainer": "wharf tests", "empty": ""}
    return dict(RICH_CONFIG, labels=labels, **more)


def two_layers(tag):
    return [{f"/srv/parity/{tag}.conf": os.urandom(32).hex().encode()},
            {f"/usr/lib/parity/{tag}-{i}.bin": os.urandom(6000) for i in range(3)}]


def metadata_bytes(client, repo, *manifests, config_digest):
    """What containers/storage keeps next to an image's layers and counts in its
    Size: the config, the (instance) manifest under "manifest" and under its digest,
    and each other manifest pulled on the way (the index)."""
    raws = [client.manifest(repo, digest)[3] for digest in manifests]
    return len(client.blob(repo, config_digest)) + len(raws[0]) + sum(map(len, raws))


def build_fixtures(fx):
    client = fx.client
    host = registry.host
    t = fx.image("parity/single", ["1.0"], two_layers("single"), rich("single"))
    cases["single"] = {"name": f"{host}/parity/single", "ref": "1.0", "truth": t,
                       "meta": metadata_bytes(client, t.repo, t.digest,
                                              config_digest=t.config_digest)}
    for fixture, docker in [("oci-index", False), ("docker-list", True)]:
        repo = f"parity/{fixture}"
        children = {arch: fx.image(repo, [f"build-{arch}"], two_layers(arch),
                                   rich(f"{fixture}-{arch}"), arch=arch,
                                   local_tag=f"{fixture}-{arch}",
                                   format="v2s2" if docker else None)
                    for arch in PLATFORMS}
        digest, _ = put_index(client, repo, "latest",
                              [(children[a], p) for a, p in PLATFORMS.items()], docker=docker)
        if HOST_ARCH in children:  # elsewhere both pullers refuse the index
            t = children[HOST_ARCH]
            cases[fixture] = {"name": f"{host}/{repo}", "ref": "latest", "truth": t,
                              "index": digest,
                              "meta": metadata_bytes(client, repo, t.digest, digest,
                                                     config_digest=t.config_digest)}
    t = fx.image("parity/pinned", ["v1"], two_layers("pinned"), rich("pinned"), format="v2s2")
    cases["by-digest"] = {"name": f"{host}/parity/pinned", "ref": t.digest, "truth": t,
                          "meta": metadata_bytes(client, t.repo, t.digest,
                                                 config_digest=t.config_digest)}
    # Python's isoformat(): podman shows Go's RFC 3339 form, "2024-01-02T03:04:05.12Z".
    odd = push_config_variant(client, cases["single"]["truth"], "odd-created",
                              created="2024-01-02T03:04:05.120000+00:00")
    quirks["odd-created"] = {"name": f"{host}/parity/single", "ref": "odd-created",
                             "id": odd.split(":")[1]}


def push_config_variant(client, truth, tag, **changes):
    """truth's image as repo:tag with top-level config keys changed: uploads the
    config blob, PUTs the manifest. Returns the config's digest."""
    raw = json.dumps(dict(truth.config, **changes)).encode()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    _, headers, _ = client.request("POST", f"/v2/{truth.repo}/blobs/uploads/")
    location = urllib.parse.urlsplit(headers["location"])
    query = "&".join(q for q in [location.query, "digest=" + digest] if q)
    status, _, body = client.request("PUT", f"{location.path}?{query}", body=raw,
                                     headers={"Content-Type": "application/octet-stream"})
    if status != 201:
        raise RuntimeError(f"blob upload -> {status} {body[:300]!r}")
    config = dict(truth.manifest["config"], digest=digest, size=len(raw))
    client.put_manifest(truth.repo, tag, json.dumps(dict(truth.manifest, config=config)).encode(),
                        truth.media_type)
    return digest


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            build_fixtures(fx)
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


def podman_ref(case):
    sep = "@" if case["ref"].startswith("sha256:") else ":"
    return case["name"] + sep + case["ref"]


def normalised(value):
    return None if value in EMPTY else value


class PodmanParityTest(WharfTestCase):
    """Every fixture pulled once by each side in setUpClass; the tests compare."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.podman = cls.serve(Podman())
        api = cls.wharfd.client()
        everything = {**cases, **quirks}
        for case in everything.values():
            status, body = api.download(case["name"], case["ref"])
            if (status, body) != (200, {}):
                raise AssertionError(f"download {podman_ref(case)} -> {status} {body}")
        for case in everything.values():  # while wharfd downloads
            cls.podman.pull(podman_ref(case))
        failed = {ref: job for ref, job in api.wait_jobs(
            [(c["name"], c["ref"]) for c in everything.values()], timeout=60).items() if job}
        if failed:
            raise AssertionError(f"wharfd downloads failed: {failed}\n{cls.wharfd.log()}")
        cls.wharf, cls.pod, cls.pod_layer_bytes = {}, {}, {}
        for fixture, case in everything.items():
            status, body = api.get(f"/api/v1/image/docker/{case['name']}/{case['ref']}/inspect")
            if status != 200:
                raise AssertionError(f"inspect {podman_ref(case)} -> {status} {body}")
            cls.wharf[fixture] = body
            cls.pod[fixture] = cls.podman.inspect(podman_ref(case))
            cls.pod_layer_bytes[fixture] = cls.podman.layer_bytes(podman_ref(case))
        cls.local = api.local_images()

    def each(self, check):
        """check(fixture, wharf's inspect, podman's inspect, case) per fixture, each in
        its own subTest."""
        for fixture, case in cases.items():
            with self.subTest(fixture=fixture):
                check(fixture, self.wharf[fixture], self.pod[fixture], case)

    def test_00_every_fixture_is_compared(self):
        expected = {"single", "by-digest"}
        if HOST_ARCH in PLATFORMS:
            expected |= {"oci-index", "docker-list"}
        self.assertEqual(set(cases), expected)
        ids = {fixture: w["Id"] for fixture, w in self.wharf.items()}
        self.assertEqual(len(set(ids.values())), len(ids), f"fixtures share an image: {ids}")
        for fixture, case in quirks.items():
            self.assertEqual((self.wharf[fixture]["Id"], self.pod[fixture]["Id"]),
                             (case["id"], case["id"]), fixture)
        self.assertEqual(self.pod["odd-created"]["Created"], "2024-01-02T03:04:05.12Z")

    def test_01_id_platform_created(self):
        def check(fixture, w, p, case):
            self.assertEqual(p["Id"], case["truth"].id, "podman pulled another image")
            for key in ["Id", "Architecture", "Os", "Created", "Author"]:
                self.assertEqual(w[key], p[key], key)
            self.assertEqual(w["Architecture"], HOST_ARCH)
            self.assertEqual(w["Created"], case["truth"].config["created"])
        self.each(check)

    def test_02_config_fields_both_have(self):
        def check(fixture, w, p, case):
            wc, pc = w["Config"], p["Config"]
            # The fixture means something: podman reports every field compared.
            self.assertEqual([k for k in CONFIG_FIELDS if normalised(pc.get(k)) is None], [],
                             f"podman's Config lacks fields: {pc}")
            for key in sorted(set(CONFIG_FIELDS) | set(pc)):
                self.assertIn(key, wc, f"wharf's Config has no {key}")
                self.assertEqual(normalised(wc[key]), normalised(pc.get(key)), key)
            # Empty values the image sets are kept, neither dropped nor invented.
            self.assertIn("EMPTY=", wc["Env"])
            self.assertEqual(wc["Labels"].get("empty"), "")
            self.assertEqual(wc["Volumes"], {v: {} for v in RICH_CONFIG["volumes"]})
        self.each(check)

    def test_03_rootfs(self):
        def check(fixture, w, p, case):
            self.assertEqual(w["RootFS"], {"Type": p["RootFS"]["Type"],
                                           "Layers": p["RootFS"]["Layers"]})
            self.assertEqual(w["RootFS"]["Layers"], case["truth"].config["rootfs"]["diff_ids"])
            self.assertEqual(len(w["RootFS"]["Layers"]), 2)
        self.each(check)

    def test_04_size_counts_the_same_layers(self):
        """wharf's Size (= the listing's size) is podman's layer bytes; podman's Size
        adds the image's metadata and nothing else."""
        def check(fixture, w, p, case):
            self.assertEqual(w["Size"], self.pod_layer_bytes[fixture])
            self.assertEqual(w["Size"], case["truth"].size)
            self.assertEqual(w["VirtualSize"], w["Size"])
            self.assertEqual(p["Size"] - w["Size"], case["meta"],
                             "podman's Size is more than layers + config + manifests")
            self.assertEqual(p["VirtualSize"], p["Size"])
            entry = self.local[case["name"]]
            self.assertEqual(entry["size"][entry["tags"].index(case["ref"])], w["Size"])
        self.each(check)

    def test_05_repo_digests(self):
        """wharf names the digest it pulled by (the index's, as Docker does); podman
        also names the platform's manifest."""
        def check(fixture, w, p, case):
            top = case.get("index", case["truth"].digest)
            self.assertEqual(w["RepoDigests"], [f"{case['name']}@{top}"])
            self.assertLessEqual(set(w["RepoDigests"]), set(p["RepoDigests"]))
        self.each(check)

    def test_06_repo_tags(self):
        for fixture, case in cases.items():
            if fixture != "by-digest":
                with self.subTest(fixture=fixture):
                    tags = self.wharf[fixture]["RepoTags"]
                    self.assertEqual(tags, [podman_ref(case)])
                    self.assertEqual(tags, self.pod[fixture]["RepoTags"])

    def test_07_pulled_by_digest_has_no_repo_tag(self):
        """An image pulled by digest has a RepoDigest but no RepoTag ("NAME:sha256:..."
        is not a reference), as podman and Docker answer."""
        self.assertEqual(self.wharf["by-digest"]["RepoTags"], self.pod["by-digest"]["RepoTags"])
        self.assertEqual(self.wharf["by-digest"]["RepoTags"], [])

    def test_08_created_as_podman_shows_it(self):
        """A "created" written otherwise ("...05.120000+00:00") is shown as podman (Go's
        time.Time) shows it: the fraction's trailing zeros dropped, a zero offset as "Z"."""
        self.assertEqual(self.wharf["odd-created"]["Created"], self.pod["odd-created"]["Created"])


if __name__ == "__main__":
    unittest.main()
