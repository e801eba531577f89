"""The `wharf` CLI against a real wharfd and docker-registry: login and the saved session,
tables, --json, pull (events stream, and the polling fallback for a wharfd without one),
status, inspect, rm, and the exit codes of each kind of failure."""

import http.client
import http.server
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
import urllib.parse
from pathlib import Path

from fixtures import FixtureBuilder, random_files
from harness import REPO_ROOT, Registry, WharfTestCase, Wharfd, serve_http, stop_http

WHARF = Path(os.environ.get("WHARF") or REPO_ROOT / "build" / "wharf")
LS_COLUMNS = ["NAME", "TAG", "IMAGE ID", "TYPE", "CREATED", "SIZE", "UPDATE", "DESCRIPTION"]


def human_size(n):
    """What docker (and wharf) print: SI units, three significant digits."""
    units = ["B", "kB", "MB", "GB", "TB"]
    size, i = float(n), 0
    while size >= 999.5 and i < len(units) - 1:
        size /= 1000
        i += 1
    return "%.3g%s" % (size, units[i])


def parse_table(text):
    """(header names, rows as lists of cells) of an aligned table; each cell is cut at the
    header's column starts, so a misaligned row shows up as wrong cells."""
    lines = text.rstrip("\n").split("\n")
    # A header may be two words ("IMAGE ID"); columns are three spaces apart.
    columns = list(re.finditer(r"\S+(?: \S+)*", lines[0]))
    starts = [m.start() for m in columns]
    header = [m.group() for m in columns]
    rows = []
    for line in lines[1:]:
        cells = []
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else None
            if start > 0 and len(line) > start and line[start - 1] != " ":
                raise AssertionError(f"row not aligned with the header: {line!r}")
            cells.append(line[start:end].strip())
        rows.append(cells)
    return header, rows


class Cli:
    """Runs the wharf binary with its own HOME (so its own saved session)."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="wharf-cli-home-")

    @property
    def session_path(self):
        return Path(self.home, ".config", "wharf", "session")

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("XDG_CONFIG_HOME", "WHARF_SERVER")}
        env["HOME"] = self.home
        return env

    def run(self, *args, input=None, timeout=60):
        return subprocess.run([str(WHARF), *args], input=input, capture_output=True, text=True,
                              timeout=timeout, env=self.env(),
                              stdin=subprocess.DEVNULL if input is None else None)

    def login(self, wharfd, server=None):
        return self.run("login", "--server", server or wharfd.url, "-u", "admin",
                        "--password-stdin", input=wharfd.admin_password + "\n")

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)


class NoEventsProxy:
    """An HTTP front for wharfd that answers 404 to /api/v1/events, as a wharfd from before
    the events stream does, and forwards everything else. Counts the paths it saw."""

    def __init__(self, target_url):
        target = urllib.parse.urlsplit(target_url).netloc
        self.paths = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def forward(self):
                proxy.paths.append(self.path)
                if self.path.startswith("/api/v1/events"):
                    body = b'{"error":{"code":404,"message":"no such endpoint: /api/v1/events"}}'
                    self.send_response(404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("cookie", "content-type", "accept")}
                conn = http.client.HTTPConnection(target, timeout=30)
                try:
                    conn.request(self.command, self.path, body=data, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() in ("content-type", "set-cookie"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = forward

        self.server = serve_http(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        stop_http(self.server)


registry = None
truth = {}


def setUpModule():
    global registry
    if not WHARF.exists():
        raise unittest.SkipTest(f"wharf binary not found: {WHARF}")
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truth["diamond"] = fx.diamond()
            truth["poll"] = fx.image("team/poll", ["v1"], [random_files(2, 20000, "poll")],
                                     {"cmd": ["/bin/poll"]})
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


class CliAssertions:
    """What a wharf run should have done, for the CLI's test cases."""

    def assertOk(self, proc):
        self.assertEqual(proc.returncode, 0, f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc.stdout

    def assertFails(self, proc, code, *mentions):
        """Exit `code` and exactly one line "wharf: ..." on stderr naming each of `mentions`."""
        self.assertEqual(proc.returncode, code, f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        lines = proc.stderr.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, f"expected one line on stderr: {proc.stderr!r}")
        self.assertTrue(lines[0].startswith("wharf: "), lines[0])
        for word in mentions:
            self.assertIn(word.lower(), lines[0].lower())
        return lines[0]


class CliTest(CliAssertions, WharfTestCase):
    """One wharfd and one HOME; the tests run in name order and build on each other."""

    @classmethod
    def setUpClass(cls):
        cls.wharfd = Wharfd(registry.url).start()
        cls.api = cls.wharfd.client()
        cls.cli = Cli()

    @classmethod
    def tearDownClass(cls):
        cls.cli.close()
        cls.wharfd.stop()

    def test_00_version_and_usage(self):
        out = self.assertOk(self.cli.run("--version"))
        self.assertRegex(out.strip(), r"^wharf \d+\.\d+\.\d+$")
        self.assertFails(self.cli.run(), 2)
        self.assertFails(self.cli.run("ls", "--type", "bogus"), 2, "type")
        line = self.assertFails(self.cli.run("frobnicate"), 2, "unknown command frobnicate")
        for command in ("login", "pull", "ls", "registry", "user", "df"):
            self.assertIn(command, line)
        line = self.assertFails(self.cli.run("registry", "frobnicate"), 2,
                                "unknown command registry frobnicate")
        self.assertIn("ls", line)
        # An unknown flag is named, alone.
        line = self.assertFails(self.cli.run("ls", "--bogus"), 2)
        self.assertEqual(line, "wharf: unknown flag --bogus (see `wharf ls --help`)")
        self.assertIn("Exit codes", self.assertOk(self.cli.run("--help")))

    def test_01_without_a_session_every_command_is_an_auth_error(self):
        for args in (["ls"], ["status"], ["pull", "lgsd/diamond"], ["rm", "x"], ["--json", "ls"]):
            self.assertFails(self.cli.run(*args), 3, "wharf login")
        self.assertFalse(self.cli.session_path.exists())

    def test_02_login_with_a_wrong_password_is_an_auth_error(self):
        proc = self.cli.run("login", "--server", self.wharfd.url, "-u", "admin",
                            "--password-stdin", input="wrong\n")
        self.assertFails(proc, 3)
        self.assertFalse(self.cli.session_path.exists())
        # --password-stdin without a user name is a usage error; nothing is sent.
        proc = self.cli.run("login", "--server", self.wharfd.url, "--password-stdin",
                            input="x\n")
        self.assertFails(proc, 2, "-u")

    def test_03_login_saves_a_private_session(self):
        out = self.assertOk(self.cli.login(self.wharfd))
        self.assertIn("Login Succeeded", out)
        path = self.cli.session_path
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(path.parent.stat().st_mode), 0o700)
        saved = json.loads(path.read_text())
        self.assertEqual(saved["server"], self.wharfd.url)
        self.assertEqual(saved["username"], "admin")
        self.assertTrue(saved["cookie"])
        self.assertEqual([p.name for p in path.parent.iterdir()], ["session"])  # no temp left
        # --json gives the API's login answer.
        reply = json.loads(self.assertOk(self.cli.run(
            "--json", "login", "--server", self.wharfd.url, "-u", "admin", "--password-stdin",
            input=self.wharfd.admin_password)))
        self.assertEqual(set(reply), {"anonymous", "isAdmin", "logintime", "username"})
        self.assertEqual(reply["username"], "admin")

    def test_04_a_session_the_server_does_not_know_is_an_auth_error(self):
        other = Cli()
        try:
            other.session_path.parent.mkdir(parents=True)
            other.session_path.write_text(json.dumps(
                {"server": self.wharfd.url, "cookie": "wharf_session=forged", "username": "x"}))
            self.assertFails(other.run("ls"), 3, "wharf login")
        finally:
            other.close()

    def test_10_pull_follows_the_download_to_the_end(self):
        proc = self.cli.run("pull", "lgsd/diamond")
        out = self.assertOk(proc)
        lines = out.strip().split("\n")
        self.assertEqual(lines[-1], "Pulled lgsd/diamond:latest")
        self.assertTrue(any(re.fullmatch(r"lgsd/diamond:latest: done 100% \(.+\)", line)
                            for line in lines), out)
        self.assertNotIn("\x1b[", out)  # not a terminal: plain lines, no cursor movement
        self.assertIn("latest", self.api.local_images()["lgsd/diamond"]["tags"])
        # --json: one JSON object per line, the job's states, ending with done.
        proc = self.cli.run("--json", "pull", "lgsd/diamond:1.0")
        states = [json.loads(line) for line in self.assertOk(proc).strip().split("\n")]
        self.assertEqual(states[-1]["status"], "done")
        self.assertEqual(states[-1]["percent"], 100)
        self.assertTrue(all(s["name"] == "lgsd/diamond" and s["tag"] == "1.0" for s in states))
        self.assertIn("1.0", self.api.local_images()["lgsd/diamond"]["tags"])

    def test_11_pull_of_a_missing_tag_fails_with_the_servers_message(self):
        proc = self.cli.run("pull", "lgsd/diamond:nope")
        line = self.assertFails(proc, 4, "lgsd/diamond:nope", "not found")  # 4: not found
        job = self.api.find_job(self.api.download_jobs(), "lgsd/diamond", "nope")
        self.assertIsNotNone(job)
        self.assertEqual(job["status"], "failed")
        self.assertTrue(job["error"])
        self.assertIn(job["error"], line)
        self.assertNotIn(job["error"], proc.stdout)  # once, on stderr
        # A name the server rejects fails at once, as a usage error, in the user's words.
        line = self.assertFails(self.cli.run("pull", "Bad_Name"), 2, "Bad_Name")
        self.assertNotIn("image_name", line)

    def test_12_pull_polls_a_wharfd_without_events(self):
        proxy = NoEventsProxy(self.wharfd.url)
        other = Cli()
        try:
            self.assertOk(other.login(self.wharfd, server=proxy.url))
            out = self.assertOk(other.run("pull", "team/poll:v1"))
            self.assertIn("Pulled team/poll:v1", out)
            self.assertIn("/api/v1/events", proxy.paths)
            self.assertIn("/api/v1/image/downloadstatus", proxy.paths)
            self.assertIn("v1", self.api.local_images()["team/poll"]["tags"])
            # A failure is reported the same way.
            proc = other.run("pull", "team/poll:missing")
            job = self.api.find_job(self.api.download_jobs(), "team/poll", "missing")
            self.assertIn(job["error"], self.assertFails(proc, 4, "team/poll:missing"))
        finally:
            other.close()
            proxy.stop()

    def test_20_ls_is_an_aligned_table_with_a_row_per_tag(self):
        header, rows = parse_table(self.assertOk(self.cli.run("ls")))
        self.assertEqual(header, LS_COLUMNS)
        diamond = {r[1]: r for r in rows if r[0] == "lgsd/diamond"}
        self.assertEqual(set(diamond), {"latest", "1.0"})
        size = human_size(truth["diamond"].size)
        image_id = truth["diamond"].id.removeprefix("sha256:")[:12]
        latest = diamond["latest"]
        self.assertEqual(latest[:4], ["lgsd/diamond", "latest", image_id, "docker"])
        self.assertRegex(latest[4], r"ago$")
        self.assertEqual(latest[5:], [size, "", ""])
        self.assertEqual(diamond["1.0"][5], size)
        self.assertIn(["team/poll", "v1", "docker", human_size(truth["poll"].size), "", ""],
                      [r[:2] + r[3:4] + r[5:] for r in rows])
        # Filters are the API's.
        _, rows = parse_table(self.assertOk(self.cli.run("ls", "--filter", "poll")))
        self.assertEqual([r[0] for r in rows], ["team/poll"])
        _, rows = parse_table(self.assertOk(self.cli.run("ls", "--type", "lxc")))
        self.assertEqual(rows, [])
        # --json is the API's listing.
        listing = json.loads(self.assertOk(self.cli.run("ls", "--json")))
        self.assertEqual(listing, self.api.get("/api/v1/image/?from=local")[1])

    def test_21_search_the_catalogs(self):
        header, rows = parse_table(self.assertOk(self.cli.run("search", "--from", "appcenter",
                                                             "nginx")))
        self.assertEqual(header, ["NAME", "TITLE", "VERSION", "TYPE", "DESCRIPTION"])
        self.assertIn("nginx", [r[0] for r in rows])
        status, api_listing = self.api.get("/api/v1/image/?from=appcenter&filter_text=nginx")
        self.assertEqual(len(rows), len(api_listing["results"]))
        listing = json.loads(self.assertOk(self.cli.run("--json", "search", "--from", "official",
                                                        "ubuntu")))
        self.assertEqual(listing, self.api.get("/api/v1/image/?from=official&filter_text=ubuntu")[1])
        _, rows = parse_table(self.assertOk(self.cli.run("search", "--from", "qnap", "--type",
                                                         "lxc")))
        self.assertTrue(rows)
        self.assertTrue(all(r[3] == "lxc" for r in rows), rows)
        self.assertFails(self.cli.run("search", "--from", "nowhere", "x"), 2)

    def test_22_search_docker_hub(self):
        proc = self.cli.run("search", "diamond")
        status, body = self.api.get("/api/v1/image/?from=dockerhub&filter_text=diamond")
        if status != 200:  # wharfd's Docker Hub search cannot reach this registry
            self.assertFails(proc, 1, body["error"]["message"])
            return
        header, rows = parse_table(self.assertOk(proc))
        self.assertEqual(header, ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"])
        self.assertEqual([r[0] for r in rows], [e["name"] for e in body["results"]])

    def test_23_tags(self):
        header, rows = parse_table(self.assertOk(self.cli.run("tags", "lgsd/diamond")))
        self.assertEqual(header, ["TAG", "INSTALLED"])
        self.assertEqual(dict(rows), {"latest": "yes", "1.0": "yes"})
        answer = json.loads(self.assertOk(self.cli.run("tags", "--json", "lgsd/diamond")))
        self.assertEqual(answer, self.api.get("/api/v1/image/dockerhub/docker/0/lgsd/diamond/tags")[1])
        self.assertFails(self.cli.run("tags", "lgsd/diamond:1.0"), 2, "without a tag")
        self.assertFails(self.cli.run("tags", "lgsd/absent"), 4)

    def test_24_status_lists_the_failed_download(self):
        header, rows = parse_table(self.assertOk(self.cli.run("status")))
        self.assertEqual(header, ["NAME", "TAG", "TYPE", "STATUS", "PROGRESS", "ERROR"])
        failed = [r for r in rows if r[:2] == ["lgsd/diamond", "nope"]]
        self.assertEqual(len(failed), 1, rows)
        self.assertEqual(failed[0][2:4], ["docker", "failed"])
        self.assertTrue(failed[0][5])
        jobs = json.loads(self.assertOk(self.cli.run("status", "--json")))
        self.assertEqual(jobs, self.api.download_jobs())

    def test_25_inspect_local_and_remote(self):
        for args in (["inspect", "lgsd/diamond"], ["--json", "inspect", "lgsd/diamond:latest"]):
            [view] = json.loads(self.assertOk(self.cli.run(*args)))
            self.assertEqual(view["Id"], truth["diamond"].id)
            status, api_view = self.api.get("/api/v1/image/docker/lgsd/diamond/latest/inspect")
            self.assertEqual(view, api_view)
        [remote] = json.loads(self.assertOk(self.cli.run("inspect", "--remote",
                                                         "lgsd/diamond:1.0")))
        self.assertEqual(remote["Id"], truth["diamond"].id)
        self.assertEqual(remote["Digest"], truth["diamond"].digest)

    def test_26_not_found_is_exit_code_4(self):
        line = self.assertFails(self.cli.run("inspect", "lgsd/nothing:1"), 4)
        status, body = self.api.get("/api/v1/image/docker/lgsd/nothing/1/inspect")
        self.assertIn(body["error"]["message"], line)
        self.assertFails(self.cli.run("rm", "lgsd/nothing"), 4,
                         "Image not found: lgsd/nothing:latest")
        self.assertFails(self.cli.run("rm", "--all-tags", "lgsd/nothing"), 4,
                         "Image not found: lgsd/nothing")

    def test_30_rm_one_tag_then_every_tag(self):
        self.assertEqual(self.assertOk(self.cli.run("rm", "lgsd/diamond:1.0")),
                         "Deleted: lgsd/diamond:1.0\n")
        _, rows = parse_table(self.assertOk(self.cli.run("ls")))
        self.assertEqual([r[1] for r in rows if r[0] == "lgsd/diamond"], ["latest"])
        self.assertEqual(json.loads(self.assertOk(self.cli.run("rm", "--json", "--all-tags",
                                                               "lgsd/diamond"))), {})
        self.assertNotIn("lgsd/diamond", self.api.local_images())
        # Several names: the missing one is reported, the others are deleted.
        proc = self.cli.run("rm", "lgsd/absent", "team/poll:v1")
        self.assertFails(proc, 4, "lgsd/absent")
        self.assertEqual(proc.stdout, "Deleted: team/poll:v1\n")
        self.assertNotIn("team/poll", self.api.local_images())

    def test_90_logout_ends_the_session(self):
        cookie = json.loads(self.cli.session_path.read_text())["cookie"]
        out = self.assertOk(self.cli.run("logout"))
        self.assertIn(f"Logged out of {self.wharfd.url}", out)
        saved = json.loads(self.cli.session_path.read_text())
        self.assertEqual(saved["server"], self.wharfd.url)  # kept for the next login
        self.assertEqual(saved["cookie"], "")
        conn = http.client.HTTPConnection(urllib.parse.urlsplit(self.wharfd.url).netloc, timeout=10)
        try:
            conn.request("GET", "/api/v1/login_refresh", headers={"Cookie": cookie})
            self.assertEqual(conn.getresponse().status, 401)
        finally:
            conn.close()
        self.assertFails(self.cli.run("ls"), 3, "wharf login")
        self.assertIn("Not logged in", self.assertOk(self.cli.run("logout")))
        # The next login, without --server, goes to the same wharfd.
        out = self.assertOk(self.cli.run("login", "-u", "admin", "--password-stdin",
                                         input=self.wharfd.admin_password + "\n"))
        self.assertIn(f"at {self.wharfd.url}", out)
        self.assertOk(self.cli.run("ls"))


if __name__ == "__main__":
    unittest.main()
