"""`make demo`: a loopback docker-registry with a few small images, and wharfd in
the foreground pulling "Docker Hub" images from it. Ctrl-C stops both.

Environment: WHARFD (binary, default build/wharfd), WHARF_LISTEN (default
127.0.0.1:8080), WHARF_ADMIN_PASSWORD (default "demo"), WHARF_DEMO_REGISTRY_PORT
(default 5000, or a free port when 5000 is taken), WHARF_DEMO_DATA (default var/demo).
"""

import os
import signal
import subprocess
import sys
import time

from fixtures import FixtureBuilder
from harness import Registry, Wharfd, http_status, port_is_free, stop_process, wait_until


def registry_port():
    wanted = int(os.environ.get("WHARF_DEMO_REGISTRY_PORT", "5000"))
    return wanted if port_is_free(wanted) else None  # None: Registry picks a free one


def push_images(registry):
    with FixtureBuilder(registry) as fx:
        fx.image("library/hello", ["latest"], [{"/hello": b"Hello from wharf!\n"}],
                 {"cmd": ["/hello"]})
        fx.image("library/hello", ["1.0"], [{"/hello": b"Hello from wharf 1.0\n"}],
                 {"cmd": ["/hello"], "labels": {"version": "1.0"}})
        fx.diamond(tags=["latest"])
        fx.multi_arch("library/alpine-mini")


def banner(url, password, registry):
    dl_body = ('{"description": "I am description.", '
               '"location": "https://registry.hub.docker.com/u/lgsd/diamond/", '
               '"icon": "http://download.qnap.com/QPKG/images/QPKG/container_icon.png"}')
    api = f"{url}/api/v1"
    return f"""
======================================================================
 wharf demo
   wharfd    {url}   (user admin, password {password})
   registry  {registry.url}  serving as Docker Hub:
             hello:latest hello:1.0 lgsd/diamond:latest alpine-mini:latest (amd64+arm64)
 Try:
   curl -sq -XPOST -c cookies.txt -d 'username=admin&password={password}' {api}/login
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


def main():
    listen = os.environ.get("WHARF_LISTEN", "127.0.0.1:8080")
    host, _, port = listen.rpartition(":")
    password = os.environ.get("WHARF_ADMIN_PASSWORD") or "demo"
    data_dir = os.path.abspath(os.environ.get("WHARF_DEMO_DATA", os.path.join("var", "demo")))

    # Ctrl-C reaches the whole process group; SIGTERM is turned into the same path.
    signal.signal(signal.SIGTERM, _interrupt)
    registry = Registry(port=registry_port())
    wharfd = None
    proc = None
    try:
        registry.start()
        print(f"demo: docker-registry on {registry.url}; pushing images ...", flush=True)
        push_images(registry)
        os.makedirs(data_dir, exist_ok=True)
        wharfd = Wharfd(registry.url, data_dir=data_dir, host=host, port=int(port))
        wharfd.admin_password = password
        if not wharfd.binary.exists():
            sys.exit(f"demo: {wharfd.binary} not found; build it first (cmake --build build)")
        wharfd.write_config()
        print(f"demo: starting {' '.join(wharfd.command())}", flush=True)
        proc = subprocess.Popen(wharfd.command(), env=wharfd.env(), stdin=subprocess.DEVNULL)

        def healthy():
            if proc.poll() is not None:
                raise RuntimeError(f"wharfd exited with {proc.returncode}")
            return http_status(wharfd.url + "/healthz") == 200

        wait_until(healthy, 30, f"wharfd on {wharfd.url}")
        print(banner(wharfd.url, password, registry), flush=True)
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
        registry.stop()


if __name__ == "__main__":
    sys.exit(main())
