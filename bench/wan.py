"""The WAN section of the bench: a pull over a line shaped like a NAS's to Docker Hub, from a
registry shaped like Docker Hub, by wharf and by the best of its peers, against the ideal.

  line      bench/wan_proxy.py: every connection to the registry and to its token server
            goes through one latency proxy, RTT (40 ms) split over the two directions and
            paced to a shared bandwidth (100 Mbit/s);
  registry  docker-registry with token auth on every repository (Docker Hub's: the
            anonymous token grants pull), its token server bench-own (a TokenIssuer of
            tests/integration that grants anonymous pulls); the image is a multi-platform
            index (the host's platform, another one, and an attestation manifest for each,
            platform unknown/unknown as BuildKit writes them); the host's image has 6 layers,
            2 of which are shared with a base image that each tool already holds (pulled
            through the same line first, untimed);
  contenders wharf (download through its API), skopeo copy into the OCI layout that holds
            the base, podman pull into the vfs storage that holds it, ctr content fetch into
            the containerd that holds it; medians of the runs, tools alternating;
  ideal     the bytes a pull must receive (index, manifest, config, the 4 new layers, the
            token) over the bandwidth, plus the fewest round trips the protocol needs times
            the RTT: connect, the manifest answered 401, connect to the token server, the
            token, the index, the manifest, then config and layers in parallel (one more):
            7 round trips.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import containerd
import images as fx
import tools
from harness import Registry
from report import fmt_ratio, fmt_s, human_bytes, log, median, ratio
from token_issuer import TokenIssuer
from wan_proxy import LatencyProxy

MiB = 1 << 20
KiB = 1 << 10
RTT_S = 0.040
BITS_PER_S = 100e6
IDEAL_ROUND_TRIPS = 7
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
IN_TOTO = "application/vnd.in-toto+json"

SIZES = {  # shared layers (in the base too), then the app's own
    "full": ([4 * MiB, 2 * MiB], [6 * MiB, 3 * MiB, 2 * MiB, 1 * MiB]),
    "tiny": ([64 * KiB, 32 * KiB], [96 * KiB, 48 * KiB, 32 * KiB, 16 * KiB]),
}


class PublicIssuer(TokenIssuer):
    """Grants pull to anyone, as Docker Hub's auth server does for public repositories."""

    def grant(self, user, scopes):
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                               "actions": [a for a in parts[-1].split(",") if a == "pull"]})
        return access


class Endpoint:
    """What the contenders take for a registry: the line's end in front of it."""

    def __init__(self, host):
        self.host = host
        self.url = f"http://{host}"


def attestation(fixtures, subject, label):
    """An attestation manifest for `subject` (an Image) as BuildKit attaches one."""
    statement = fx.blob_of(f'{{"_type": "https://in-toto.io/Statement/v0.1", '
                           f'"subject": "{label}"}}'.encode(), IN_TOTO)
    config = fx.blob_of(b'{"architecture": "unknown", "os": "unknown", "rootfs": '
                        b'{"type": "layers", "diff_ids": []}}', fx.OCI_CONFIG)
    image = fx.Image(subject.repo, subject.tag, config, [statement])
    fixtures.pusher.image(image, tag=image.digest)
    return image


def push_index(fixtures, repo, host_image, other_image):
    """The multi-platform index of repo:latest; the manifests are pushed by digest."""
    entries = []
    for image, platform in ((host_image, {"architecture": fx.HOST_ARCH, "os": "linux"}),
                            (other_image, {"architecture": "riscv64", "os": "linux"})):
        fixtures.pusher.image(image, repo=repo, tag=image.digest)
        entries.append({"mediaType": fx.OCI_MANIFEST, "digest": image.digest,
                        "size": len(image.manifest), "platform": platform})
    for image in (host_image, other_image):
        att = attestation(fixtures, fx.Image(repo, "latest", image.config, image.layers),
                          image.digest)
        entries.append({"mediaType": fx.OCI_MANIFEST, "digest": att.digest,
                        "size": len(att.manifest),
                        "platform": {"architecture": "unknown", "os": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                        "vnd.docker.reference.digest": image.digest}})
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    status, _, data = fixtures.pusher._request("PUT", f"/v2/{repo}/manifests/latest", body=body,
                                               headers={"Content-Type": OCI_INDEX})
    if status != 201:
        raise RuntimeError(f"PUT index {repo}:latest -> {status} {data[:200]!r}")
    return len(body)


def make_images(fixtures, scale_name):
    """(base, app, index bytes): base holds the shared layers; wan/app:latest is an index."""
    shared_sizes, own_sizes = SIZES[scale_name]
    made = [fx.incompressible_layer(os.path.join(fixtures.work, f"wan-{i}.tgz"), size)
            for i, size in enumerate(shared_sizes + own_sizes)]
    shared = made[:len(shared_sizes)]
    base = fx.Image("wan/base", "latest", fx.config_blob(shared, "wan/base"), shared)
    fixtures.pusher.image(base)
    app = fx.Image("wan/app", "latest", fx.config_blob(made, "wan/app"), made)
    other = fx.Image("wan/app", "latest", fx.config_blob(made[:1], "wan/app riscv64"), made[:1])
    index_bytes = push_index(fixtures, "wan/app", app, other)
    return base, app, index_bytes


def _run(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:5])}... failed ({proc.returncode}): "
                           f"{proc.stderr[-800:]}")


class WanWharf:
    name = "wharf"

    def __init__(self, wharfd, endpoint, work, wan):
        self.tool = tools.Wharf(wharfd, endpoint, data_parent=work)
        self.wan = wan
        self.timeline = []  # the timed pull's requests: (ms from its start, connection, line)

    def pull(self, base, app):
        w = self.tool.start()
        try:
            api = tools.Api(w)
            tools.pull_through_api(api, [base], 600)
            start, before = self.wan.now(), len(self.wan.requests)
            seconds = tools.pull_through_api(api, [app], 600)
            self.timeline = [((t - start) * 1000, conn, line)
                             for t, conn, line in self.wan.requests[before:]]
            api.close()
            return seconds
        except Exception:
            print(w.log())
            raise
        finally:
            w.stop()


class WanSkopeo:
    name = "skopeo"

    def __init__(self, endpoint, work):
        self.skopeo = tools.Skopeo(endpoint, tmp_parent=work)
        self.work = work

    def pull(self, base, app):
        d = tempfile.mkdtemp(prefix="wan-skopeo-", dir=self.work)
        try:
            layout = os.path.join(d, "oci")
            _run(self.skopeo.command(base, layout))
            # The same layout: skopeo reuses the blobs it already holds.
            t0 = time.monotonic()
            _run(self.skopeo.command(app, layout)[:-1] + [f"oci:{layout}:app"])
            return time.monotonic() - t0
        finally:
            shutil.rmtree(d, ignore_errors=True)


class WanPodman:
    name = "podman"

    def __init__(self, endpoint, work):
        self.podman = tools.Podman(endpoint, tmp_parent=work)
        self.endpoint = endpoint
        self.work = work

    def pull(self, base, app):
        root = tempfile.mkdtemp(prefix="wan-podman-", dir=self.work)
        try:
            cmd = self.podman.base(root) + ["pull", "--quiet", "--tls-verify=false"]
            _run(cmd + [f"{self.endpoint.host}/{base.repo}:{base.tag}"], self.podman.env())
            t0 = time.monotonic()
            _run(cmd + [f"{self.endpoint.host}/{app.repo}:{app.tag}"], self.podman.env())
            return time.monotonic() - t0
        finally:
            self.podman.remove(root)

    def close(self):
        self.podman.close()


class WanCtr:
    name = "ctr"

    def __init__(self, endpoint, work):
        self.ctr = containerd.Ctr(endpoint.host, tmp_parent=work)

    def pull(self, base, app):
        return self.ctr.pull([app], before=lambda d: self.ctr._run(self.ctr.command(d, base)))


def measure_wan(args, scale, reg, fixtures, res, work):
    runs = max(1, min(args.runs, 5))
    base, app, index_bytes = make_images(fixtures, scale["wan"])
    issuer = PublicIssuer({}).start()
    wan = LatencyProxy(RTT_S, BITS_PER_S).start()
    try:
        issuer_host = wan.expose(("127.0.0.1", int(issuer.host.rsplit(":", 1)[1])))
        auth = issuer.registry_auth("registry.bench")
        auth["realm"] = f"http://{issuer_host}/token"
        storage = os.path.join(reg.dir, "storage")
        with Registry(auth="token", token=auth, storage=storage) as hub:
            endpoint = Endpoint(wan.expose(("127.0.0.1", int(hub.host.rsplit(":", 1)[1]))))
            contenders = [WanWharf(args.wharfd, endpoint, work, wan), WanSkopeo(endpoint, work),
                          WanPodman(endpoint, work)]
            if containerd.available():
                contenders.append(WanCtr(endpoint, work))
            times, wire = run_rounds(contenders, base, app, runs, wan)
    finally:
        wan.stop()
        issuer.stop()
    report(res, base, app, index_bytes, times, wire, runs, contenders[0].timeline)


def run_rounds(contenders, base, app, runs, wan):
    times = {c.name: [] for c in contenders}
    wire = {}
    log(f"wan: {runs} runs of {', '.join(c.name for c in contenders)} at "
        f"{RTT_S * 1000:.0f} ms RTT, {BITS_PER_S / 1e6:.0f} Mbit/s")
    try:
        for run in range(runs):
            k = run % len(contenders)
            for c in contenders[k:] + contenders[:k]:
                wan.reset_counts()
                seconds = c.pull(base, app)
                times[c.name].append(seconds)
                wire[c.name] = (wan.down.bytes, wan.connections, len(wan.requests))
                log(f"  wan run {run + 1} {c.name}: {fmt_s(seconds)}")
    finally:
        for c in contenders:
            if hasattr(c, "close"):
                c.close()
    return times, wire


def report(res, base, app, index_bytes, times, wire, runs, timeline):
    shared = {b.digest for b in base.blobs}
    needed = index_bytes + len(app.manifest) + sum(b.size for b in app.blobs
                                                   if b.digest not in shared) + 2 * KiB
    ideal = res.put("wan.ideal_s", needed * 8 / BITS_PER_S + IDEAL_ROUND_TRIPS * RTT_S)
    med = {name: res.put(f"wan.{name}_s", median(ts)) for name, ts in times.items()}
    peers = {n: t for n, t in med.items() if n != "wharf" and t is not None}
    best = min(peers, key=peers.get) if peers else None
    w = med.get("wharf")
    lines = ["| tool | pull | vs ideal | bytes down (base pull included) | connections | requests |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, t in med.items():
        down, conns, requests = wire.get(name, (0, 0, 0))
        lines.append(f"| {name} | {fmt_s(t)} | {fmt_ratio(ratio(t, ideal))} | "
                     f"{human_bytes(down)} | {conns} | {requests} |")
    lines.append(f"| ideal | {fmt_s(ideal)} | 1.00x | {human_bytes(needed)} (this pull) | | |")
    rb = res.put("wan.ratio_best", ratio(w, peers.get(best)))
    ri = res.put("wan.ratio_ideal", ratio(w, ideal))
    lines += ["", f"{RTT_S * 1000:.0f} ms RTT and {BITS_PER_S / 1e6:.0f} Mbit/s (bench/wan_proxy.py, "
              "one line shared by every connection, a new connection's first bytes one RTT "
              "later), plain HTTP (no TLS handshakes), docker-registry with token auth, the "
              f"token server behind the same line. The image: an index of 2 platforms and 2 "
              f"attestation manifests; the host's image {len(app.layers)} layers "
              f"({human_bytes(sum(b.size for b in app.layers))}), 2 of them "
              f"({human_bytes(sum(b.size for b in base.layers))}) already held from a base "
              "image each tool pulled first (untimed, same store). Ideal: "
              f"{human_bytes(needed)} over the bandwidth plus {IDEAL_ROUND_TRIPS} round "
              "trips (connect, 401, token connect, token, index, manifest, config and layers "
              f"in parallel). Medians of {runs} runs, tools alternating. wharf/best peer "
              f"({best}): {fmt_ratio(rb)}; wharf/ideal: {fmt_ratio(ri)}."]
    if timeline:
        lines += ["", "wharf's requests in its last timed pull, as they reached the registry or "
                  "the token server (ms from the pull's start, connection number through the "
                  "line; connections and requests columns above count the base pull too):", ""]
        lines += [f"    +{ms:6.0f} ms  #{conn:<3} {line}" for ms, conn, line in timeline]
    res.section("WAN pull (40 ms RTT, 100 Mbit/s)", lines)
    res.target(f"WAN pull vs the best peer ({best})", "<= 0.8x", fmt_ratio(rb),
               rb is not None and rb <= 0.8)
    res.target("WAN pull vs the ideal", "<= 1.15x", fmt_ratio(ri), ri is not None and ri <= 1.15)
