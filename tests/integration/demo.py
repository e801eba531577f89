"""`make demo`: a loopback docker-registry holding a small image for every Docker entry of
the catalogs, and wharfd in the foreground pulling "Docker Hub" images from it. Ctrl-C
stops both.

The registry is reached through a throttling proxy (WHARF_DEMO_RATE bytes a second), and
lgsd/diamond is big enough (WHARF_DEMO_BIG_MB) that its download can be watched; every
other image is a few kilobytes.

Environment: WHARFD (binary, default build/wharfd), WHARF_LISTEN (default
127.0.0.1:8080), WHARF_ADMIN_PASSWORD (default "demo"), WHARF_DEMO_REGISTRY_PORT
(default 5000, or a free port when 5000 is taken), WHARF_DEMO_DATA (default var/demo),
WHARF_DEMO_RATE (default 4194304; 0 = unthrottled), WHARF_DEMO_BIG_MB (default 24).
"""

import os
import signal
import subprocess
import sys
import time

from demo_images import (demo_catalogs, push_big_image, push_catalog_images, push_image,
                         write_catalogs)
from fixtures import FixtureBuilder
from harness import (REPO_ROOT, Registry, ThrottleProxy, Wharfd, http_status, port_is_free,
                     stop_process, wait_until)


def registry_port():
    wanted = int(os.environ.get("WHARF_DEMO_REGISTRY_PORT", "5000"))
    return wanted if port_is_free(wanted) else None  # None: Registry picks a free one


def push_images(registry, catalogs, big_mb):
    client = registry.client()
    for tag, text in (("latest", "Hello from wharf!"), ("1.0", "Hello from wharf 1.0")):
        push_image(client, "library/hello", [tag], {"/hello": f"{text}\n".encode()},
                   {"Cmd": ["/hello"], "Labels": {"version": tag}})
    push_big_image(client, "lgsd/diamond", ["latest", "1.0"], big_mb * 1024 * 1024)
    push_catalog_images(client, catalogs)
    with FixtureBuilder(registry) as fx:
        fx.multi_arch("library/alpine-mini")


def make_private_dirs(path):
    """Creates `path` and any missing parent with mode 0700 (wharfd warns about a data
    directory other users can read, and ./var is `make run`'s), and makes `path` 0700."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        os.mkdir(p, 0o700)
    os.chmod(missing[0] if missing else path, 0o700)


def page_url(host, port):
    if host in ("", "0.0.0.0", "::", "[::]"):
        return (f"http://HOST:{port}/ (HOST: this machine's address; it listens on every "
                f"address)")
    return f"http://{f'[{host}]' if ':' in host and not host.startswith('[') else host}:{port}/"


def banner(page, api_url, password, registry, catalogs, rate, big_mb):
    dl_body = ('{"description": "I am description.", '
               '"location": "https://registry.hub.docker.com/u/lgsd/diamond/", '
               '"icon": "http://download.qnap.com/QPKG/images/QPKG/container_icon.png"}')
    api = f"{api_url}/api/v1"
    count = sum(len(doc["images"]) for doc in catalogs.values())
    speed = f"at {rate / 1048576:g} MiB/s" if rate else "unthrottled"
    return f"""
======================================================================
 wharf demo
   the page  {page}   (user admin, password {password})
   registry  {registry.url}  serving as Docker Hub, {speed}:
             the {count} Docker entries of App Center and Official (a few KB each),
             lgsd/diamond:latest and :1.0 ({big_mb} MiB, to watch its download),
             hello:latest hello:1.0 alpine-mini:latest (amd64+arm64)
 The CLI:
   build/wharf login --server {api_url} -u admin     (or `make install`)
   build/wharf pull lgsd/diamond
 Or curl:
   curl -sq -c cookies.txt -d 'username=admin&password={password}' {api}/login
   curl -sq -XPOST -b cookies.txt -d '{dl_body}' \\
        {api}/image/dockerhub/docker/lgsd/diamond/latest/download
   curl -sq -b cookies.txt {api}/image/downloadstatus
   curl -sq -b cookies.txt "{api}/image/?from=local"
   curl -sq -b cookies.txt {api}/image/docker/lgsd/diamond/latest/inspect
   curl -sq -XDELETE -b cookies.txt {api}/image/local/docker/lgsd/diamond
 Ctrl-C stops wharfd and the registry.
======================================================================
"""


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def start_wharfd(wharfd):
    wharfd.write_config()
    print(f"demo: starting {' '.join(wharfd.command())}", flush=True)
    proc = subprocess.Popen(wharfd.command(), env=wharfd.env(), stdin=subprocess.DEVNULL)

    def healthy():
        if proc.poll() is not None:
            raise RuntimeError(f"wharfd exited with {proc.returncode}")
        return http_status(wharfd.url + "/healthz") == 200

    try:
        wait_until(healthy, 30, f"wharfd on {wharfd.url}")
    except Exception:
        stop_process(proc)
        raise
    return proc


def main():
    listen = os.environ.get("WHARF_LISTEN") or "127.0.0.1:8080"
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    password = os.environ.get("WHARF_ADMIN_PASSWORD") or "demo"
    data_dir = os.path.abspath(os.environ.get("WHARF_DEMO_DATA", os.path.join("var", "demo")))
    rate = int(os.environ.get("WHARF_DEMO_RATE", str(4 * 1024 * 1024)))
    big_mb = int(os.environ.get("WHARF_DEMO_BIG_MB", "24"))
    catalogs = demo_catalogs(REPO_ROOT / "share")

    # Ctrl-C reaches the whole process group; SIGTERM is turned into the same path.
    signal.signal(signal.SIGTERM, _interrupt)
    registry = Registry(port=registry_port())
    proxy = wharfd = proc = None
    try:
        registry.start()
        print(f"demo: docker-registry on {registry.url}; pushing images ...", flush=True)
        push_images(registry, catalogs, big_mb)
        proxy = ThrottleProxy(registry.host, rate or None).start()
        make_private_dirs(data_dir)
        wharfd = Wharfd(proxy.url, data_dir=data_dir, host=host, port=int(port),
                        index_url=registry.url)
        paths = write_catalogs(catalogs, wharfd.tmp)
        wharfd.extra_toml = "\n[catalogs]\n" + "".join(
            f'{name} = "{path}"\n' for name, path in paths.items())
        wharfd.admin_password = password
        if not wharfd.binary.exists():
            sys.exit(f"demo: {wharfd.binary} not found; build it first (make build)")
        proc = start_wharfd(wharfd)
        print(banner(page_url(host, port), wharfd.url, password, registry, catalogs, rate,
                     big_mb), flush=True)
        while proc.poll() is None:
            time.sleep(0.5)
        return proc.returncode
    except KeyboardInterrupt:
        print("\ndemo: stopping", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_process(proc)
        if wharfd:
            wharfd.stop()  # removes its temp config dir, not the data dir
        if proxy:
            proxy.stop()
        registry.stop()


if __name__ == "__main__":
    sys.exit(main())
