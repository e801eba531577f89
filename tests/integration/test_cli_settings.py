"""The settings commands of the `wharf` CLI against a real wharfd and docker-registry:
`wharf user ls|add|rm|passwd` (passwords from stdin, sessions that end and the CLI's own
renewed), `wharf df` (its table against the API's numbers, which add up to the store's
total), `wharf registry ls|set|rm|test` against a docker-registry with htpasswd auth, and
`wharfd user ... --data DIR` with the flags after the action."""

import json
import os
import secrets
import subprocess
import tempfile
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd
from test_cli import WHARF, Cli, CliAssertions, human_size, parse_table

registry = private = None
truths = {}
PASSWORD = "puller-" + secrets.token_hex(8)
WRONG_PASSWORD = "wrong-" + secrets.token_hex(8)


def setUpModule():
    global registry, private
    if not WHARF.exists():
        raise unittest.SkipTest(f"wharf binary not found: {WHARF}")
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truths["a"], truths["b"] = fx.shared_pair()
        private = Registry(auth="htpasswd", user="puller", password=PASSWORD).start()
        with FixtureBuilder(private) as fx:
            fx.image("team/app", ["latest"], [{"/app": os.urandom(4000)}], {"cmd": ["/app"]})
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    for r in (private, registry):
        if r is not None:
            r.stop()


def sections(text):
    """{title: table text} of output made of "Title:" lines each followed by a table."""
    out, title = {}, None
    for line in text.split("\n"):
        if line.endswith(":") and " " not in line:
            title = line[:-1]
            out[title] = ""
        elif title is not None and line:
            out[title] += line + "\n"
    return out


class CliCase(CliAssertions, WharfTestCase):
    def cli_for(self, name, password):
        cli = Cli()
        self.addCleanup(cli.close)
        self.assertOk(cli.run("login", "--server", self.wharfd.url, "-u", name,
                              "--password-stdin", input=password + "\n"))
        return cli


class UserCommandsTest(CliCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.api = cls.wharfd.client()

    def setUp(self):
        self.admin = self.cli_for("admin", self.wharfd.admin_password)

    def test_add_list_change_and_remove(self):
        out = self.assertOk(self.admin.run("user", "add", "bob", "--password-stdin",
                                           input="bob-pass-1\n"))
        self.assertEqual(out, "Added user bob\n")
        self.assertFails(self.admin.run("user", "add", "bob", input="bob-pass-1\n"), 5, "exists")
        self.assertFails(self.admin.run("user", "add", "dan", input="short\n"), 2, "password")
        header, rows = parse_table(self.assertOk(self.admin.run("user", "ls")))
        self.assertEqual(header, ["USERNAME", "ADMIN"])
        self.assertIn(["admin", "yes"], rows)
        self.assertIn(["bob", ""], rows)
        self.assertEqual(json.loads(self.assertOk(self.admin.run("--json", "user", "ls"))),
                         self.api.get("/api/v1/users")[1])

        # Bob is no admin: the list and every write are refused (exit 3).
        bob = self.cli_for("bob", "bob-pass-1")
        self.assertFails(bob.run("user", "ls"), 3)
        self.assertFails(bob.run("user", "add", "eve", input="eve-pass-1\n"), 3)
        self.assertFails(bob.run("user", "rm", "admin"), 3)
        self.assertFails(bob.run("user", "passwd", "admin", input="x-pass-123\n"), 3)

        # Bob changes his own password: the current one first, then the new one. His old
        # session ends on the server, and the CLI saves a new one.
        old_cookie = json.loads(bob.session_path.read_text())["cookie"]
        line = self.assertFails(bob.run("user", "passwd", input="wrong-pass\nbob-pass-2\n"), 3,
                                "current password")
        self.assertNotIn("wharf login", line)
        out = self.assertOk(bob.run("user", "passwd", input="bob-pass-1\nbob-pass-2\n"))
        self.assertEqual(out, "Password changed for bob\n")
        new_cookie = json.loads(bob.session_path.read_text())["cookie"]
        self.assertNotEqual(new_cookie, old_cookie)
        self.assertOk(bob.run("ls"))
        self.cli_for("bob", "bob-pass-2")

        # An admin resets it: one line of stdin; Bob's sessions end.
        self.assertOk(self.admin.run("user", "passwd", "bob", input="bob-pass-3\n"))
        self.assertFails(bob.run("ls"), 3, "wharf login")
        bob = self.cli_for("bob", "bob-pass-3")

        self.assertEqual(self.assertOk(self.admin.run("user", "rm", "bob")), "Removed user bob\n")
        self.assertFails(bob.run("ls"), 3)
        self.assertNotIn("bob", [u["username"] for u in self.api.get("/api/v1/users")[1]])
        self.assertFails(self.admin.run("user", "rm", "bob"), 4)

    def test_the_last_admin_stays(self):
        self.assertFails(self.admin.run("user", "rm", "admin"), 5, "last admin")
        self.assertIn({"username": "admin", "admin": True}, self.api.get("/api/v1/users")[1])

    def test_wharfd_user_takes_its_flags_after_the_action(self):
        self.assertOk(self.admin.run("user", "add", "carol", input="carol-pass-1\n"))
        run = subprocess.run([str(self.wharfd.binary), "user", "passwd", "carol", "--data",
                              self.wharfd.data_dir, "--password-stdin"],
                             input="carol-pass-2\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.cli_for("carol", "carol-pass-2")
        run = subprocess.run([str(self.wharfd.binary), "user", "del", "carol", "--data",
                              self.wharfd.data_dir], capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertNotIn("carol", [u["username"] for u in self.api.get("/api/v1/users")[1]])


class DiskUsageTest(CliCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.api = cls.wharfd.client()

    def test_df_shows_what_each_image_holds_and_shares(self):
        cli = self.cli_for("admin", self.wharfd.admin_password)
        for name in ("team/base-a", "team/base-b"):
            self.assertOk(cli.run("pull", name))
        usage = json.loads(self.assertOk(cli.run("--json", "df")))
        self.assertEqual(usage, self.api.get("/api/v1/system/df")[1])
        images = {i["name"]: i for i in usage["images"]}
        self.assertEqual(set(images), {"team/base-a", "team/base-b"})
        self.assertGreater(usage["shared_bytes"], 0)  # the base layer
        for i in images.values():
            self.assertEqual(i["unique_bytes"] + i["shared_bytes"], i["stored_bytes"])
            self.assertEqual(i["shared_bytes"], usage["shared_bytes"])
        self.assertEqual(sum(i["unique_bytes"] for i in images.values()) +
                         usage["shared_bytes"] + usage["unreferenced_bytes"],
                         usage["total_bytes"])

        parts = sections(self.assertOk(cli.run("df")))
        self.assertEqual(set(parts), {"Images", "Store"})
        header, rows = parse_table(parts["Images"])
        self.assertEqual(header, ["NAME", "TAG", "TYPE", "SIZE", "SHARED", "UNIQUE", "UNPACKED"])
        self.assertEqual(sorted(rows), sorted(
            [i["name"], i["tag"], i["type"], human_size(i["stored_bytes"]),
             human_size(i["shared_bytes"]), human_size(i["unique_bytes"]),
             human_size(i["unpacked_bytes"])] for i in images.values()))
        header, rows = parse_table(parts["Store"])
        self.assertEqual(header, ["TOTAL", "UNIQUE", "SHARED", "UNREFERENCED", "PARTIAL"])
        self.assertEqual(rows, [[human_size(usage[k]) for k in (
            "total_bytes", "unique_bytes", "shared_bytes", "unreferenced_bytes",
            "partial_bytes")]])

        # Deleting one image frees its unique bytes; the shared layer is now the other's own.
        before = images["team/base-a"]
        self.assertOk(cli.run("rm", "team/base-a"))
        after = json.loads(self.assertOk(cli.run("--json", "df")))
        self.assertEqual([i["name"] for i in after["images"]], ["team/base-b"])
        self.assertEqual(after["shared_bytes"], 0)
        if after["unreferenced_bytes"] == 0:  # the sweep ran
            self.assertEqual(after["total_bytes"], usage["total_bytes"] - before["unique_bytes"])


class RegistryCommandsTest(CliCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.api = cls.wharfd.client()
        status, body = cls.api.get("/api/v1/registries")
        if status == 404:
            raise unittest.SkipTest("this wharfd has no registry settings routes")

    def setUp(self):
        self.outputs = []
        self.admin = self.cli_for("admin", self.wharfd.admin_password)

    def run_cli(self, cli, *args, input=None):
        proc = cli.run(*args, input=input)
        self.outputs += [proc.stdout, proc.stderr]
        return proc

    def test_set_test_use_and_remove_a_private_registry(self):
        host = private.host
        header, rows = parse_table(self.assertOk(self.run_cli(self.admin, "registry", "ls")))
        self.assertEqual(header, ["HOST", "INSECURE", "CA", "USERNAME", "SOURCE"])
        self.assertNotIn(host, [r[0] for r in rows])
        self.assertFails(self.run_cli(self.admin, "pull", f"{host}/team/app"), 1,
                         "authentication required")

        out = self.assertOk(self.run_cli(self.admin, "registry", "set", host, "-u", "puller",
                                         "--password-stdin", input=PASSWORD + "\n"))
        self.assertEqual(out, f"Registry {host} set\n")
        _, rows = parse_table(self.assertOk(self.run_cli(self.admin, "registry", "ls")))
        self.assertIn([host, "", "", "puller", "api"], rows)
        listed = json.loads(self.assertOk(self.run_cli(self.admin, "--json", "registry", "ls")))
        self.assertEqual(listed, self.api.get("/api/v1/registries")[1])

        header, rows = parse_table(self.assertOk(self.run_cli(self.admin, "registry", "test",
                                                              host)))
        self.assertEqual(header, ["STEP", "RESULT", "MESSAGE"])
        self.assertEqual([r[:2] for r in rows], [["ping", "ok"], ["challenge", "ok"],
                                                 ["login", "ok"], ["read", "ok"]])
        self.assertIn(f"Pulled {host}/team/app:latest",
                      self.assertOk(self.run_cli(self.admin, "pull", f"{host}/team/app")))

        # A wrong password: the test fails at the login step, exit 1, naming it.
        self.assertOk(self.run_cli(self.admin, "registry", "set", host, "-u", "puller",
                                   "--password-stdin", input=WRONG_PASSWORD + "\n"))
        proc = self.run_cli(self.admin, "registry", "test", host)
        self.assertFails(proc, 1, "login", "401")
        _, rows = parse_table(proc.stdout)
        self.assertEqual(rows[-1][:2], ["login", "failed"])

        # Bad input is a usage error, and nothing is sent.
        not_pem = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
        self.addCleanup(os.unlink, not_pem.name)
        not_pem.write("not a certificate\n")
        not_pem.close()
        self.assertFails(self.run_cli(self.admin, "registry", "set", host, "--ca-file",
                                      not_pem.name), 2, "--ca-file", "PEM")
        self.assertFails(self.run_cli(self.admin, "registry", "set", host, "--password-stdin",
                                      input="x\n"), 2, "--username")
        self.assertFails(self.run_cli(self.admin, "registry", "set", "http://x/y"), 2, "host")
        self.assertEqual(self.api.get("/api/v1/registries")[1], listed)  # unchanged

        # Someone who is not an admin may list, not write.
        self.wharfd.add_user("reader", "reader-pass-1")
        reader = self.cli_for("reader", "reader-pass-1")
        self.assertOk(self.run_cli(reader, "registry", "ls"))
        self.assertFails(self.run_cli(reader, "registry", "set", host, "--insecure"), 3)
        self.assertFails(self.run_cli(reader, "registry", "rm", host), 3)

        out = self.assertOk(self.run_cli(self.admin, "registry", "rm", host))
        self.assertEqual(out, f"Registry {host} removed\n")
        self.assertFails(self.run_cli(self.admin, "registry", "rm", host), 4, host)
        self.assertNotIn(host, [e["host"] for e in self.api.get("/api/v1/registries")[1]])

        for text in self.outputs + [self.wharfd.full_log().decode(errors="replace")]:
            self.assertNotIn(PASSWORD, text)
            self.assertNotIn(WRONG_PASSWORD, text)


if __name__ == "__main__":
    unittest.main()
