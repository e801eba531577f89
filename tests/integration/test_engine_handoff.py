"""The hand-off of Docker downloads to the local engine ([engine] socket): a real
`podman system service` on a private socket, with private storage (vfs), run root,
configuration and XDG_RUNTIME_DIR, is the engine. wharfd downloads fixture images from a
loopback docker-registry and streams each, as a docker-archive, to `POST /images/load`.

Checked: podman lists the image under its usual name (docker.io/lgsd/diamond:latest, as
its own pull would name it) with wharf's Id and RootFS layers; the job's events end with
the hand-off step; an imported archive is handed over too; remove_on_delete removes the tag
from podman; a socket where nothing
listens fails the hand-off, keeps the image and reports the error; and, where containers
can run here, the handed image (Debian's static busybox in a layer) runs."""

import os
import socket
import subprocess
import tempfile
import unittest

from api_client import EventStream
from archives import docker_archive, layer_tar, sha256, upload
from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd
from support import wait_until
from engines import Podman

BUSYBOX = "/bin/busybox"  # Debian's busybox-static (scripts/deps)
GREETING = "handed off to podman"
registry = None
truths = {}


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truths["diamond"] = fx.diamond()
            with open(BUSYBOX, "rb") as f:
                busybox = f.read()
            truths["bbox"] = fx.image(
                "library/bbox", ["latest"], [{"/bin/busybox": (busybox, 0o755)}],
                {"cmd": ["/bin/busybox", "echo", GREETING]}, format="v2s2")
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


class PodmanService(Podman):
    """Podman (private storage and configuration, see engines.Podman) serving
    the Docker Engine API on a Unix socket of its own: `podman system service --time=0`."""

    def start(self):
        super().start()
        d = self.dir
        os.makedirs(f"{d}/xdg", mode=0o700)
        self.env["XDG_RUNTIME_DIR"] = f"{d}/xdg"
        self.socket = f"{d}/podman.sock"
        self.log_path = f"{d}/service.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.base_command() + ["system", "service", "--time=0", f"unix://{self.socket}"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(self.answers, 30, f"podman system service on {self.socket}")
        return self

    def answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"podman system service exited: {self.log()}")
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(self.socket)
                s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.")
        except OSError:
            return False

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        super().stop()

    def base_command(self):
        """podman on this instance's storage, as Podman.run calls it."""
        d = self.dir
        return ["podman", "--root", f"{d}/root", "--runroot", f"{d}/run", "--storage-driver",
                "vfs", "--tmpdir", f"{d}/libpod"]

    def has(self, ref):
        proc = subprocess.run(self.base_command() + ["image", "exists", ref], env=self.env,
                              capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        return proc.returncode == 0

    def image_names(self):
        """Every name podman lists (`podman images`), as "name:tag"."""
        out = self.run("images", "--format", "{{.Repository}}:{{.Tag}}")
        return set(out.split())


def engine_toml(socket_path, remove_on_delete):
    return (f'\n[engine]\nsocket = "{socket_path}"\n'
            f'remove_on_delete = {"true" if remove_on_delete else "false"}\ntimeout_s = 120\n')


def pull_through_wharf(wharfd, name, tag):
    """Downloads name:tag and returns the job's events (their data), up to its "done"."""
    api = wharfd.client()
    stream = EventStream.of(api, timeout=120)
    try:
        status, body = api.download(name, tag)
        if (status, body) != (200, {}):
            raise AssertionError(f"download {name}:{tag} -> {status} {body}")
        jobs = []
        for _, kind, data in stream.events(
                lambda e: e[1] == "job" and e[2]["name"] == name and e[2]["tag"] == tag
                and e[2]["status"] in ("done", "failed", "cancelled"), deadline_s=180):
            if kind == "job" and data["name"] == name and data["tag"] == tag:
                jobs.append(data)
        return jobs
    finally:
        stream.close()


def statuses(jobs):
    out = []
    for job in jobs:
        if not out or out[-1] != job["status"]:
            out.append(job["status"])
    return out


class EngineHandOffTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.podman = cls.serve(PodmanService())
        cls.wharfd = cls.serve(Wharfd(registry.url,
                                      extra_toml=engine_toml(cls.podman.socket, True)))
        cls.api = cls.wharfd.client()

    def wharf_inspect(self, name, tag):
        status, body = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, body)
        return body

    def test_1_download_appears_in_podman_under_its_usual_name(self):
        jobs = pull_through_wharf(self.wharfd, "lgsd/diamond", "latest")
        self.assertEqual(statuses(jobs)[-2:], ["handoff", "done"], jobs)
        self.assertEqual(jobs[-1]["error"], "", jobs[-1])
        self.assertIn("docker.io/lgsd/diamond:latest", self.podman.image_names())
        wharf = self.wharf_inspect("lgsd/diamond", "latest")
        pod = self.podman.inspect("docker.io/lgsd/diamond:latest")
        self.assertEqual(wharf["Id"], truths["diamond"].id)
        self.assertEqual(pod["Id"], wharf["Id"])
        self.assertEqual(pod["RootFS"], wharf["RootFS"])
        self.assertEqual(len(pod["RootFS"]["Layers"]), 3)
        self.assertEqual(pod["Config"]["Cmd"], wharf["Config"]["Cmd"])
        state = self.wharfd.client().get("/api/v1/image/docker/lgsd/diamond/latest/engine")
        self.assertEqual(state, (200, {"engine": True, "present": True}))

    def test_2_official_image_is_named_as_podman_pull_names_it(self):
        jobs = pull_through_wharf(self.wharfd, "bbox", "latest")
        self.assertEqual(jobs[-1]["status"], "done", jobs)
        self.assertEqual(jobs[-1]["error"], "")
        pod = self.podman.inspect("docker.io/library/bbox:latest")
        self.assertEqual(pod["Id"], self.wharf_inspect("bbox", "latest")["Id"])
        self.assertEqual(pod["RepoTags"], ["docker.io/library/bbox:latest"])

    def test_3_handed_image_runs(self):
        if not self.podman.has("docker.io/library/bbox:latest"):
            pull_through_wharf(self.wharfd, "bbox", "latest")
        # A control container from the same busybox, imported by podman itself: if even
        # that cannot run, this machine cannot run containers and the check says why.
        with tempfile.TemporaryDirectory() as work:
            os.makedirs(f"{work}/bin")
            subprocess.run(["cp", BUSYBOX, f"{work}/bin/busybox"], check=True)
            subprocess.run(["tar", "-C", work, "-cf", f"{work}/rootfs.tar", "bin"], check=True)
            self.podman.run("import", f"{work}/rootfs.tar", "localhost/control:1")
        control = self.podman_run("localhost/control:1", "/bin/busybox", "echo", "control")
        if control.returncode != 0:
            self.skipTest("podman cannot run a container here: " + control.stderr.strip()[-500:])
        self.assertEqual(control.stdout.strip(), "control")
        ran = self.podman_run("docker.io/library/bbox:latest")
        self.assertEqual(ran.returncode, 0, ran.stderr)
        self.assertEqual(ran.stdout.strip(), GREETING)

    def podman_run(self, *args):
        return subprocess.run(self.podman.base_command() + ["run", "--rm", "--network", "none",
                                                            *args],
                              env=self.podman.env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def test_4_remove_on_delete_removes_the_tag_from_podman(self):
        jobs = pull_through_wharf(self.wharfd, "lgsd/diamond", "1.0")
        self.assertEqual(jobs[-1]["error"], "", jobs[-1])
        self.assertTrue(self.podman.has("docker.io/lgsd/diamond:1.0"))
        status, body = self.api.delete("/api/v1/image/local/docker/lgsd/diamond:1.0")
        self.assertEqual((status, body), (200, {}))
        wait_until(lambda: not self.podman.has("docker.io/lgsd/diamond:1.0"), 30,
                   "podman to lose docker.io/lgsd/diamond:1.0")
        status, _ = self.api.get("/api/v1/image/docker/lgsd/diamond/1.0/inspect")
        self.assertEqual(status, 404)
        if not self.podman.has("docker.io/lgsd/diamond:latest"):  # run alone
            pull_through_wharf(self.wharfd, "lgsd/diamond", "latest")
        self.assertTrue(self.podman.has("docker.io/lgsd/diamond:latest"), "other tags stay")

    def test_5_an_imported_archive_is_handed_to_podman_too(self):
        layer = layer_tar({"/imported": b"by an archive"})
        data, config = docker_archive([layer], ["team/imported:1"])
        status, body = upload(self.api, data, "?file=imported.tar")
        self.assertEqual(status, 200, body)
        self.assertTrue(self.podman.has("docker.io/team/imported:1"))
        pod = self.podman.inspect("docker.io/team/imported:1")
        self.assertEqual(pod["Id"], config.split(":")[1])
        self.assertEqual(pod["RootFS"]["Layers"], [sha256(layer)])


class NobodyListensTest(WharfTestCase):
    """[engine] socket names a path where no engine listens."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.socket = os.path.join(cls.tmp.name, "nobody.sock")
        cls.wharfd = cls.serve(Wharfd(registry.url, extra_toml=engine_toml(cls.socket, True)))

    def test_failed_hand_off_keeps_the_image_and_reports_why(self):
        jobs = pull_through_wharf(self.wharfd, "lgsd/diamond", "latest")
        self.assertEqual(statuses(jobs)[-2:], ["handoff", "done"], jobs)
        error = jobs[-1]["error"]
        self.assertIn("hand-off to the engine failed", error)
        self.assertIn(self.socket, error)
        api = self.wharfd.client()
        status, body = api.get("/api/v1/image/docker/lgsd/diamond/latest/inspect")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["Id"], truths["diamond"].id)
        self.assertIn("lgsd/diamond", api.local_images())
        self.assertEqual(api.download_jobs(), [])
        status, body = api.get("/api/v1/image/docker/lgsd/diamond/latest/engine")
        self.assertError(status, body, 502)
        self.assertIn("hand-off of lgsd/diamond:latest to the engine failed", self.wharfd.log())
        # remove_on_delete with no engine: the delete still succeeds.
        status, body = api.delete("/api/v1/image/local/docker/lgsd/diamond:latest")
        self.assertEqual((status, body), (200, {}))
        self.assertIn("the engine kept lgsd/diamond:latest", self.wharfd.log())


if __name__ == "__main__":
    unittest.main()
