"""Update checks against a real docker-registry, seen through a recording proxy: a tag
downloaded, then pushed again, is flagged by POST /api/v1/image/updates/check (in the
updates list, in the local listing's update_available, as an "update" event); downloading it
again clears the flag, collects the old blobs and leaves fsck clean. An unchanged tag costs
one HEAD of its manifest and no GET. A multi-platform tag whose arm64 manifest moved is not
flagged on amd64; whose amd64 manifest moved is. A 429 with Retry-After is waited out. The
results survive a restart. [updates] webhook_url gets one POST per check that found new
updates, and none for a check that did not. An LXC image server that publishes a newer build
flags the stored latest, and downloading latest takes that build and clears the flag."""

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from api_client import EventStream
from fixtures import FixtureBuilder, put_index, random_files
from harness import Registry, WharfTestCase, Wharfd
from lxc_servers import (ImageServer, LxcWharfd, catalog_entry, rootfs_tar_xz, server_source,
                         write_catalog)
from proxy import FaultProxy
from support import serve_http, stop_http, wait_until

registry = None
proxy = None


def setUpModule():
    global registry, proxy
    registry = Registry().start()
    proxy = FaultProxy(registry.host).start()


def tearDownModule():
    proxy.stop()
    registry.stop()


def push_app(repo, marker):
    with FixtureBuilder(registry) as fx:
        return fx.image(repo, ["latest"], [{"/app": marker.encode() + os.urandom(2000)}],
                        {"cmd": ["/app"]})


class UpdatesTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(proxy.url, platform="linux/amd64",
                                      extra_toml="\n[updates]\ncheck_interval_s = 0\n"))
        cls.api = cls.wharfd.client()

    def updates_of(self, body, name):
        return [u for u in body if u["name"] == name]

    def check(self, body=None):
        status, out = self.api.post("/api/v1/image/updates/check", body)
        self.assertEqual(status, 200, out)
        return out

    def local_flags(self, name):
        listing = self.api.get("/api/v1/image/?from=local")[1]
        entry = next(e for e in listing["results"] if e["name"] == name)
        return dict(zip(entry["tags"], entry["update_available"]))

    def test_1_a_pushed_tag_is_flagged_and_a_download_clears_it(self):
        first = push_app("team/app", "one")
        self.assertIsNone(self.api.wait_download(*self.download("team/app")))
        status, body = self.api.get("/api/v1/image/updates")
        self.assertEqual(status, 200, body)
        [entry] = self.updates_of(body, "team/app")
        self.assertEqual((entry["update_available"], entry["checked_at"]), (False, None))
        self.assertEqual(entry["local_digest"], first.digest)

        before = len(proxy.seen("GET", r"/v2/team/app/manifests/latest"))
        [entry] = self.updates_of(self.check(), "team/app")
        self.assertFalse(entry["update_available"], entry)
        self.assertEqual(entry["remote_digest"], first.digest)
        self.assertIsInstance(entry["checked_at"], int)
        # The unchanged tag cost a HEAD, no GET.
        self.assertGreaterEqual(len(proxy.seen("HEAD", r"/v2/team/app/manifests/latest")), 1)
        self.assertEqual(len(proxy.seen("GET", r"/v2/team/app/manifests/latest")), before)

        second = push_app("team/app", "two")
        stream = EventStream.of(self.api, timeout=60)
        try:
            [entry] = self.updates_of(self.check({"name": "team/app", "tag": "latest"}),
                                      "team/app")
            self.assertTrue(entry["update_available"], entry)
            self.assertEqual(entry["remote_digest"], second.digest)
            events = [d for _, kind, d in stream.events(
                lambda e: e[1] == "update" and e[2]["name"] == "team/app", deadline_s=30)
                if kind == "update"]
        finally:
            stream.close()
        self.assertTrue(events[-1]["update_available"])
        self.assertEqual(self.local_flags("team/app"), {"latest": True})

        old_only = set(first.blobs) - set(second.blobs)
        self.assertIsNone(self.api.wait_download(*self.download("team/app")))
        [entry] = self.updates_of(self.api.get("/api/v1/image/updates")[1], "team/app")
        self.assertFalse(entry["update_available"], entry)
        self.assertEqual(entry["local_digest"], second.digest)
        self.assertEqual(self.local_flags("team/app"), {"latest": False})
        self.assertFalse(old_only & self.wharfd.blob_digests(), "old blobs collected")

    def test_2_multi_platform_only_this_platform_counts(self):
        with FixtureBuilder(registry) as fx:
            arch = fx.multi_arch("team/multi")
            self.assertIsNone(self.api.wait_download(*self.download("team/multi")))
            [entry] = self.updates_of(self.check({"name": "team/multi"}), "team/multi")
            self.assertFalse(entry["update_available"], entry)
            self.assertEqual(entry["local_digest"], arch["digest"])

            arm = fx.image("team/multi", ["arm-b"], [random_files(1, 7000, "armb")],
                           {"cmd": ["/bin/armb"]}, arch="arm64")
            amd64 = {"architecture": "amd64", "os": "linux"}
            arm64 = {"architecture": "arm64", "os": "linux", "variant": "v8"}
            moved, _ = put_index(fx.client, "team/multi", "latest",
                                 [(arch["amd64"], amd64), (arm, arm64)])
            [entry] = self.updates_of(self.check({"name": "team/multi"}), "team/multi")
            self.assertFalse(entry["update_available"], "arm64 moved, not amd64")
            self.assertEqual(entry["remote_digest"], moved)

            amd = fx.image("team/multi", ["amd-b"], [random_files(1, 7000, "amdb")],
                           {"cmd": ["/bin/amdb"]}, arch="amd64")
            put_index(fx.client, "team/multi", "latest", [(amd, amd64), (arm, arm64)])
            [entry] = self.updates_of(self.check({"name": "team/multi"}), "team/multi")
            self.assertTrue(entry["update_available"], "amd64 moved")

    def test_3_a_429_with_retry_after_is_waited_out(self):
        push_app("team/limited", "one")
        self.assertIsNone(self.api.wait_download(*self.download("team/limited")))
        rule = proxy.add_rule("status", method="HEAD", path=r"/v2/team/limited/manifests/",
                              status=429, headers={"Retry-After": "1"})
        [entry] = self.updates_of(self.check({"name": "team/limited"}), "team/limited")
        self.assertEqual(rule["hits"], 1)
        self.assertEqual(entry["error"], "")
        self.assertIsInstance(entry["checked_at"], int)

    def test_4_errors_and_what_survives_a_restart(self):
        status, body = self.api.post("/api/v1/image/updates/check", {"name": "no/such"})
        self.assertError(status, body, 404)
        status, body = self.api.post("/api/v1/image/updates/check", {"tag": "x"})
        self.assertError(status, body, 400, mentions=["name"])
        checked = {(u["name"], u["tag"]): u for u in self.api.get("/api/v1/image/updates")[1]}
        self.wharfd.restart()
        api = self.wharfd.client()
        again = {(u["name"], u["tag"]): u for u in api.get("/api/v1/image/updates")[1]}
        self.assertEqual(again, checked)
        self.wharfd.stop(cleanup=False)
        fsck = subprocess.run([str(self.wharfd.binary), "fsck", "--data", self.wharfd.data_dir],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)
        self.wharfd.start()
        type(self).api = self.wharfd.client()

    def download(self, name):
        status, body = self.api.download(name, "latest")
        self.assertEqual((status, body), (200, {}))
        return name, "latest"


class WebhookReceiver:
    """A loopback HTTP server that keeps the JSON body of every POST it gets (answered 204)."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.posts.append((self.path, self.headers.get("Content-Type"),
                                           json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = serve_http(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def received(self):
        with self.lock:
            return list(self.posts)

    def stop(self):
        stop_http(self.server)


class WebhookTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.receiver = WebhookReceiver()
        cls.addClassCleanup(cls.receiver.stop)
        cls.wharfd = cls.serve(Wharfd(
            proxy.url, platform="linux/amd64",
            extra_toml=f"\n[updates]\ncheck_interval_s = 0\nwebhook_url = \"{cls.receiver.url}\"\n"))
        cls.api = cls.wharfd.client()

    def check(self):
        status, out = self.api.post("/api/v1/image/updates/check")
        self.assertEqual(status, 200, out)
        return out

    def assertPosts(self, count):
        """Exactly `count` POSTs so far, the last one given the time to arrive."""
        wait_until(lambda: len(self.receiver.received()) >= count, 30, f"{count} webhook POSTs")
        time.sleep(1)  # a POST sent after the check's answer would come within this
        posts = self.receiver.received()
        self.assertEqual(len(posts), count, posts)
        return posts

    def test_one_post_per_check_with_new_updates(self):
        first = push_app("hook/app", "one")
        push_app("hook/other", "one")
        for name in ("hook/app", "hook/other"):
            status, body = self.api.download(name, "latest")
            self.assertEqual((status, body), (200, {}))
            self.assertIsNone(self.api.wait_download(name, "latest"))
        self.check()
        self.assertPosts(0)

        second = push_app("hook/app", "two")
        self.check()
        [(path, content_type, body)] = self.assertPosts(1)
        self.assertEqual((path, content_type), ("/hook", "application/json"))
        self.assertEqual(body, {"updates": [{
            "type": "docker", "name": "hook/app", "tag": "latest",
            "local_digest": first.digest, "remote_digest": second.digest}]})

        # Still flagged, nothing new: no POST. Another tag moving: a POST of it alone.
        self.check()
        self.assertPosts(1)
        other = push_app("hook/other", "two")
        self.check()
        posts = self.assertPosts(2)
        self.assertEqual([(u["name"], u["remote_digest"]) for u in posts[1][2]["updates"]],
                         [("hook/other", other.digest)])


class LxcUpdatesTest(WharfTestCase):
    S1, S2 = "20240101_00:00", "20240201_00:00"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wharf-lxc-updates-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.server = cls.serve(ImageServer())
        cls.add_build(cls.S1)
        catalog = Path(cls.tmp, "appcenter.json")
        write_catalog(catalog, [catalog_entry("testos-moving", server_source(
            "lxc-download", cls.server.url, "testos", "moving"))])
        cls.wharfd = cls.serve(LxcWharfd(catalog,
                                         extra_toml="\n[updates]\ncheck_interval_s = 0\n"))
        cls.api = cls.wharfd.client()

    @classmethod
    def add_build(cls, serial):
        data, size = rootfs_tar_xz({"etc/hostname": serial.encode() + b"\n",
                                    "usr/bin/tool": os.urandom(3000)})
        return cls.server.add_build("testos", "moving", "amd64", "default", serial, data, size,
                                    simplestreams=False)

    def download_latest(self):
        status, body = self.wharfd.lxc_download(self.api, "testos-moving")
        self.assertEqual((status, body), (200, {}))
        self.assertIsNone(self.api.wait_download("testos-moving", "latest", 30))

    def entry(self, listing):
        [entry] = [u for u in listing if u["type"] == "lxc"]
        self.assertEqual((entry["name"], entry["tag"]), ("testos-moving", "latest"))
        return entry

    def check(self, body=None):
        status, out = self.api.post("/api/v1/image/updates/check", body)
        self.assertEqual(status, 200, out)
        return self.entry(out)

    def test_a_newer_build_flags_latest_and_its_download_clears_it(self):
        self.download_latest()
        entry = self.check({"type": "lxc", "name": "testos-moving"})
        self.assertEqual((entry["update_available"], entry["local_digest"],
                          entry["remote_digest"], entry["error"]),
                         (False, self.S1, self.S1, ""))

        self.add_build(self.S2)
        entry = self.check()
        self.assertTrue(entry["update_available"], entry)
        self.assertEqual((entry["local_digest"], entry["remote_digest"]), (self.S1, self.S2))

        # A build serial is one build: it is not checked.
        status, body = self.api.post("/api/v1/image/updates/check",
                                     {"type": "lxc", "name": "testos-moving", "tag": self.S1})
        self.assertError(status, body, 400)

        self.download_latest()
        entry = self.entry(self.api.get("/api/v1/image/updates")[1])
        self.assertFalse(entry["update_available"], entry)
        self.assertEqual(entry["local_digest"], self.S2)
        self.assertEqual(self.api.local_images()["testos-moving"]["tags"], ["latest"])


if __name__ == "__main__":
    unittest.main()
