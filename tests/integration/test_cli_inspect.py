"""`wharf inspect` as `docker inspect` behaves, against a real wharfd and docker-registry: a
JSON array of the API's inspect views (one per name, in order), a missing name reported on
stderr with exit 4 while the others are still printed, and --format (-f) templates: field
paths at any depth, Go's formatting of lists, json, literal text, <no value> for a missing
key and a clear error for a bad template or a field of a string."""

import json
import unittest

from fixtures import FixtureBuilder, random_files
from harness import Registry, WharfTestCase, Wharfd
from test_cli import WHARF, Cli, CliAssertions


class InspectTest(WharfTestCase, CliAssertions):
    @classmethod
    def setUpClass(cls):
        if not WHARF.exists():
            raise unittest.SkipTest(f"wharf binary not found: {WHARF}")
        cls.registry = Registry().start()
        cls.wharfd = cls.cli = None
        try:
            with FixtureBuilder(cls.registry) as fx:
                cls.diamond = fx.diamond()
                cls.env = fx.image("team/env", ["v1"], [random_files(2, 20000, "env")],
                                   {"cmd": ["/bin/env"], "env": ["A=1", "B=two words"]})
            cls.wharfd = Wharfd(cls.registry.url).start()
            cls.api = cls.wharfd.client()
            for name, tag in (("lgsd/diamond", "latest"), ("team/env", "v1")):
                cls.api.download(name, tag)
            failed = cls.api.wait_jobs([("lgsd/diamond", "latest"), ("team/env", "v1")])
            if any(failed.values()):
                raise RuntimeError(f"a fixture pull failed: {failed}")
            cls.cli = Cli()
            login = cls.cli.login(cls.wharfd)
            if login.returncode != 0:
                raise RuntimeError(f"wharf login failed: {login.stderr}")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.cli:
            cls.cli.close()
        if cls.wharfd:
            cls.wharfd.stop()
        cls.registry.stop()

    def api_view(self, name, tag):
        status, view = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, view)
        return view

    def test_1_an_array_of_the_api_views_in_order(self):
        diamond = self.api_view("lgsd/diamond", "latest")
        env = self.api_view("team/env", "v1")
        out = self.assertOk(self.cli.run("inspect", "lgsd/diamond"))
        self.assertTrue(out.startswith("[\n    {\n"), out[:40])  # 4 spaces, as docker indents
        self.assertEqual(json.loads(out), [diamond])
        both = json.loads(self.assertOk(self.cli.run("inspect", "team/env:v1", "lgsd/diamond")))
        self.assertEqual(both, [env, diamond])

    def test_2_a_missing_name_is_exit_4_and_the_others_are_printed(self):
        proc = self.cli.run("inspect", "lgsd/diamond", "lgsd/nothing:1", "team/env:v1")
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertEqual(json.loads(proc.stdout),
                         [self.api_view("lgsd/diamond", "latest"), self.api_view("team/env", "v1")])
        lines = proc.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("wharf: "), lines[0])
        self.assertIn("lgsd/nothing", lines[0])
        alone = self.cli.run("inspect", "lgsd/nothing:1")
        self.assertEqual(alone.returncode, 4, alone.stderr)
        self.assertEqual(json.loads(alone.stdout), [])

    def test_3_format_field_paths_lists_and_json(self):
        env = self.api_view("team/env", "v1")
        cases = [
            ("{{.Id}}", env["Id"]),
            ("{{.Config.Env}}", "[" + " ".join(env["Config"]["Env"]) + "]"),
            ("{{json .RootFS}}", json.dumps(env["RootFS"], separators=(",", ":"),
                                            sort_keys=True)),
            ("{{json .Config.Env}}", json.dumps(env["Config"]["Env"], separators=(",", ":"))),
            ("id={{.Id}} type={{.RootFS.Type}}", f"id={env['Id']} type={env['RootFS']['Type']}"),
            ("{{.Architecture}}/{{.Os}}", f"{env['Architecture']}/{env['Os']}"),
            ("{{.NoSuchField}}", "<no value>"),
        ]
        self.assertIn("B=two words", env["Config"]["Env"])
        for template, want in cases:
            for flag in ("--format", "-f"):
                with self.subTest(template=template, flag=flag):
                    out = self.assertOk(self.cli.run("inspect", flag, template, "team/env:v1"))
                    self.assertEqual(out, want + "\n")

    def test_4_format_prints_a_line_per_image(self):
        out = self.assertOk(self.cli.run("inspect", "-f", "{{.Id}}", "lgsd/diamond",
                                         "team/env:v1"))
        self.assertEqual(out.split("\n"), [self.diamond.id, self.env.id, ""])

    def test_5_a_bad_template_is_a_usage_error_naming_what_is_wrong(self):
        for template, mention in (("{{.Id", "unclosed"), ("{{range .RepoTags}}", "range"),
                                  ("{{upper .Id}}", "upper")):
            with self.subTest(template=template):
                self.assertFails(self.cli.run("inspect", "-f", template, "lgsd/diamond"), 2,
                                 mention)
        line = self.assertFails(self.cli.run("inspect", "-f", "{{.Id.Short}}", "lgsd/diamond"),
                                2, "Short")
        self.assertIn("string", line)


if __name__ == "__main__":
    unittest.main()
