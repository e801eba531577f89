"""`make demo` as a user runs it (scripts/demo, on free ports, its data in a fresh directory
under a missing parent): it starts without a warning about its data directory, its banner
names the page, every entry of its App Center and Official catalogs is a repository and tag
its registry holds (and downloads), and Ctrl-C stops it."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import (REPO_ROOT, ApiClient, RegistryClient, WharfTestCase, free_port,
                     http_status, wait_until, wharfd_binary)


class DemoTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        if not wharfd_binary().exists():
            raise unittest.SkipTest(f"no wharfd at {wharfd_binary()}")
        cls.tmp = tempfile.mkdtemp(prefix="wharf-demo-test-")
        cls.data = Path(cls.tmp, "var", "demo")
        cls.port = free_port()
        env = dict(os.environ, WHARFD=str(wharfd_binary()), WHARF_LISTEN=f"127.0.0.1:{cls.port}",
                   WHARF_DEMO_REGISTRY_PORT=str(free_port()), WHARF_DEMO_DATA=str(cls.data),
                   WHARF_DEMO_BIG_MB="2", WHARF_ADMIN_PASSWORD="demo-test")
        cls.out = Path(cls.tmp, "demo.out")
        with open(cls.out, "wb") as sink:
            cls.proc = subprocess.Popen([str(REPO_ROOT / "scripts" / "demo")], cwd=REPO_ROOT,
                                        env=env, stdout=sink, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until(cls.banner_shown, 240, "the demo's banner")
        except Exception:
            print(cls.out.read_text(errors="replace"))
            cls.stop()
            raise
        cls.text = cls.out.read_text()
        cls.registry = RegistryClient(re.search(r"registry  http://(\S+)", cls.text).group(1))
        cls.api = ApiClient(f"http://127.0.0.1:{cls.port}")
        status, body = cls.api.login("admin", "demo-test")
        assert status == 200, body

    @classmethod
    def banner_shown(cls):
        if cls.proc.poll() is not None:
            raise RuntimeError(f"the demo exited {cls.proc.returncode}: {cls.out.read_text()}")
        return "Ctrl-C stops wharfd and the registry" in cls.out.read_text(errors="replace")

    @classmethod
    def stop(cls):
        """Ctrl-C, once; returns the demo's exit status."""
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGINT)  # what Ctrl-C in its terminal sends
        try:
            return cls.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(cls.proc.pid, signal.SIGKILL)
            return cls.proc.wait(timeout=10)
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    def catalog(self, depot):
        status, body = self.api.get(f"/api/v1/image/?from={depot}")
        self.assertEqual(status, 200, body)
        return body["results"]

    def test_no_warning_about_its_data_directory(self):
        self.assertIn(f"data in {self.data}", self.text)
        warnings = [line for line in self.text.splitlines()
                    if "warn" in line.lower() and "data directory" in line]
        self.assertEqual(warnings, [])
        for d in (self.data, self.data.parent):
            self.assertEqual(d.stat().st_mode & 0o777, 0o700, d)

    def test_the_banner_names_the_page_and_the_cli(self):
        self.assertIn(f"the page  http://127.0.0.1:{self.port}/", self.text)
        self.assertIn(f"build/wharf login --server http://127.0.0.1:{self.port}", self.text)
        self.assertIn(f"wharfd listening on http://127.0.0.1:{self.port}/", self.text)
        self.assertEqual(http_status(f"http://127.0.0.1:{self.port}/"), 200)

    def test_the_registry_holds_every_catalog_entry(self):
        shipped = {depot: [e["name"] for e in json_of(depot) if e["type"] == "docker"]
                   for depot in ("appcenter", "official")}
        for depot in ("appcenter", "official"):
            entries = self.catalog(depot)
            self.assertEqual([e["name"] for e in entries], shipped[depot])
            for entry in entries:
                repo = entry["name"] if "/" in entry["name"] else "library/" + entry["name"]
                with self.subTest(depot=depot, name=entry["name"]):
                    self.assertEqual(entry["type"], "docker")
                    self.assertIn(entry["version"], self.registry.tags(repo))

    def test_a_catalog_entry_downloads(self):
        entry = self.catalog("official")[0]
        status, body = self.api.download(entry["name"], entry["version"])
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.api.wait_download(entry["name"], entry["version"]))
        self.assertIn(entry["name"], self.api.local_images())

    def test_the_walk_through_image_downloads(self):
        status, body = self.api.download("lgsd/diamond", "latest")
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.api.wait_download("lgsd/diamond", "latest"))
        self.assertIn("lgsd/diamond", self.api.local_images())

    def test_z_ctrl_c_stops_it(self):  # last: the others need it running
        self.assertEqual(self.stop(), 0)
        self.assertIsNone(http_status(f"http://{self.registry.host}/v2/"))
        self.assertIsNone(http_status(f"http://127.0.0.1:{self.port}/healthz"))


def json_of(depot):
    return json.loads(Path(REPO_ROOT, "share", "catalog", f"{depot}.json").read_text())["images"]


if __name__ == "__main__":
    unittest.main()
