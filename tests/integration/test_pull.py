"""Downloads from a real registry, then listing, inspect, the store on disk,
joins, failures and delete with garbage collection, each compared with what the
registry holds."""

import hashlib
import json
import os
import shutil
import tempfile
import unittest

from fixtures import HOST_ARCH, FixtureBuilder, skopeo
from harness import Registry, WharfTestCase, Wharfd

SEED_BODY = {
    "description": "I am description.",
    "location": "https://registry.hub.docker.com/u/lgsd/diamond/",
    "icon": "http://download.qnap.com/QPKG/images/QPKG/container_icon.png",
}
LOCAL_DOCKER_KEYS = {"description", "downloading", "icon", "installed", "is_latest", "name",
                     "repository", "size", "tags", "type"}
SEED_INSPECT_KEYS = {"Architecture", "Author", "Comment", "Config", "Container",
                     "ContainerConfig", "Created", "DockerVersion", "Id", "Os", "Parent", "Size",
                     "VirtualSize"}
# Keys of the seed's inspect Config whose documented value has a scalar type.
SEED_CONFIG_SCALARS = {
    "AttachStderr": bool, "AttachStdin": bool, "AttachStdout": bool, "CpuShares": int,
    "Cpuset": str, "Domainname": str, "Hostname": str, "Image": str, "MacAddress": str,
    "Memory": int, "MemorySwap": int, "NetworkDisabled": bool, "OpenStdin": bool,
    "StdinOnce": bool, "Tty": bool, "User": str, "WorkingDir": str,
}
SEED_CONFIG_OTHERS = {"Cmd", "Entrypoint", "Env", "ExposedPorts", "Labels", "OnBuild",
                      "PortSpecs", "Volumes"}
JOB_STATUSES = {"waiting", "downloading", "failed"}

registry = None
truth = {}


def meta(description):
    return dict(SEED_BODY, description=description)


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truth["diamond"] = fx.diamond()
            truth["base-a"], truth["base-b"] = fx.shared_pair()
            truth["multi"] = fx.multi_arch("library/multi")
            truth["listed"] = fx.multi_arch("library/listed", docker=True)
            truth["ghost"] = fx.image("lgsd/ghost", ["v1"], [{"/ghost": os.urandom(100)}],
                                      {"cmd": ["/ghost"], "env": ["GHOST=1"]})
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


class PullTest(WharfTestCase):
    """One wharfd; every download happens in setUpClass, tests read the outcome.
    Tests named test_9* change the store and run last (unittest sorts by name)."""

    # (name, tag, depot, download body)
    DOWNLOADS = [
        ("lgsd/diamond", "latest", "dockerhub", SEED_BODY),
        ("lgsd/diamond", "1.0", "dockerhub", SEED_BODY),
        ("team/base-a", "latest", "appcenter", meta("base a")),
        ("team/base-b", "latest", "qnap", meta("base b")),
        ("multi", "latest", "dockerhub", meta("multi-arch OCI index")),
        ("listed", "latest", "dockerhub", {}),
        ("lgsd/ghost", "nope", "dockerhub", {}),
        ("lgsd/vanished", "latest", "dockerhub", {}),
    ]
    FAILING = {("lgsd/ghost", "nope"), ("lgsd/vanished", "latest")}

    @classmethod
    def setUpClass(cls):
        cls.wharfd = Wharfd(registry.url).start()
        try:
            cls.api = cls.wharfd.client()
            cls.answers = {}
            for name, tag, depot, body in cls.DOWNLOADS:
                cls.answers[(name, tag, depot)] = cls.api.download(name, tag, depot, body)
            # Joins: the same downloads again, at once.
            cls.rejoin = [cls.api.download("lgsd/diamond", "latest", meta=SEED_BODY)
                          for _ in range(2)]
            cls.jobs_after_posts = cls.api.download_jobs()
            cls.seen = []
            cls.results = cls.api.wait_jobs([(n, t) for n, t, _, _ in cls.DOWNLOADS],
                                            timeout=120, seen=cls.seen)
        except Exception:
            print(cls.wharfd.log())
            cls.wharfd.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()

    def setUp(self):
        self.local = self.api.local_images()

    def inspect(self, name, tag):
        status, body = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, body)
        return body

    # --- the downloads --------------------------------------------------------

    def test_01_download_answers_empty_object(self):
        for key, (status, body) in self.answers.items():
            with self.subTest(download=key):
                self.assertEqual((status, body), (200, {}))
        for status, body in self.rejoin:
            self.assertEqual((status, body), (200, {}))

    def test_02_downloads_finish(self):
        for ref, failed in self.results.items():
            with self.subTest(ref=ref):
                if ref in self.FAILING:
                    self.assertIsNotNone(failed, f"{ref} should have failed")
                else:
                    self.assertIsNone(failed, f"{ref} failed: {failed}")

    def test_03_duplicate_requests_join(self):
        entries = [j for j in self.jobs_after_posts
                   if j.get("name") == "lgsd/diamond" and j.get("tag", "latest") == "latest"]
        self.assertLessEqual(len(entries), 1, self.jobs_after_posts)
        keys = [(j.get("name"), j.get("tag")) for j in self.jobs_after_posts]
        self.assertEqual(len(keys), len(set(keys)), f"duplicate jobs: {self.jobs_after_posts}")

    def test_04_downloadstatus_entry_shape(self):
        self.assertTrue(self.seen or self.jobs_after_posts, "no job was ever listed")
        for job in self.seen + self.jobs_after_posts:
            with self.subTest(job=job):
                self.assertTrue({"name", "percent", "status", "tag", "type", "bytes_done",
                                 "bytes_total"} <= set(job), job)
                self.assertIsInstance(job["name"], str)
                self.assertIn(job["status"], JOB_STATUSES)
                self.assertEqual(job["type"], "docker")
                if job["percent"] is not None:
                    self.assertIs(type(job["percent"]), int, job)
                    self.assertTrue(0 <= job["percent"] <= 100, job)
                self.assertIs(type(job["bytes_done"]), int, job)

    def test_05_failed_download_stays_listed_and_leaves_nothing(self):
        jobs = self.api.download_jobs()
        for name, tag in self.FAILING:
            with self.subTest(ref=(name, tag)):
                job = self.api.find_job(jobs, name, tag)
                self.assertIsNotNone(job, f"failed job {name}:{tag} left the list: {jobs}")
                self.assertEqual(job["status"], "failed")
                self.assertIsInstance(job.get("error"), str)
                self.assertTrue(job["error"], job)
                self.assertNotIn(name, self.local)
        self.assertEqual(self.wharfd.settled_temp_files(), [])

    def test_06_download_without_body(self):
        """The body is optional: `curl -XPOST -b cookies.txt URL` (no -d, so no
        Content-Length) is a download like any other. "listed" is already local
        with an empty body, so this changes nothing."""
        status, body = self.api.bare("POST",
                                     "/api/v1/image/dockerhub/docker/listed/latest/download")
        self.assertEqual((status, body), (200, {}))
        self.assertIsNone(self.api.wait_download("listed", "latest", timeout=60))
        self.assertEqual(self.api.local_images()["listed"]["tags"], ["latest"])

    # --- the local listing ------------------------------------------------------

    def test_10_listing_groups_and_sorts(self):
        status, body = self.api.get("/api/v1/image/?from=local")
        self.assertEqual(status, 200, body)
        names = [e["name"] for e in body["results"]]
        self.assertEqual(names, sorted(["lgsd/diamond", "listed", "multi", "team/base-a",
                                        "team/base-b"]))
        self.assertEqual(body["total_count"], len(names))
        self.assertEqual((body["category"], body["from"], body["type"]), ("local", "local", ""))
        self.assertEqual(self.api.get("/api/v1/image/?from=local&type=lxc")[1]["results"], [])
        docker = self.api.get("/api/v1/image/?category=local&type=docker")[1]
        self.assertEqual([e["name"] for e in docker["results"]], names)

    def test_11_listing_entry_shape(self):
        expected = {
            "lgsd/diamond": (["1.0", "latest"], truth["diamond"].size, SEED_BODY),
            "team/base-a": (["latest"], truth["base-a"].size, meta("base a")),
            "team/base-b": (["latest"], truth["base-b"].size, meta("base b")),
            "multi": (["latest"], truth["multi"][HOST_ARCH].size, meta("multi-arch OCI index")),
            "listed": (["latest"], truth["listed"][HOST_ARCH].size, {}),
        }
        for name, (tags, size, body) in expected.items():
            with self.subTest(name=name):
                entry = self.local[name]
                self.assertTrue(LOCAL_DOCKER_KEYS <= set(entry), entry)
                self.assertEqual(entry["tags"], tags)
                self.assertEqual(entry["size"], [size] * len(tags))
                for s in entry["size"]:
                    self.assertIs(type(s), int)
                self.assertEqual(entry["is_latest"], ["latest"])
                self.assertEqual(entry["description"], body.get("description", ""))
                self.assertEqual(entry["icon"], body.get("icon", ""))
                self.assertIs(entry["installed"], True)
                self.assertIs(entry["downloading"], False)
                self.assertEqual(entry["repository"], "local")
                self.assertEqual(entry["type"], "docker")

    def test_12_size_is_sum_of_uncompressed_layers(self):
        t = truth["diamond"]
        self.assertEqual(len(t.layers), 3)
        self.assertEqual(self.local["lgsd/diamond"]["size"][0], sum(t.layer_sizes))

    def test_13_tags_endpoint(self):
        for path, repo, installed in [("0/lgsd/diamond", "lgsd/diamond", ["1.0", "latest"]),
                                      ("1/multi", "library/multi", ["latest"])]:
            with self.subTest(path=path):
                status, body = self.api.get(f"/api/v1/image/dockerhub/docker/{path}/tags")
                self.assertEqual(status, 200, body)
                self.assertEqual(set(body["tags"]), set(registry.client().tags(repo)))
                self.assertEqual(sorted(body["installed"]), installed)

    # --- inspect ------------------------------------------------------------------

    def assertInspectMatches(self, got, t, name, tag, repo_digests):
        self.assertTrue(SEED_INSPECT_KEYS | {"RepoTags", "RepoDigests", "RootFS"} <= set(got),
                        sorted(got))
        self.assertEqual(got["Id"], t.id)
        for key, field in [("Architecture", "architecture"), ("Os", "os"), ("Created", "created")]:
            self.assertEqual(got[key], t.config[field], key)
        for key in ["Cmd", "Env", "WorkingDir", "User", "ExposedPorts", "Labels"]:
            if key in t.config["config"]:
                self.assertEqual(got["Config"].get(key), t.config["config"][key], key)
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertIn(f"{name}:{tag}", got["RepoTags"])
        self.assertTrue({f"{name}@{d}" for d in repo_digests} & set(got["RepoDigests"]),
                        f"RepoDigests {got['RepoDigests']} lacks {name}@{repo_digests}")
        size = self.local[name]["size"][self.local[name]["tags"].index(tag)]
        self.assertEqual(got["Size"], size)
        self.assertEqual(got["VirtualSize"], size)
        self.assertEqual(size, t.size)

    def test_20_inspect_single_platform(self):
        cases = [("lgsd/diamond", "latest", truth["diamond"]),
                 ("lgsd/diamond", "1.0", truth["diamond"]),
                 ("team/base-a", "latest", truth["base-a"]),
                 ("team/base-b", "latest", truth["base-b"])]
        for name, tag, t in cases:
            with self.subTest(ref=f"{name}:{tag}"):
                self.assertInspectMatches(self.inspect(name, tag), t, name, tag, [t.digest])

    def test_21_inspect_picks_host_platform(self):
        for name in ["multi", "listed"]:
            with self.subTest(name=name):
                if HOST_ARCH not in truth[name]:
                    self.skipTest(f"no fixture for host arch {HOST_ARCH}")
                t = truth[name][HOST_ARCH]
                got = self.inspect(name, "latest")
                self.assertEqual(got["Architecture"], HOST_ARCH)
                self.assertInspectMatches(got, t, name, "latest", [t.digest, truth[name]["digest"]])

    def test_22_inspect_config_has_seed_keys(self):
        """The seed's Config and ContainerConfig keys, with the seed's scalar types."""
        got = self.inspect("lgsd/diamond", "latest")
        for section in ["Config", "ContainerConfig"]:
            with self.subTest(section=section):
                self.assertIsInstance(got[section], dict)
                missing = sorted((set(SEED_CONFIG_SCALARS) | SEED_CONFIG_OTHERS)
                                 - set(got[section]))
                self.assertEqual(missing, [],
                                 f"{section} lacks seed keys; has {sorted(got[section])}")
                retyped = {k: got[section][k] for k, typ in SEED_CONFIG_SCALARS.items()
                           if k in got[section] and type(got[section][k]) is not typ}
                self.assertEqual(retyped, {}, f"{section} keys with types unlike the seed's")
        for key in ["Author", "Comment", "Container", "DockerVersion", "Parent"]:
            self.assertIsInstance(got[key], str, key)

    def test_24_name_forms(self):
        """Docker's name forms name one image; a name in a path is decoded once."""
        diamond, multi = truth["diamond"].id, truth["multi"][HOST_ARCH].id
        for name, short, image_id in [("lgsd%2Fdiamond", "lgsd/diamond", diamond),
                                      ("docker.io/lgsd/diamond", "lgsd/diamond", diamond),
                                      ("library/multi", "multi", multi),
                                      ("docker.io/library/multi", "multi", multi)]:
            with self.subTest(name=name):
                got = self.inspect(name, "latest")
                self.assertEqual(got["Id"], image_id)
                self.assertIn(f"{short}:latest", got["RepoTags"])
        status, body = self.api.get("/api/v1/image/docker/lgsd%252Fdiamond/latest/inspect")
        self.assertError(status, body, 400)

    def test_23_remote_inspect_downloads_nothing(self):
        t = truth["ghost"]
        status, got = self.api.get("/api/v1/image/docker/lgsd/ghost/v1/remote_inspect")
        self.assertEqual(status, 200, got)
        self.assertTrue(SEED_INSPECT_KEYS <= set(got), sorted(got))
        self.assertEqual(got["Id"], t.id)
        self.assertEqual(got["Config"]["Cmd"], t.config["config"]["Cmd"])
        self.assertEqual(got["Config"]["Env"], t.config["config"]["Env"])
        self.assertEqual(got["RootFS"]["Layers"], t.config["rootfs"]["diff_ids"])
        self.assertNotIn("lgsd/ghost", self.api.local_images())
        self.assertFalse(set(t.layers) & self.wharfd.blob_digests())

    # --- the store on disk --------------------------------------------------------

    def expected_blobs(self):
        single = [truth["diamond"], truth["base-a"], truth["base-b"],
                  truth["multi"][HOST_ARCH], truth["listed"][HOST_ARCH]]
        required = set().union(*(t.blobs for t in single))
        # Index digests may be kept; remote_inspect may cache what it fetched.
        optional = {truth["multi"]["digest"], truth["listed"]["digest"],
                    truth["ghost"].digest, truth["ghost"].config_digest}
        return required, optional

    def test_30_blobs_stored_once_and_verified(self):
        shared = truth["base-a"].layers[0]
        self.assertEqual(shared, truth["base-b"].layers[0])
        files = self.wharfd.blob_files()
        self.assertEqual(files.count(shared.split(":")[1]), 1)
        self.assertEqual(len(files), len(self.wharfd.blob_digests()), f"stray files: {files}")
        required, optional = self.expected_blobs()
        stored = self.wharfd.blob_digests()
        self.assertEqual(required - stored, set(), "missing blobs")
        self.assertEqual(stored - required - optional, set(), "unexpected blobs")
        for digest in stored:
            path = os.path.join(self.wharfd.data_dir, "blobs", "sha256", digest.split(":")[1])
            with open(path, "rb") as f:
                self.assertEqual("sha256:" + hashlib.sha256(f.read()).hexdigest(), digest)

    def test_31_store_is_an_oci_layout_skopeo_reads(self):
        refs = self.wharfd.oci_ref_names()
        for ref, t in [("lgsd/diamond:latest", truth["diamond"]),
                       ("lgsd/diamond:1.0", truth["diamond"]),
                       ("team/base-a:latest", truth["base-a"])]:
            with self.subTest(ref=ref):
                self.assertEqual(refs.get(ref), t.digest, refs)
                out = tempfile.mkdtemp(prefix="wharf-readback-")
                try:
                    skopeo("copy", "--quiet", f"oci:{self.wharfd.data_dir}:{ref}", f"dir:{out}")
                    with open(os.path.join(out, "manifest.json")) as f:
                        manifest = json.load(f)
                    self.assertEqual([l["digest"] for l in manifest["layers"]], t.layers)
                finally:
                    shutil.rmtree(out, ignore_errors=True)

    # --- delete (runs last) -------------------------------------------------------

    def test_90_delete_one_tag(self):
        status, body = self.api.delete("/api/v1/image/local/docker/lgsd/diamond:1.0")
        self.assertEqual((status, body), (200, {}))
        entry = self.api.local_images()["lgsd/diamond"]
        self.assertEqual(entry["tags"], ["latest"])
        self.assertEqual(len(entry["size"]), 1)
        self.assertEqual(self.api.get("/api/v1/image/docker/lgsd/diamond/1.0/inspect")[0], 404)
        self.inspect("lgsd/diamond", "latest")
        self.assertTrue(truth["diamond"].blobs <= self.wharfd.blob_digests())

    def test_91_delete_all_tags_then_404(self):
        self.api.download("lgsd/diamond", "1.0", meta=SEED_BODY)
        self.assertIsNone(self.api.wait_download("lgsd/diamond", "1.0", timeout=60))
        status, body = self.api.delete("/api/v1/image/local/docker/lgsd/diamond")
        self.assertEqual((status, body), (200, {}))
        self.assertNotIn("lgsd/diamond", self.api.local_images())
        self.assertError(*self.api.delete("/api/v1/image/local/docker/lgsd/diamond"), 404,
                         message="Image not found: lgsd/diamond")
        self.assertEqual(self.api.get("/api/v1/image/docker/lgsd/diamond/latest/inspect")[0], 404)
        self.assertFalse(truth["diamond"].blobs & self.wharfd.blob_digests(),
                         "diamond's blobs were not collected")
        self.assertNotIn("lgsd/diamond:latest", self.wharfd.oci_ref_names())

    def test_92_delete_collects_shared_layer_last(self):
        a, b = truth["base-a"], truth["base-b"]
        shared = a.layers[0]
        self.assertEqual(self.api.delete("/api/v1/image/local/docker/team/base-a"), (200, {}))
        stored = self.wharfd.blob_digests()
        self.assertIn(shared, stored, "a layer still used by team/base-b was removed")
        self.assertFalse((a.blobs - b.blobs) & stored, "team/base-a's own blobs remain")
        self.assertEqual(self.api.delete("/api/v1/image/local/docker/team/base-b:latest"),
                         (200, {}))
        stored = self.wharfd.blob_digests()
        self.assertFalse((a.blobs | b.blobs) & stored, "blobs of deleted images remain")
        self.assertTrue(truth["multi"][HOST_ARCH].blobs <= stored, "other images' blobs lost")
        self.assertTrue(truth["listed"][HOST_ARCH].blobs <= stored, "other images' blobs lost")
        self.assertEqual(sorted(self.api.local_images()), ["listed", "multi"])


class PlatformOverrideTest(WharfTestCase):
    """downloads.platform = "linux/arm64/v8" picks the arm64 entry of an index."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = Wharfd(registry.url, platform="linux/arm64/v8").start()
        cls.api = cls.wharfd.client()

    @classmethod
    def tearDownClass(cls):
        cls.wharfd.stop()

    def test_arm64_is_picked(self):
        for name in ["multi", "listed"]:
            self.assertEqual(self.api.download(name, "latest"), (200, {}))
        for name in ["multi", "listed"]:
            with self.subTest(name=name):
                self.assertIsNone(self.api.wait_download(name, "latest", timeout=60))
                status, got = self.api.get(f"/api/v1/image/docker/{name}/latest/inspect")
                self.assertEqual(status, 200, got)
                self.assertEqual(got["Architecture"], "arm64")
                self.assertEqual(got["Id"], truth[name]["arm64"].id)
                self.assertEqual(self.api.local_images()[name]["size"],
                                 [truth[name]["arm64"].size])


class LazyLibrariesTest(WharfTestCase):
    """libcurl and libarchive (with GnuTLS, Kerberos, ICU... behind them) are loaded only
    when first needed, which keeps an idle wharfd small."""

    def mapped(self, wharfd):
        with open(f"/proc/{wharfd.proc.pid}/maps") as f:
            maps = f.read()
        return {lib for lib in ("libcurl.so", "libarchive.so", "libgnutls.so") if lib in maps}

    def test_loaded_on_first_use_only(self):
        wharfd = Wharfd(registry.url).start()
        try:
            api = wharfd.client()
            for depot in ("local", "appcenter", "official"):
                status, _ = api.get(f"/api/v1/image/?from={depot}")
                self.assertEqual(status, 200)
            self.assertEqual(self.mapped(wharfd), set())
            self.assertEqual(api.download("lgsd/diamond", "latest"), (200, {}))
            self.assertIsNone(api.wait_download("lgsd/diamond", "latest", timeout=60))
            after = self.mapped(wharfd)
            self.assertIn("libcurl.so", after)
            self.assertNotIn("libarchive.so", after)
        finally:
            wharfd.stop()


if __name__ == "__main__":
    unittest.main()
