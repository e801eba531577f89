"""`wharf rm`, `ls` and `pull` by docker's conventions, against a real docker-registry and
wharfd: rm NAME removes NAME:latest only and --all-tags every tag; ls shows IMAGE ID (the
inspect Id's first 12 hex digits) and CREATED; ls and search fit an 80-column terminal
(tmux), ls keeps whole rows for a pipe; a pull by digest is listed as <none> with its digest (--digests), a
pull ends with its Digest line, and a second pull of the same image says it is up to date."""

import unittest

from fixtures import random_files
from harness import WharfTestCase
from test_cli import CliAssertions, parse_table
from test_cli_terminal import WHARF, exit_code, start_peers, stop_peers

LONG_NAME = "team/a-repository-name-long-enough-to-crowd-an-eighty-column-terminal"


class CliDockerConventionsTest(WharfTestCase, CliAssertions):
    @classmethod
    def setUpClass(cls):
        def build(fx):
            cls.multi = fx.image("team/multi", ["latest", "v1", "v2"],
                                 [random_files(2, 5000, "multi")])
            cls.app = fx.image("team/app", ["v1"], [random_files(2, 5000, "app")])
            cls.long = fx.image(LONG_NAME, ["latest"], [random_files(1, 3000, "long")])

        start_peers(cls, build)

    @classmethod
    def tearDownClass(cls):
        stop_peers(cls)

    def ls_rows(self, *args):
        header, rows = parse_table(self.assertOk(self.cli.run("ls", *args)))
        return [dict(zip(header, r)) for r in rows]

    def test_1_rm_name_is_latest_and_all_tags_is_every_tag(self):
        for tag in ("latest", "v1", "v2"):
            self.assertIn("Pulled team/multi:" + tag,
                          self.assertOk(self.cli.run("pull", "team/multi:" + tag)))
        self.assertEqual(self.assertOk(self.cli.run("rm", "team/multi")),
                         "Deleted: team/multi:latest\n")
        self.assertEqual(sorted(r["TAG"] for r in self.ls_rows() if r["NAME"] == "team/multi"),
                         ["v1", "v2"])
        # Without latest, NAME alone is not found, as docker rmi says it.
        self.assertFails(self.cli.run("rm", "team/multi"), 4, "team/multi:latest")
        self.assertFails(self.cli.run("rm", "--all-tags", "team/multi:v1"), 2, "--all-tags")
        self.assertOk(self.cli.run("rm", "--all-tags", "team/multi"))
        self.assertEqual([r for r in self.ls_rows() if r["NAME"] == "team/multi"], [])

    def test_2_ls_shows_the_image_id_and_created(self):
        self.assertOk(self.cli.run("pull", "team/app:v1"))
        status, view = self.api.get("/api/v1/image/docker/team/app/v1/inspect")
        self.assertEqual(status, 200, view)
        row = next(r for r in self.ls_rows() if r["NAME"] == "team/app" and r["TAG"] == "v1")
        self.assertEqual(row["IMAGE ID"], view["Id"].removeprefix("sha256:")[:12])
        self.assertEqual(row["IMAGE ID"], self.app.id[:12])
        self.assertRegex(row["CREATED"], r"^(Less than a second|\d+ \w+|About an? \w+) ago$")
        self.assertEqual(list(row)[:6], ["NAME", "TAG", "IMAGE ID", "TYPE", "CREATED", "SIZE"])

    def test_3_a_second_pull_is_up_to_date(self):
        self.assertOk(self.cli.run("pull", "team/app:v1"))
        out = self.assertOk(self.cli.run("pull", "team/app:v1"))
        self.assertEqual(out.splitlines()[-2:],
                         [f"Digest: {self.app.digest}", "Image is up to date for team/app:v1"])

    def test_4_pull_by_digest_is_listed_as_none_with_its_digest(self):
        ref = f"team/app@{self.app.digest}"
        out = self.assertOk(self.cli.run("pull", ref))
        self.assertEqual(out.splitlines()[-2:], [f"Digest: {self.app.digest}", f"Pulled {ref}"])
        rows = [r for r in self.ls_rows() if r["NAME"] == "team/app"]
        none = [r for r in rows if r["TAG"] == "<none>"]
        self.assertEqual(len(none), 1, rows)
        self.assertEqual(none[0]["IMAGE ID"], self.app.id[:12])
        self.assertFalse(any(r["TAG"].startswith("sha256:") for r in rows), rows)
        digests = [r for r in self.ls_rows("--digests") if r["NAME"] == "team/app"]
        self.assertIn((("<none>", self.app.digest)), [(r["TAG"], r["DIGEST"]) for r in digests])
        again = self.assertOk(self.cli.run("pull", ref))
        self.assertEqual(again.splitlines()[-1], f"Image is up to date for {ref}")
        # A malformed digest is refused before any request, naming what is wrong.
        self.assertFails(self.cli.run("pull", "team/app@sha256:abc"), 2, "64")

    def test_5_ls_fits_an_80_column_terminal_and_a_pipe_gets_whole_rows(self):
        self.assertOk(self.cli.run("pull", LONG_NAME))
        piped = self.assertOk(self.cli.run("ls"))
        self.assertIn(LONG_NAME + "   latest", piped)
        self.assertTrue(any(len(line) > 80 for line in piped.splitlines()), piped)
        self.tmux.start("ls80", [str(WHARF), "ls"], {"HOME": self.cli.home}, width=80)
        screen, _ = self.tmux.wait_for("ls80", lambda s: exit_code(s) is not None, 60, "exit")
        self.assertEqual(exit_code(screen), 0, screen)
        lines = screen.split("\nEXIT=")[0].rstrip("\n").split("\n")
        self.assertTrue(lines[0].startswith("NAME"), screen)
        # Every row on one line of its own: header and rows alike start a new screen line.
        self.assertEqual(len(lines), len(piped.splitlines()), screen)
        self.assertTrue(all(len(line) <= 80 for line in lines), screen)
        long_row = next(line for line in lines if line.startswith("team/a-rep"))
        self.assertRegex(long_row, r"^team/a-rep\S*…   latest   " + self.long.id[:12])
        self.assertIn(self.long.id[:12], long_row)
        # --no-trunc keeps whole rows even on a terminal.
        self.tmux.start("ls80full", [str(WHARF), "ls", "--no-trunc"], {"HOME": self.cli.home},
                        width=80)
        screen, _ = self.tmux.wait_for("ls80full", lambda s: exit_code(s) is not None, 60,
                                       "exit")
        self.assertIn(LONG_NAME[:60], screen.replace("\n", ""))

    def test_6_search_fits_an_80_column_terminal(self):
        piped = self.assertOk(self.cli.run("search", "--from", "appcenter")).splitlines()
        self.assertTrue(any(len(line) > 80 for line in piped), piped[:3])
        self.tmux.start("search80", [str(WHARF), "search", "--from", "appcenter"],
                        {"HOME": self.cli.home}, width=80)
        screen, _ = self.tmux.wait_for("search80", lambda s: exit_code(s) is not None, 60,
                                       "exit")
        self.assertEqual(exit_code(screen), 0, screen)
        lines = screen.split("\nEXIT=")[0].rstrip("\n").split("\n")
        # A row per line (the pane holds 40), none wrapped, each the piped row's start.
        self.assertEqual(len(lines), len(piped), screen)
        self.assertTrue(all(len(line) <= 80 for line in lines), screen)
        self.assertEqual([line.split()[0] for line in lines], [p.split()[0] for p in piped])
        self.assertTrue(any("…" in line for line in lines[1:]), screen)


if __name__ == "__main__":
    unittest.main()
