"""The import section of the bench: an image archive into wharf over HTTP against `podman
load` of the same file, in the same run.

The archive: `podman save --format docker-archive` of an image of a few incompressible
layers (4 x 256 MiB at full scale: about 1 GiB, the layers uncompressed in the archive, as
podman writes them), pushed to the loopback registry and pulled by a private podman.

  wharf   `curl -T FILE -X POST` to POST /api/v1/image/import with the session cookie, over
          loopback, until wharfd answers 200 with the image recorded (every file hashed as
          it streams in, each layer's diff_id checked, the blobs fsynced and committed, the
          image's transaction done); the image deleted and its blobs collected after each
          run, so every run stores everything anew;
  podman  `podman load -i FILE` into a fresh private storage each run (overlay where the
          kernel and podman allow it, else vfs), removed afterwards.

Each run after a sync, the two taking turns after a warm-up of each (the archive in the page
cache for both); seconds per run, median over the runs, and the ratio wharf/podman (target
<= 0.9x).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import floor
import tools
from engines import Podman  # tests/integration, put on sys.path by run.py
from report import fmt_ratio, fmt_s, human_bytes, log, median, ratio
from serve import podman_version, rotate

REPO_NAME = "bench/import"


def save_archive(reg, image, path):
    """`podman save --format docker-archive` of `image`, pulled from the registry by a
    private podman (vfs) that is gone afterwards."""
    podman = Podman().start()
    try:
        ref = f"{reg.host}/{image.repo}:{image.tag}"
        podman.pull(ref, timeout=1800)
        podman.run("save", "--format", "docker-archive", "-o", path, ref, timeout=1800)
    finally:
        podman.stop()


class PodmanLoad:
    """`podman load -i FILE` into a fresh storage of `driver` each time, with podman's
    configuration from a private engines.Podman (no host state)."""

    def __init__(self, driver):
        self.driver = driver
        self.conf = Podman().start()

    def command(self, root, *args):
        run = os.path.join(root, "run")
        if not os.path.islink(run):  # podman refuses run roots over 50 characters
            os.symlink(tempfile.mkdtemp(prefix="bir-", dir="/tmp"), run)
        return ["podman", "--events-backend", "none", "--root", os.path.join(root, "root"),
                "--runroot", os.readlink(run), "--tmpdir", os.path.join(root, "tmp"),
                "--storage-driver", self.driver, *args]

    @staticmethod
    def remove(root):
        run = os.path.join(root, "run")
        if os.path.islink(run):
            shutil.rmtree(os.readlink(run), ignore_errors=True)
        subprocess.run(["umount", "-R", os.path.join(root, "root", "overlay")],
                       capture_output=True, stdin=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)

    def load(self, path, parent):
        """Seconds of one load into a new storage under `parent`, which goes afterwards."""
        root = tempfile.mkdtemp(prefix="bench-load-", dir=parent)
        try:
            cmd = self.command(root, "load", "--quiet", "-i", path)
            os.sync()
            t0 = time.monotonic()
            proc = subprocess.run(cmd, env=self.conf.env, capture_output=True, text=True,
                                  timeout=1800, stdin=subprocess.DEVNULL)
            seconds = time.monotonic() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"podman load ({self.driver}) failed: {proc.stderr[-500:]}")
            # Check on the load: the image is there with all its layers.
            out = subprocess.run(self.command(root, "images", "--format", "json"),
                                 env=self.conf.env, capture_output=True, text=True, timeout=300,
                                 stdin=subprocess.DEVNULL)
            if out.returncode != 0 or not json.loads(out.stdout or "[]"):
                raise RuntimeError(f"podman load left no image: {out.stderr[-300:]}")
            return seconds
        finally:
            self.remove(root)

    def close(self):
        self.conf.stop()


def choose_driver(path, parent):
    """overlay if a load with it works here (kernel, podman and the file system under
    `parent`), else vfs."""
    for driver in ("overlay", "vfs"):
        loader = PodmanLoad(driver)
        try:
            loader.load(path, parent)
            return loader
        except (RuntimeError, subprocess.SubprocessError) as e:
            log(f"  podman load with {driver} does not work here: {str(e)[-200:]}")
            loader.close()
    raise RuntimeError("podman load works with neither overlay nor vfs")


def curl_import(url, cookie, path):
    """Seconds of one upload of `path` to the import route; the answer must be a 200 that
    names one image."""
    cmd = ["curl", "--silent", "--show-error", "-X", "POST", "-T", path, "-H", f"Cookie: {cookie}",
           "-H", "Content-Type: application/x-tar", "-H", "Expect:", "--write-out",
           "\n%{http_code}", url]
    os.sync()
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                         stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - t0
    body, _, code = out.stdout.rpartition("\n")
    if out.returncode != 0 or code != "200" or len(json.loads(body).get("images", [])) != 1:
        raise RuntimeError(f"import: curl {out.returncode}, HTTP {code}: {body[-300:]} "
                           f"{out.stderr[-300:]}")
    return seconds


def delete_imported(api, w, name):
    """Deletes the imported image and waits until its blobs are collected."""
    status, body = api.call("DELETE", f"/api/v1/image/local/docker/{name}")
    if status != 200:
        raise RuntimeError(f"delete {name}: {status} {body}")
    deadline = time.monotonic() + 120
    while w.blob_files():
        if time.monotonic() > deadline:
            raise TimeoutError(f"blobs left after deleting {name}: {w.blob_files()[:3]}")
        time.sleep(0.05)


def measure_import(args, scale, reg, fixtures, res, work):
    layers, layer_size = scale["import"]
    runs = args.runs
    log(f"generating {REPO_NAME}: {layers} x {human_bytes(layer_size)} incompressible")
    image = fixtures.incompressible(REPO_NAME, layers, layer_size)
    fixtures.drop_files(image)
    archive = os.path.join(work, "bench-import.tar")
    log("podman save --format docker-archive of it")
    save_archive(reg, image, archive)
    size = os.path.getsize(archive)
    loads = os.path.join(work, "podman-loads")
    os.makedirs(loads, exist_ok=True)
    loader = choose_driver(archive, loads)  # also the podman side's warm-up
    data = os.path.join(work, "wharf-import")
    w = tools.Wharf(args.wharfd, reg).start(data_dir=data)
    name = f"{reg.host}/{REPO_NAME}"
    try:
        api = tools.Api(w)
        url = f"{w.url}/api/v1/image/import?file=bench-import.tar"
        cpu = []

        def wharf():
            cpu0 = floor.process_cpu_s(w.proc.pid)
            seconds = curl_import(url, api.cookie, archive)
            cpu.append(floor.process_cpu_s(w.proc.pid) - cpu0)
            delete_imported(api, w, name)
            return seconds

        sides = {"wharf": wharf, "podman": lambda: loader.load(archive, loads)}
        sides["wharf"]()  # warm-up
        cpu.clear()
        times = {n: [] for n in sides}
        for r in range(runs):
            for n in rotate(list(sides), r):
                times[n].append(sides[n]())
            log(f"  import run {r + 1}: " + ", ".join(f"{n} {fmt_s(times[n][-1])}" for n in times))
        api.close()
    except Exception:
        print(w.log())
        raise
    finally:
        w.stop()
        loader.close()
        shutil.rmtree(data, ignore_errors=True)
        os.unlink(archive)

    wharf_s = res.put("import.wharf_s", median(times["wharf"]))
    podman_s = res.put("import.podman_s", median(times["podman"]))
    x = res.put("import.ratio", ratio(wharf_s, podman_s))
    wharf_cpu = res.put("import.wharfd_cpu_s", median(cpu))
    mbs = size / 1e6
    lines = ["| measure | wharf import (HTTP) | podman load | wharf/podman | wharfd CPU |",
             "| --- | --- | --- | --- | --- |",
             f"| {human_bytes(size)} docker archive | {fmt_s(wharf_s)} "
             f"({mbs / wharf_s:.0f} MB/s) | {fmt_s(podman_s)} ({mbs / podman_s:.0f} MB/s) | "
             f"{fmt_ratio(x)} | {fmt_s(wharf_cpu)} |",
             "",
             f"The archive: `podman save --format docker-archive` (podman {podman_version()}) of "
             f"an image of {layers} incompressible layers of {human_bytes(layer_size)} (the "
             "layers uncompressed in it). wharf: `curl -T FILE -X POST` to "
             "`/api/v1/image/import` over loopback with the session cookie, until the 200 "
             "naming the image (every file hashed, diff_ids checked, blobs fsynced and "
             "committed, the image recorded); the image deleted and its blobs collected after "
             f"each run. podman: `podman load -i FILE` into a fresh private {loader.driver} "
             "storage each run (which also unpacks the layers). Median of "
             f"{runs} runs each after a warm-up, taking turns, a sync before each, the archive "
             "in the page cache; MB/s = 10^6 bytes of the archive a second; wharfd CPU: its "
             "user + system time per import (from /proc)."]
    res.section("Image import against podman load", lines)
    res.target("image import over HTTP vs podman load", "<= 0.9x", fmt_ratio(x),
               x is not None and x <= 0.9)
