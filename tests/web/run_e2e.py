"""Starts what the web page's end-to-end test needs, runs it, stops everything.

A docker-registry with a few images (built with umoci, pushed with skopeo), a
ThrottleProxy in front of it so a download lasts long enough to be watched, and
wharfd whose Docker Hub (registry and index) is that proxy, and the archive
files the import test uploads (WHARF_ARCHIVES: an untagged docker-archive
written by skopeo and a file that is not a tar), and a user `viewer` who is not
an admin (WHARF_VIEWER_PASSWORD). team/fresh has two images: `latest`, and the
newer one the update steps push to `latest` themselves, built and pushed as `next`
(its blobs are then in the repository; WHARF_REGISTRY is where to push). wharfd
runs no background update checks, so only the page's "Check for updates" checks.
Then `node tests/web/e2e.mjs`
drives Debian's chromium against wharfd; its exit code is this script's.
`--serve` keeps everything up for a person to look at instead.

Environment: WHARFD (the binary, default build/wharfd).
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from fixtures import FixtureBuilder, skopeo  # noqa: E402
from harness import Registry, ThrottleProxy, Wharfd  # noqa: E402

MiB = 1024 * 1024
RATE = 3 * MiB  # bytes per second from the registry to wharfd


def push_images(registry):
    with FixtureBuilder(registry) as fx:
        fx.diamond(tags=("latest", "1.0"))
        fx.image("library/hello", ["latest"], [{"/hello": b"Hello from wharf!\n"}],
                 {"cmd": ["/hello"]})
        fx.big("team/slow", "latest", size=9 * MiB)
        fx.big("team/cancel", "latest", size=40 * MiB)
        for tag in ("latest", "next"):
            fx.image("team/fresh", [tag], [{"/fresh": f"team/fresh {tag} ".encode() +
                                            os.urandom(600 * 1024)}], {"cmd": ["/fresh"]})


def write_archives(registry, folder):
    """hello-untagged.tar: library/hello as a docker-archive that names no image (skopeo
    without a reference), for the import's "name an untagged image as"; notes.txt: text."""
    skopeo("copy", "--quiet", "--src-tls-verify=false",
           f"docker://{registry.host}/library/hello:latest",
           f"docker-archive:{folder / 'hello-untagged.tar'}")
    (folder / "notes.txt").write_text("These are notes, not an image archive.\n" * 40)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    serve = "--serve" in sys.argv
    signal.signal(signal.SIGTERM, _interrupt)  # stop the servers on SIGTERM too
    for path in ("/usr/bin/chromium", HERE / "node_modules" / "playwright-core"):
        if not os.path.exists(path):
            print(f"run_e2e: {path} is missing; run scripts/deps", file=sys.stderr)
            return 1
    registry = Registry().start()
    proxy = wharfd = None
    archives = Path(tempfile.mkdtemp(prefix="wharf-e2e-archives-"))
    try:
        started = time.monotonic()
        push_images(registry)
        write_archives(registry, archives)
        print(f"run_e2e: images pushed, archives written in {time.monotonic() - started:.1f} s",
              flush=True)
        proxy = ThrottleProxy(registry.host, rate=RATE).start()
        wharfd = Wharfd(proxy.url, port=int(os.environ.get("WHARF_E2E_PORT", "0")) or None,
                        extra_toml="\n[updates]\ncheck_interval_s = 0\n")
        wharfd.start()
        viewer_password = secrets.token_urlsafe(12)
        wharfd.add_user("viewer", viewer_password)  # not an admin: may look, not change
        env = dict(os.environ, WHARF_URL=wharfd.url, WHARF_PASSWORD=wharfd.admin_password,
                   WHARF_VIEWER_PASSWORD=viewer_password,
                   WHARF_ARTIFACTS=str(HERE.parent / "artifacts" / "web"),
                   WHARF_ARCHIVES=str(archives), WHARF_REGISTRY=registry.host)
        if serve:
            print(f"run_e2e: wharfd on {wharfd.url}, user admin, password "
                  f"{wharfd.admin_password}; Ctrl-C stops", flush=True)
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                return 0
        result = subprocess.run(["node", str(HERE / "e2e.mjs")], env=env,
                                stdin=subprocess.DEVNULL, timeout=240)
        if result.returncode != 0:
            print(wharfd.log()[-8000:], file=sys.stderr)
        return result.returncode
    finally:
        if wharfd:
            wharfd.stop()
        if proxy:
            proxy.stop()
        registry.stop()
        shutil.rmtree(archives, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
