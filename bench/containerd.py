"""containerd as a contender of the pull benchmark: a private containerd (Debian's, its root,
state and socket in the bench's work dir) started afresh before each pull and stopped after
it, driven by `ctr`.

  ctr        `ctr content fetch`: every blob of the host's platform into containerd's
             content store, digests verified, nothing unpacked: what wharf and skopeo do;
  ctr-unpack `ctr images pull --snapshotter native`: the same fetch, then every layer
             unpacked into a snapshot: what podman pull (vfs) does, so it is compared with
             podman, not with wharf.
"""

import concurrent.futures
import os
import shutil
import subprocess
import tempfile
import time

CONFIG = """version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{socket}"
[ttrpc]
  address = "{socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
"""


def available():
    return shutil.which("containerd") is not None and shutil.which("ctr") is not None


class Containerd:
    """One private containerd; `with` starts it and stops it (and removes its dirs)."""

    def __init__(self, parent=None):
        self.dir = tempfile.mkdtemp(prefix="ctrd-", dir=parent)
        self.socket = os.path.join(self.dir, "c.sock")
        self.proc = None

    def ctr(self, *args):
        return ["ctr", "--address", self.socket, "--namespace", "bench", *args]

    def __enter__(self):
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(root=os.path.join(self.dir, "root"),
                                  state=os.path.join(self.dir, "state"), socket=self.socket))
        self.log = open(os.path.join(self.dir, "containerd.log"), "wb")
        self.proc = subprocess.Popen(["containerd", "--config", config], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited with {self.proc.returncode}: "
                                   f"{self.log_text()[-800:]}")
            ping = subprocess.run(self.ctr("version"), capture_output=True, timeout=30)
            if ping.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise TimeoutError("containerd did not answer within 60 s")
            time.sleep(0.05)

    def log_text(self):
        with open(os.path.join(self.dir, "containerd.log"), errors="replace") as f:
            return f.read()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # The native snapshotter's files and the content store go with the dir.
        shutil.rmtree(self.dir, ignore_errors=True)


class Ctr:
    """`ctr content fetch` (unpack=False) or `ctr images pull` into native snapshots
    (unpack=True) of every image, `parallel` at a time, into a fresh private containerd.
    `host` is the registry's host:port; `plain_http` for a loopback registry without TLS;
    `hosts_dir` a containerd hosts directory (certs.d layout) when the registry needs one;
    `user` user:password for one that asks for credentials."""

    def __init__(self, host, unpack=False, parallel=3, tmp_parent=None, plain_http=True,
                 hosts_dir=None, user=None):
        self.host = host
        self.unpack = unpack
        self.parallel = parallel
        self.tmp_parent = tmp_parent
        self.plain_http = plain_http
        self.hosts_dir = hosts_dir
        self.user = user
        self.name = "ctr-unpack" if unpack else "ctr"

    def command(self, daemon, image, tag=None):
        verb = ["images", "pull", "--snapshotter", "native"] if self.unpack else \
               ["content", "fetch"]
        cmd = daemon.ctr(*verb)
        if self.plain_http:
            cmd.append("--plain-http")
        if self.hosts_dir:
            cmd += ["--hosts-dir", self.hosts_dir]
        if self.user:
            cmd += ["--user", self.user]
        return cmd + [f"{self.host}/{image.repo}:{tag or image.tag}"]

    def _run(self, cmd):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[5:8])}... failed ({proc.returncode}): "
                               f"{proc.stderr[-800:]}")

    def pull(self, images, before=None):
        """Wall seconds of pulling `images` (containerd's start and stop not counted).
        `before(daemon)` runs first, untimed (e.g. a pull of an image already present)."""
        with Containerd(self.tmp_parent) as daemon:
            if before:
                before(daemon)
            t0 = time.monotonic()
            if len(images) == 1:
                self._run(self.command(daemon, images[0]))
            else:
                with concurrent.futures.ThreadPoolExecutor(self.parallel) as pool:
                    list(pool.map(lambda i: self._run(self.command(daemon, i)), images))
            return time.monotonic() - t0
