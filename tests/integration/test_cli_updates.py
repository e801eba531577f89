"""`wharf outdated`, `wharf update` and the UPDATE column of `wharf ls` against a real
docker-registry and wharfd: a tag pulled with the CLI, then pushed again at the registry, is
listed by `outdated --check` (with its local and remote digests) and marked by `ls`;
`update --all` downloads it, and then nothing is outdated. Tags without a known update are
skipped unless --force, a name with no local tag fails the command but not the others."""

import json
import os
import re
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd
from test_cli import WHARF, Cli, parse_table

registry = None


def setUpModule():
    global registry
    if not WHARF.exists():
        raise unittest.SkipTest(f"wharf binary not found: {WHARF}")
    registry = Registry().start()


def tearDownModule():
    registry.stop()


def push_app(marker):
    with FixtureBuilder(registry) as fx:
        return fx.image("team/app", ["latest"], [{"/app": marker.encode() + os.urandom(2000)}],
                        {"cmd": ["/app"]})


def short(digest):
    return digest.split(":", 1)[1][:12]


class CliUpdatesTest(WharfTestCase):
    """One wharfd and one HOME; the tests run in name order and build on each other."""

    @classmethod
    def setUpClass(cls):
        cls.first = push_app("one")
        cls.wharfd = cls.serve(Wharfd(registry.url, platform="linux/amd64",
                                      extra_toml="\n[updates]\ncheck_interval_s = 0\n"))
        cls.api = cls.wharfd.client()
        cls.cli = Cli()
        cls.addClassCleanup(cls.cli.close)

    def wharf(self, *args, code=0):
        proc = self.cli.run(*args)
        self.assertEqual(proc.returncode, code, f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def local_digest(self):
        updates = self.api.get("/api/v1/image/updates")[1]
        return next(u["local_digest"] for u in updates if u["name"] == "team/app")

    def test_1_a_pulled_tag_never_checked_is_not_outdated(self):
        self.assertEqual(self.cli.login(self.wharfd).returncode, 0)
        self.assertIn("Pulled team/app:latest", self.wharf("pull", "team/app").stdout)
        header, rows = parse_table(self.wharf("outdated").stdout)
        self.assertEqual((header, rows), (["NAME", "TAG", "CHECKED", "LOCAL", "REMOTE"], []))
        proc = self.wharf("update", "team/app")
        self.assertEqual(proc.stdout, "team/app:latest: never checked for an update "
                                      "(--check checks it now), skipped\n")
        self.assertEqual(self.wharf("update", "--all").stdout, "No updates available\n")

    def test_2_a_pushed_tag_is_outdated_after_a_check_and_marked_by_ls(self):
        type(self).second = push_app("two")
        header, rows = parse_table(self.wharf("outdated", "--check").stdout)
        self.assertEqual(len(rows), 1, rows)
        name, tag, checked, local, remote = rows[0]
        self.assertEqual((name, tag), ("team/app", "latest"))
        self.assertRegex(checked, r"^(Less than a second|\d+ seconds?) ago$")
        self.assertEqual((local, remote), (short(self.first.digest), short(self.second.digest)))
        # --json: the server's entries for the outdated tags.
        outdated = json.loads(self.wharf("--json", "outdated").stdout)
        listed = self.api.get("/api/v1/image/updates")[1]
        self.assertEqual(outdated, [u for u in listed if u["update_available"]])
        self.assertEqual(outdated[0]["remote_digest"], self.second.digest)

        header, rows = parse_table(self.wharf("ls").stdout)
        self.assertEqual(header, ["NAME", "TAG", "IMAGE ID", "TYPE", "CREATED", "SIZE", "UPDATE",
                                  "DESCRIPTION"])
        self.assertIn(["team/app", "latest", "docker"], [r[:2] + r[3:4] for r in rows])
        self.assertEqual([r[6] for r in rows if r[0] == "team/app"], ["yes"])
        self.assertEqual(json.loads(self.wharf("ls", "--json").stdout),
                         self.api.get("/api/v1/image/?from=local")[1])

    def test_3_update_all_downloads_it_and_nothing_is_outdated_then(self):
        out = self.wharf("update", "--all").stdout
        self.assertEqual(out.strip().split("\n")[-1], "Pulled team/app:latest", out)
        self.assertEqual(self.local_digest(), self.second.digest)
        self.assertEqual(parse_table(self.wharf("outdated").stdout)[1], [])
        _, rows = parse_table(self.wharf("ls").stdout)
        self.assertEqual([r[6] for r in rows if r[0] == "team/app"], [""])
        self.assertEqual(json.loads(self.wharf("outdated", "--json").stdout), [])
        proc = self.wharf("update", "docker.io/team/app:latest")
        self.assertRegex(proc.stdout, r"^team/app:latest: no update available \(checked "
                                      r"(less than a second|\d+ seconds?) ago\), skipped\n$")

    def test_4_failures_force_and_usage(self):
        # A name without a local tag fails the command; the forced tag is downloaded anyway.
        proc = self.wharf("update", "--force", "team/absent", "team/app", code=4)
        self.assertEqual(proc.stderr, "wharf: Image not found: team/absent\n")
        # The same digest came again: docker's words for it.
        self.assertIn(f"Digest: {self.second.digest}\nImage is up to date for team/app:latest\n",
                      proc.stdout)
        self.assertEqual(self.local_digest(), self.second.digest)
        # --json: pull's JSON lines; the notes go to stderr.
        proc = self.wharf("--json", "update", "--check", "team/app")
        self.assertEqual(proc.stdout, "")
        self.assertIn("no update available", proc.stderr)
        for args in (["update"], ["update", "--all", "team/app"]):
            proc = self.wharf(*args, code=2)
            self.assertTrue(re.match(r"^wharf: .*(--all|name the images)", proc.stderr),
                            proc.stderr)
        self.assertIn("--check", self.wharf("outdated", "--help").stdout)
        self.assertIn("--force", self.wharf("update", "--help").stdout)


if __name__ == "__main__":
    unittest.main()
