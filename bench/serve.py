"""The serve section of the bench: wharf as a registry (its OCI Distribution API on /v2/)
against docker-registry serving the same image.

  blobs   every layer of a fixture image (4 incompressible 64 MiB layers at full scale),
          fetched by one curl process `--parallel` to /dev/null, from wharf and from the
          loopback docker-registry in alternating order, after a warm-up fetch of each (so
          both serve from the page cache); MB/s per round, median over the rounds, and the
          CPU time each server took per GiB served (from /proc);
  podman  `podman pull` of the same image from wharf and from docker-registry into one
          private vfs storage (tests/integration/engines.py), the image removed and a sync
          after each pull, in alternating order after a warm-up pull of each.

wharf is measured twice: anonymous (`[serve] anonymous = true`, on the same footing as the
registry, which has no auth here) and with the default config, a wharf user's credentials
(curl: a Bearer token from /v2/token; podman: --creds, which does the token flow). The two
wharfds serve the same store (the second one's blobs are hard links to the first one's, so
they share the page cache).
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import time

import floor
import tools
from engines import Podman  # tests/integration, put on sys.path by run.py
from report import fmt_ratio, fmt_s, human_bytes, log, median, ratio

MB = 1000 * 1000
GiB = 1 << 30
USER, PASSWORD = "bench-puller", "bench-pull-secret"
REPO_NAME = "bench/serve"


class Server:
    """One side of the comparison: where its /v2/ is, how to authenticate, which process
    does the serving."""

    def __init__(self, name, base_url, pid, token=None, creds=None):
        self.name = name
        self.base_url = base_url
        self.pid = pid
        self.token = token  # a function giving a fresh Authorization header (tokens expire)
        self.creds = creds

    @property
    def headers(self):
        return [self.token()] if self.token else []

    def blob_url(self, digest):
        return f"{self.base_url}/v2/{REPO_NAME}/blobs/{digest}"


def fetch(server, digests, parallel):
    """curl fetches every blob of `digests` (a list, repeats allowed) at most `parallel` at
    once to /dev/null. Returns (wall seconds, bytes received, server CPU seconds)."""
    cmd = ["curl", "--silent", "--show-error", "--parallel", "--parallel-max", str(parallel),
           "--write-out", "%{http_code} %{size_download}\\n"]
    for h in server.headers:  # a fresh token, outside the timed part
        cmd += ["-H", h]
    for d in digests:
        cmd += ["-o", "/dev/null", server.blob_url(d)]
    cpu0 = floor.process_cpu_s(server.pid)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - t0
    cpu = floor.process_cpu_s(server.pid) - cpu0
    lines = out.stdout.split()
    codes, sizes = lines[0::2], [int(s) for s in lines[1::2]]
    if out.returncode != 0 or len(codes) != len(digests) or set(codes) != {"200"}:
        raise RuntimeError(f"curl from {server.name} failed ({out.returncode}): codes "
                           f"{sorted(set(codes))}, {out.stderr[-500:]}")
    return seconds, sum(sizes), cpu


def check_blobs(server, image):
    """Every layer from `server` has the digest and size it was pushed with."""
    for blob in image.layers:
        cmd = ["curl", "--silent", "--show-error", "--fail"]
        for h in server.headers:
            cmd += ["-H", h]
        cmd.append(server.blob_url(blob.digest))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        h, n = hashlib.sha256(), 0
        for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
        if proc.wait() != 0 or "sha256:" + h.hexdigest() != blob.digest or n != blob.size:
            raise RuntimeError(f"{server.name} served {blob.digest} wrong: {n} bytes, "
                               f"sha256:{h.hexdigest()}")


def token_header(w):
    """A pull token for REPO_NAME from wharfd's /v2/token, as an Authorization header."""
    conn = http.client.HTTPConnection(w.host, w.port, timeout=60)
    try:
        basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        conn.request("GET", f"/v2/token?service=wharf&scope=repository:{REPO_NAME}:pull",
                     headers={"Authorization": "Basic " + basic})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"/v2/token -> {r.status} {body[:300]!r}")
        return "Authorization: Bearer " + json.loads(body)["token"]
    finally:
        conn.close()


def link_copy(src, dst):
    """A copy of a stopped wharfd's data dir whose blobs are hard links (one page cache)."""
    def copy(s, d):
        if os.sep + "blobs" + os.sep in s:
            os.link(s, d)
        else:
            shutil.copy2(s, d)
    shutil.copytree(src, dst, symlinks=True, copy_function=copy)


def rotate(items, k):
    k %= len(items)
    return items[k:] + items[:k]


def measure_serve(args, scale, reg, fixtures, res, work):
    layers, layer_size = scale["serve"]
    rounds = pulls = args.runs  # --runs: curl rounds and podman pulls per server
    copies = scale["serve_copies"]
    log(f"generating {REPO_NAME}: {layers} x {human_bytes(layer_size)} incompressible")
    image = fixtures.incompressible(REPO_NAME, layers, layer_size)
    total = sum(b.size for b in image.layers)

    # wharf downloads it from the registry through its own API, then serves it.
    data = os.path.join(work, "wharf-serve")
    log("downloading it into wharf through its API")
    anon_cfg = "\n[serve]\nanonymous = true\n"
    if not tools.config_accepts(args.wharfd, "serve", "anonymous", "true"):
        raise RuntimeError(f"{args.wharfd} has no [serve] table: it does not serve /v2/")
    w = tools.Wharf(args.wharfd, reg, extra_toml=anon_cfg).start(data_dir=data)
    try:
        api = tools.Api(w)
        load_s = tools.pull_through_api(api, [image], timeout=1800)
        api.close()
    finally:
        w.stop()
    fixtures.drop_files(image)
    data_auth = os.path.join(work, "wharf-serve-auth")
    link_copy(data, data_auth)
    started = []
    podman = None
    try:
        wa = tools.Wharf(args.wharfd, reg, extra_toml=anon_cfg).start(data_dir=data)
        started.append(wa)
        wt = tools.Wharf(args.wharfd, reg).start(data_dir=data_auth)
        started.append(wt)
        wt.add_user(USER, PASSWORD)
        servers = [Server("wharf", wa.url, wa.proc.pid),
                   Server("wharf (token)", wt.url, wt.proc.pid, token=lambda: token_header(wt),
                          creds=f"{USER}:{PASSWORD}"),
                   Server("registry", reg.url, reg.proc.pid)]
        for s in servers:
            check_blobs(s, image)

        # Blob throughput, at 8 streams and at 1.
        digests = [b.digest for b in image.layers]
        through = {}
        cpu_per_gib = {}
        for parallel, wanted in ((8, digests * copies), (1, digests)):
            for s in servers:
                fetch(s, wanted, parallel)  # warm-up: page cache, connections, threads
            rates = {s.name: [] for s in servers}
            cpus = {s.name: [] for s in servers}
            for r in range(rounds):
                for s in rotate(servers, r):
                    seconds, got, cpu = fetch(s, wanted, parallel)
                    rates[s.name].append(got / MB / seconds)
                    cpus[s.name].append(cpu / (got / GiB))
                log(f"  blobs x{parallel} round {r + 1}: " + ", ".join(
                    f"{n} {rates[n][-1]:.0f} MB/s ({cpus[n][-1]:.2f} s CPU/GiB)"
                    for n in rates))
            for n in rates:
                key = n.replace(" (token)", "_token")
                through[(parallel, n)] = res.put(f"serve.blobs.c{parallel}.{key}_mbs",
                                                 median(rates[n]))
                cpu_per_gib[(parallel, n)] = res.put(f"serve.blobs.c{parallel}.{key}_cpu_s_gib",
                                                     median(cpus[n]))

        # podman pull from each, into one private vfs storage, removed after each pull.
        podman = Podman().start()
        refs = {"wharf": f"{wa.listen}/{REPO_NAME}:latest",
                "wharf (token)": f"{wt.listen}/{REPO_NAME}:latest",
                "registry": f"{reg.host}/{REPO_NAME}:latest"}

        def pull(s):
            cmd = ["pull", "--quiet", "--tls-verify=false",
                   "--signature-policy", f"{podman.dir}/policy.json"]
            if s.creds:
                cmd += ["--creds", s.creds]
            os.sync()
            cpu0 = floor.process_cpu_s(s.pid)
            t0 = time.monotonic()
            podman.run(*cmd, refs[s.name], timeout=600)
            seconds = time.monotonic() - t0
            server_cpu[s.name].append(floor.process_cpu_s(s.pid) - cpu0)
            podman.run("rmi", "--all", "--force", timeout=600)
            return seconds

        server_cpu = {s.name: [] for s in servers}

        for s in servers:
            pull(s)  # warm-up
        times = {s.name: [] for s in servers}
        server_cpu = {s.name: [] for s in servers}
        for r in range(pulls):
            for s in rotate(servers, r):
                times[s.name].append(pull(s))
            log(f"  podman pull run {r + 1}: " + ", ".join(
                f"{n} {fmt_s(times[n][-1])}" for n in times))
        pulled, pull_cpu = {}, {}
        for n in times:
            key = n.replace(" (token)", "_token")
            pulled[n] = res.put(f"serve.podman.{key}_s", median(times[n]))
            pull_cpu[n] = res.put(f"serve.podman.{key}_server_cpu_s", median(server_cpu[n]))
    finally:
        if podman:
            podman.stop()
        for w in started:
            w.stop()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(data_auth, ignore_errors=True)

    reg_name = "registry"
    lines = ["| measure | streams | wharf | wharf (token) | docker-registry | wharf/registry | "
             "wharf (token)/registry | wharf CPU | docker-registry CPU |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for parallel in (8, 1):
        x = res.put(f"serve.blobs.c{parallel}.ratio",
                    ratio(through[(parallel, "wharf")], through[(parallel, reg_name)]))
        xt = res.put(f"serve.blobs.c{parallel}.ratio_token",
                     ratio(through[(parallel, "wharf (token)")], through[(parallel, reg_name)]))
        lines.append(f"| blob throughput | {parallel} | {through[(parallel, 'wharf')]:.0f} MB/s | "
                     f"{through[(parallel, 'wharf (token)')]:.0f} MB/s | "
                     f"{through[(parallel, reg_name)]:.0f} MB/s | {fmt_ratio(x)} | "
                     f"{fmt_ratio(xt)} | {cpu_per_gib[(parallel, 'wharf')]:.2f} s/GiB | "
                     f"{cpu_per_gib[(parallel, reg_name)]:.2f} s/GiB |")
    px = res.put("serve.podman.ratio", ratio(pulled["wharf"], pulled[reg_name]))
    pxt = res.put("serve.podman.ratio_token", ratio(pulled["wharf (token)"], pulled[reg_name]))
    lines.append(f"| podman pull (wall) | | {fmt_s(pulled['wharf'])} | "
                 f"{fmt_s(pulled['wharf (token)'])} | {fmt_s(pulled[reg_name])} | "
                 f"{fmt_ratio(px)} | {fmt_ratio(pxt)} | {fmt_s(pull_cpu['wharf'])} per pull | "
                 f"{fmt_s(pull_cpu[reg_name])} per pull |")
    lines += ["", f"The image: {layers} incompressible layers of {human_bytes(layer_size)} "
              f"({human_bytes(total)}), pushed to the loopback docker-registry and downloaded "
              f"into wharf through its API ({fmt_s(load_s)}); both serve it from the page cache. "
              f"Blob throughput: one `curl --parallel` fetching every layer "
              f"{copies} times (8 streams) or once (1 stream) to /dev/null, MB/s = 10^6 bytes "
              f"received per second, median of {rounds} rounds after a warm-up, the servers "
              "taking turns; CPU: the serving process's user + system CPU time per GiB "
              "sent (from /proc; wharfd's includes the kernel's sendfile, docker-registry's its "
              f"copies). podman pull: podman {podman_version()} into a private vfs storage, "
              f"`--tls-verify=false`, median of {pulls} pulls after a warm-up, the image "
              "removed and a sync after each. wharf: `[serve] anonymous = true`, like the "
              "registry (no auth); the CPU columns of the podman row are the server's CPU time "
              "during one pull (median); wharf (token): the default config, a wharf user "
              "(curl: a Bearer token from /v2/token; podman: `--creds`, so each pull also "
              "does the token flow)."]
    res.section("Serving images (/v2/) against docker-registry", lines)
    x = res.values["serve.blobs.c8.ratio"]
    res.target("blob throughput, 8 streams, vs docker-registry", ">= 1.0x", fmt_ratio(x),
               x is not None and x >= 1.0)
    res.target("podman pull from wharf vs from docker-registry", "<= 1.0x",
               f"{fmt_ratio(px)} (token auth: {fmt_ratio(pxt)})", px is not None and px <= 1.0)


def podman_version():
    try:
        return subprocess.run(["podman", "--version"], capture_output=True, text=True,
                              timeout=30).stdout.split()[-1]
    except Exception:  # noqa: BLE001
        return "?"
