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
library/busybox is what the Official catalog's busybox entry downloads (its icon), and
LONG_NAME, 40 characters, is big enough to be watched in the Downloads panel. A loopback
control server (WHARF_CONTROL) stops and starts wharfd for the connection indicator's steps:
POST /wharfd/stop, POST /wharfd/start (the same port and data directory).
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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from fixtures import FixtureBuilder, skopeo  # noqa: E402
from harness import Registry, ThrottleProxy, Wharfd  # noqa: E402

MiB = 1024 * 1024
RATE = 3 * MiB  # bytes per second from the registry to wharfd
LONG_NAME = "homeassistant/home-assistant-long-name-x"  # 40 characters


def push_images(registry):
    with FixtureBuilder(registry) as fx:
        fx.diamond(tags=("latest", "1.0"))
        fx.image("library/hello", ["latest"], [{"/hello": b"Hello from wharf!\n"}],
                 {"cmd": ["/hello"]})
        fx.big("team/slow", "latest", size=9 * MiB)
        fx.big("team/cancel", "latest", size=40 * MiB)
        fx.big(LONG_NAME, "latest", size=30 * MiB)
        fx.image("library/busybox", ["latest"], [{"/bin/busybox": os.urandom(40 * 1024)}],
                 {"cmd": ["/bin/busybox"]})
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


def control_server(wharfd):
    """Stops and starts wharfd on request, for the page's connection indicator."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            actions = {"/wharfd/stop": lambda: wharfd.stop(cleanup=False),
                       "/wharfd/start": wharfd.start}
            action = actions.get(self.path)
            if action:
                action()
            self.send_response(200 if action else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


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
    proxy = wharfd = control = None
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
        control = control_server(wharfd)
        env = dict(os.environ, WHARF_URL=wharfd.url, WHARF_PASSWORD=wharfd.admin_password,
                   WHARF_CONTROL=f"http://127.0.0.1:{control.server_address[1]}",
                   WHARF_LONG_NAME=LONG_NAME,
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
                                stdin=subprocess.DEVNULL, timeout=420)
        if result.returncode != 0:
            print(wharfd.log()[-8000:], file=sys.stderr)
        return result.returncode
    finally:
        if control:
            control.shutdown()
        if wharfd:
            wharfd.stop()
        if proxy:
            proxy.stop()
        registry.stop()
        shutil.rmtree(archives, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
