"""The Docker engine (Debian's docker.io) pulls through wharf: a dockerd started by the
test with a private data root, exec root, pidfile, socket and daemon.json, no iptables,
no bridge, vfs, and `registry-mirrors` pointing at a wharfd with pull-through on. A
`docker pull` of an image wharf does not have yet is downloaded by wharf, lands in both
stores with the same image Id, and a served image holding Debian's static busybox runs
(`docker run --rm --network none`); with `[engine] socket` at the same dockerd, a wharf
download also shows in `docker images` under its usual name and Id. Skipped, saying why, only where dockerd cannot start
(not installed, not root, or no kernel support)."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from fixtures import FixtureBuilder
from harness import Registry, WharfTestCase, Wharfd

BUSYBOX = "/bin/busybox"
registry = None
truth = {}


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truth["secured"] = fx.image("lgsd/secured", ["latest"],
                                        [{"/secured": os.urandom(4000)}], {"cmd": ["/z"]})
            truth["handed"] = fx.image("lgsd/handed", ["latest"],
                                       [{"/handed": os.urandom(4000)}], {"cmd": ["/y"]})
            truth["mirrored"] = fx.image("lgsd/mirrored", ["latest"],
                                         [{"/mirrored": os.urandom(4000)}], {"cmd": ["/x"]})
            if os.path.exists(BUSYBOX):
                with open(BUSYBOX, "rb") as f:
                    busybox = f.read()
                truth["busybox"] = fx.image(
                    "lgsd/busybox", ["latest"], [{"/bin/busybox": (busybox, 0o755)}],
                    {"entrypoint": ["/bin/busybox"], "cmd": ["echo", "served by wharf"]})
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


class Dockerd:
    """dockerd with all its state in a temp dir; `docker` on its socket."""

    def __init__(self, mirror):
        self.mirror = mirror

    def start(self):
        if shutil.which("dockerd") is None:
            raise unittest.SkipTest("dockerd is not installed (scripts/deps installs docker.io)")
        if os.geteuid() != 0:
            raise unittest.SkipTest("dockerd needs root")
        self.dir = d = tempfile.mkdtemp(prefix="wharf-dockerd-")
        self.socket = f"{d}/docker.sock"
        with open(f"{d}/daemon.json", "w") as f:
            json.dump({"registry-mirrors": [f"http://{self.mirror}"],
                       "insecure-registries": [self.mirror]}, f)
        self.log = open(f"{d}/dockerd.log", "wb")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        self.proc = subprocess.Popen(
            ["dockerd", "--config-file", f"{d}/daemon.json", "--data-root", f"{d}/root",
             "--exec-root", f"{d}/exec", "--pidfile", f"{d}/docker.pid",
             "-H", f"unix://{self.socket}", "--iptables=false", "--ip6tables=false",
             "--bridge=none", "--storage-driver=vfs"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            if os.path.exists(self.socket) and self.ok("version"):
                return self
            time.sleep(0.1)
        why = self.tail()
        self.stop()
        raise unittest.SkipTest(f"dockerd cannot start here: {why}")

    def tail(self):
        try:
            with open(f"{self.dir}/dockerd.log", errors="replace") as f:
                return f.read()[-600:]
        except OSError:
            return "(no log)"

    def ok(self, *args):
        return subprocess.run(["docker", "-H", f"unix://{self.socket}", *args],
                              capture_output=True, timeout=30).returncode == 0

    def run(self, *args, timeout=180):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["DOCKER_CONFIG"] = self.dir
        proc = subprocess.run(["docker", "-H", f"unix://{self.socket}", *args], env=env,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr}\n"
                                 f"dockerd log: {self.tail()}")
        return proc.stdout

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        subprocess.run(["umount", "-R", f"{self.dir}/root"], capture_output=True)
        subprocess.run(["umount", "-R", f"{self.dir}/exec"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class DockerEngineTest(WharfTestCase):

    @classmethod
    def setUpClass(cls):
        # Docker sends no credentials to a registry mirror: the trusted-LAN set-up.
        # wharfd's port is chosen first: dockerd names it as its mirror, and wharfd hands its
        # downloads to dockerd's socket ([engine]).
        wharfd = Wharfd(registry.url)
        cls.address = f"127.0.0.1:{wharfd.port}"
        cls.docker = cls.serve(Dockerd(cls.address))
        wharfd.extra_toml = ("[serve]\npull_through = true\nanonymous = true\n"
                             f'[engine]\nsocket = "{cls.docker.socket}"\n')
        cls.wharfd = cls.serve(wharfd)
        cls.api = cls.wharfd.client()

    def test_pull_through_the_mirror_ends_in_both_stores(self):
        self.assertNotIn("lgsd/mirrored", self.api.local_images())
        self.docker.run("pull", "lgsd/mirrored:latest")
        self.assertIn("lgsd/mirrored", self.api.local_images())
        docker_id = self.docker.run("image", "inspect", "--format", "{{.Id}}",
                                    "lgsd/mirrored:latest").strip()
        status, wharf = self.api.get("/api/v1/image/docker/lgsd/mirrored/latest/inspect")
        self.assertEqual(status, 200, wharf)
        self.assertEqual(docker_id.removeprefix("sha256:"),
                         wharf["Id"].removeprefix("sha256:"))
        self.assertEqual(docker_id.removeprefix("sha256:"), truth["mirrored"].id)

    def test_a_download_is_handed_to_dockerd(self):
        self.api.download("lgsd/handed", "latest")
        failed = self.api.wait_jobs([("lgsd/handed", "latest")], timeout=120)
        self.assertIsNone(failed[("lgsd/handed", "latest")])
        docker_id = self.docker.run("image", "inspect", "--format", "{{.Id}}",
                                    "lgsd/handed:latest").strip()
        self.assertEqual(docker_id, "sha256:" + truth["handed"].id)
        tags = self.docker.run("images", "--format", "{{.Repository}}:{{.Tag}}").split()
        self.assertIn("lgsd/handed:latest", tags)
        # wharf asks the engine whether it holds the image, for the page.
        state = "/api/v1/image/docker/lgsd/handed/latest/engine"
        self.assertEqual(self.api.get(state), (200, {"engine": True, "present": True}))
        self.docker.run("rmi", "lgsd/handed:latest")
        self.assertEqual(self.api.get(state), (200, {"engine": True, "present": False}))

    def test_docker_login_and_pull_as_a_wharf_user(self):
        # A second wharfd, with credentials required (the default) and pull-through on.
        with Wharfd(registry.url, extra_toml="[serve]\npull_through = true\n") as secured:
            self.wharfd = secured
            secured.add_user("puller", "pull-secret-2")
            host = f"127.0.0.1:{secured.port}"
            self.docker.run("logout", host)
            with self.assertRaises(AssertionError):  # no credentials: refused
                self.docker.run("pull", f"{host}/lgsd/secured:latest")
            login = subprocess.run(
                ["docker", "-H", f"unix://{self.docker.socket}", "login", host, "-u", "puller",
                 "--password-stdin"], input="pull-secret-2\n", capture_output=True, text=True,
                timeout=60, env=dict(os.environ, DOCKER_CONFIG=self.docker.dir))
            self.assertEqual(login.returncode, 0, login.stderr)
            self.assertIn("Login Succeeded", login.stdout)
            self.docker.run("pull", f"{host}/lgsd/secured:latest")
            docker_id = self.docker.run("image", "inspect", "--format", "{{.Id}}",
                                        f"{host}/lgsd/secured:latest").strip()
            self.assertEqual(docker_id, "sha256:" + truth["secured"].id)
            self.assertIn("lgsd/secured", secured.client().local_images())
            self.assertIn("audit: pull-through download user=\"puller\"", secured.log())

    def test_run_a_served_busybox(self):
        if "busybox" not in truth:
            self.skipTest(f"{BUSYBOX} is missing (scripts/deps installs busybox-static)")
        ref = f"{self.address}/lgsd/busybox:latest"
        self.docker.run("pull", ref)
        out = subprocess.run(
            ["docker", "-H", f"unix://{self.docker.socket}", "run", "--rm", "--network",
             "none", ref], capture_output=True, text=True, timeout=120)
        if out.returncode != 0 and ("cgroup" in out.stderr or "namespace" in out.stderr
                                    or "permission denied" in out.stderr.lower()):
            self.skipTest(f"containers cannot run here: {out.stderr.strip()[-300:]}")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "served by wharf\n")
        self.assertIn("lgsd/busybox", self.api.local_images())


if __name__ == "__main__":
    unittest.main()
