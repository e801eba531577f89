#!/usr/bin/env python3
"""make bench: wharf against skopeo, podman and the wire, side by side in one run.

    python3 bench/run.py                 # full sizes (about 20-25 min on 2 cores)
    python3 bench/run.py --tiny          # tiny sizes, a minute or two (what `make test` runs)
    WHARF_BENCH_SCALE=tiny python3 bench/run.py
    python3 bench/run.py --runs 3 --only pulls,api
    python3 bench/run.py --only serve    # wharf's /v2/ against docker-registry (a few min)
    python3 bench/run.py --only export   # an image archive over HTTP against cat (a minute)
    python3 bench/run.py --only import   # a 1 GiB archive into wharf against podman load
    python3 bench/run.py --only memory   # 200 pull/delete cycles of A in one wharfd (3 min)
    python3 bench/run.py --only wan      # a pull over 40 ms RTT, 100 Mbit/s (a few min)

Starts a loopback docker-registry, generates and pushes the fixture images (A: 4
incompressible 64 MiB layers; B: 30 compressible layers, about 256 MiB unpacked;
C: 200 small images; 1,000 tiny images for the API; 64 MiB and 1 GiB images for
the size series), then measures:

  pulls    median of --runs runs per tool, tools alternating within each run, each
           from an empty store and after a sync: wharf (POST download, until the
           events stream says the image was added to local), skopeo copy to
           oci:DIR, podman pull (vfs), ctr content fetch and ctr images pull (native
           snapshots) into a private containerd (bench/containerd.py), curl of every
           blob in parallel to /dev/null;
  api      1,000 distinct images in wharf and in podman storage; wrk on the local
           listing and on inspect at 8 and 32 connections, against podman's
           Docker-compatible service; the listing at 32 connections again, with and
           without 1,000 idle connections held open from 127.0.0.2;
  scaling  wharfd start time (to /healthz), idle RSS and listing latency with
           100, 1k and 10k images; pull time and peak RSS for 64 MiB, 256 MiB, 1 GiB;
  serve    wharf's OCI Distribution API (/v2/) against docker-registry serving the same
           image (4 incompressible 64 MiB layers): blob throughput of parallel curl (8
           streams, and 1), and podman pull (vfs) from each (bench/serve.py).
  export   an image archive of a 512 MiB image (4 incompressible 128 MiB layers) over
           HTTP (curl -o /dev/null) against cat of its blobs > /dev/null (bench/export.py).
  import   a 1 GiB docker archive (podman save of 4 incompressible 256 MiB layers) POSTed to
           wharf's import route (curl -T) against podman load of it into a fresh private
           storage (bench/imports.py).
  memory   one wharfd, 200 pull/delete cycles of an image shaped as A: RSS after each,
           after the last and its drift over the last 100 (bench/memory.py).
  wan      a pull through a latency proxy (40 ms RTT, 100 Mbit/s) from a token-auth
           registry with Docker Hub's shape (a multi-platform index with attestations,
           6 layers, 2 already held): wharf, skopeo, podman, ctr, and the ideal
           (bench/wan.py).

Prints a table of medians and ratios, writes it to bench/results/latest.md (or
--out) and, unless --no-summary, appends a dated summary to BENCHMARKS.md.
Python 3 standard library; reuses tests/integration/harness.py and fixtures.py.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(HERE))

import containerd  # noqa: E402
import export  # noqa: E402
import floor  # noqa: E402
import imports  # noqa: E402
import memory  # noqa: E402
import serve  # noqa: E402
import wan  # noqa: E402
import harness  # noqa: E402
import images as fx  # noqa: E402
import tools  # noqa: E402
from http_load import (IdleConnections, PodmanService, check_200, load_wharf,  # noqa: E402
                       one_request_ms, run_wrk)
from report import (Results, check_numbers, fmt_ms, fmt_ratio, fmt_s,  # noqa: E402
                    human_bytes, log, median, ratio, write_outputs)

MiB = fx.MiB
KiB = 1024

# Uncompressed MiB of B's 30 layers (a big base, then smaller ones): 256 in all.
B_LAYERS_MIB = [80, 40, 20, 16, 12, 10, 8, 8, 6, 6, 5, 5, 4, 4, 4,
                3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]

SCALES = {
    "full": {
        "a": (4, 64 * MiB),
        "b": [m * MiB for m in B_LAYERS_MIB],
        "c": (200, 2 * MiB),
        "api_images": 1000,
        "scale_counts": [100, 1000, 10000],
        "sizes": [(1, 64 * MiB), (4, 64 * MiB), (16, 64 * MiB)],
        "runs": 9,  # pulls vary by +-15% hour to hour here; 5 runs left medians noisy
        "size_runs": 3,
        "start_runs": 5,
        "wrk_seconds": 8,
        "list_seconds": 3,
        "idle_conns": 1000,
        "idle_pairs": 2,  # without/with idle connections, in ABBA order: A B B A
        "serve": (4, 64 * MiB),  # the served image: layers, bytes each
        "serve_copies": 2,       # each layer fetched twice per round: 8 transfers at once
        "export": (4, 128 * MiB),  # the exported image: layers, bytes each
        "import": (4, 256 * MiB),  # the imported archive's image: layers, bytes each
        "memory_cycles": 200,  # pull/delete cycles of A in one wharfd
        "wan": "full",  # the WAN image's sizes (bench/wan.py SIZES)
    },
    "tiny": {
        "a": (4, 256 * KiB),
        "b": [m * 8 * KiB for m in B_LAYERS_MIB],
        "c": (5, 64 * KiB),
        "api_images": 20,
        "scale_counts": [5, 20, 60],
        "sizes": [(1, 1 * MiB), (2, 1 * MiB), (4, 1 * MiB)],
        "runs": 1,
        "size_runs": 1,
        "start_runs": 2,
        "wrk_seconds": 1,
        "list_seconds": 1,
        "idle_conns": 1000,
        "idle_pairs": 1,
        "serve": (4, 256 * KiB),
        "serve_copies": 2,
        "export": (2, 256 * KiB),
        "import": (2, 256 * KiB),
        "memory_cycles": 6,
        "wan": "tiny",
    },
}

TOOLS_ORDER = ["wharf", "skopeo", "podman", "curl"]


# --------------------------------------------------------------------------------------------
# Pulls


def measure_pulls(args, scale, reg, fixtures, res, work):
    a_layers, a_size = scale["a"]
    log(f"generating A: {a_layers} x {human_bytes(a_size)} incompressible")
    image_a = fixtures.incompressible("bench/a", a_layers, a_size)
    log(f"generating B: {len(scale['b'])} compressible layers, "
        f"{human_bytes(sum(scale['b']))} unpacked")
    image_b = fixtures.compressible("bench/b", scale["b"])
    c_count, c_base = scale["c"]
    log(f"generating C: {c_count} small images over a {human_bytes(c_base)} base")
    images_c = fixtures.small_images("bench/c", c_count, c_base)

    wharf = tools.Wharf(args.wharfd, reg, data_parent=work)
    skopeo = tools.Skopeo(reg, parallel=3, tmp_parent=work)
    podman = tools.Podman(reg, tmp_parent=work)
    curl = tools.Curl(reg)
    peers = []
    if containerd.available():
        ctr = containerd.Ctr(reg.host, tmp_parent=work)
        ctr_unpack = containerd.Ctr(reg.host, unpack=True, tmp_parent=work)
        peers = [ctr, ctr_unpack]
    else:
        log("containerd is not installed (scripts/deps installs it): no ctr figures")
    cases = [
        ("A", [image_a], [wharf, skopeo, podman, *peers, curl]),
        # ctr unpack into native snapshots copies every parent snapshot: B's 30 layers took
        # it 141 s (podman's vfs 63 s) on a busy hour, longer than the rest of the section.
        ("B", [image_b], [wharf, skopeo, podman, *peers[:1], curl]),
        ("C", images_c, [wharf, skopeo, *peers[:1], curl]),
    ]
    rows = []
    try:
        for label, imgs, contenders in cases:
            compressed = sum(i.compressed_size for i in imgs)
            unpacked = sum(i.uncompressed_size for i in imgs)
            log(f"pull {label}: {len(imgs)} image(s), {human_bytes(compressed)} compressed, "
                f"{human_bytes(unpacked)} unpacked; {args.runs} runs of "
                f"{', '.join(c.name for c in contenders)}")
            curl.pull(imgs)  # warm the registry's page cache for everyone
            times = {c.name: [] for c in contenders}
            growth, registry_cpu, receive_cpu = [], [], []
            for run in range(args.runs):
                order = contenders[run % len(contenders):] + contenders[:run % len(contenders)]
                for c in order:
                    # The previous tool's unwritten pages (skopeo and podman do not fsync)
                    # are flushed now, not during this tool's pull.
                    os.sync()
                    cpu0 = floor.process_cpu_s(reg.proc.pid)
                    seconds = c.pull(imgs)
                    if c is curl:
                        registry_cpu.append(floor.process_cpu_s(reg.proc.pid) - cpu0)
                        receive_cpu.append(curl.last_cpu_s)
                    times[c.name].append(seconds)
                    extra = ""
                    if c is wharf and wharf.last_rss:
                        idle, peak = wharf.last_rss
                        growth.append((peak - idle) / 1024)
                        extra = f", RSS {idle // 1024} -> {peak // 1024} MiB"
                    log(f"  {label} run {run + 1} {c.name}: {fmt_s(seconds)}{extra}")
            med = {name: res.put(f"pull.{label}.{name}", median(ts)) for name, ts in times.items()}
            verify_total, verify_longest = floor.verify_cpu(args.verify_cost, imgs, work)
            med["floor"] = res.put(f"pull.{label}.floor", floor.floor_s(
                verify_total, verify_longest, median(registry_cpu) + median(receive_cpu)))
            log(f"  {label} floor: verification {fmt_s(verify_total)} CPU (longest layer "
                f"{fmt_s(verify_longest)}), registry {fmt_s(median(registry_cpu))} and "
                f"receiving {fmt_s(median(receive_cpu))} CPU -> {fmt_s(med['floor'])} on "
                f"{os.cpu_count()} cores")
            res.put(f"pull.{label}.wharf_rss_growth_mib", max(growth) if growth else None)
            rows.append((label, len(imgs), compressed, unpacked, med,
                         max(growth) if growth else None))
    finally:
        podman.close()

    lines = ["| image | compressed | unpacked | wharf | floor | skopeo | podman | ctr | "
             "ctr unpack | curl (wire) | wharf/skopeo | wharf/podman | wharf/ctr | wharf/curl | "
             "wharf/floor | floor/skopeo | floor/curl | podman/ctr unpack | wharf RSS growth |",
             "|" + " --- |" * 19]
    for label, count, compressed, unpacked, med, growth in rows:
        w = med.get("wharf")
        name = f"{label} ({count} images)" if count > 1 else label
        lines.append(
            f"| {name} | {human_bytes(compressed)} | {human_bytes(unpacked)} | {fmt_s(w)} | "
            f"{fmt_s(med['floor'])} | "
            f"{fmt_s(med.get('skopeo'))} | {fmt_s(med.get('podman'))} | "
            f"{fmt_s(med.get('ctr'))} | {fmt_s(med.get('ctr-unpack'))} | {fmt_s(med.get('curl'))} | "
            f"{fmt_ratio(ratio(w, med.get('skopeo')))} | {fmt_ratio(ratio(w, med.get('podman')))} | "
            f"{fmt_ratio(ratio(w, med.get('ctr')))} | "
            f"{fmt_ratio(ratio(w, med.get('curl')))} | {fmt_ratio(ratio(w, med['floor']))} | "
            f"{fmt_ratio(ratio(med['floor'], med.get('skopeo')))} | "
            f"{fmt_ratio(ratio(med['floor'], med.get('curl')))} | "
            f"{fmt_ratio(ratio(med.get('podman'), med.get('ctr-unpack')))} | "
            f"{'n/a' if growth is None else f'{growth:.1f} MiB'} |")
        res.put(f"pull.{label}.ratio_skopeo", ratio(w, med.get("skopeo")))
        if "podman" in med:
            res.put(f"pull.{label}.ratio_podman", ratio(w, med.get("podman")))
        res.put(f"pull.{label}.ratio_curl", ratio(w, med.get("curl")))
        res.put(f"pull.{label}.ratio_ctr", ratio(w, med.get("ctr")))
        res.put(f"pull.{label}.ratio_floor", ratio(w, med["floor"]))
        res.put(f"pull.{label}.floor_ctr", ratio(med["floor"], med.get("ctr")))
        res.put(f"pull.{label}.floor_skopeo", ratio(med["floor"], med.get("skopeo")))
        res.put(f"pull.{label}.floor_curl", ratio(med["floor"], med.get("curl")))
    lines.append("")
    lines.append(f"Medians of {args.runs} runs, tools alternating within each run, every run from "
                 "an empty store and after a sync. skopeo copies C three images at a time (wharf's default "
                 "`downloads.max_concurrent`), and so does ctr. ctr is `ctr content fetch` into a "
                 "private containerd started afresh for each pull (blobs verified and stored, "
                 "nothing unpacked: what wharf and skopeo do); ctr unpack is `ctr images pull "
                 "--snapshotter native` (fetch, then every layer unpacked into a snapshot, as "
                 "podman pull into vfs does: it is compared with podman, not with wharf; on A "
                 "only, as the native snapshotter copies each parent snapshot, which on B's 30 "
                 "layers takes minutes). "
                 "wharf RSS growth is the peak VmRSS during the pull "
                 "minus VmRSS before it (worst run).")
    lines.append("")
    lines.append("floor: the least time any client doing wharf's checks could take here "
                 "(bench/floor.py): the CPU time of verifying every layer (SHA-256 of the blob, "
                 "inflate and SHA-256 of the tar for the diff_id; wharf's own code on one "
                 "thread, bench/verify_cost.cc) plus the CPU time docker-registry takes to serve "
                 "the blobs and curl to receive them, over the "
                 f"{os.cpu_count()} cores, and at least the longest layer's verification. "
                 "Storing the bytes is not counted. "
                 "A target whose floor ratio is above it cannot be met on this machine.")
    res.section("Pulls", lines)

    pull_targets(res)
    return image_a


# Issue 25's targets: (image, skopeo, ctr, floor) ratios wharf must stay within.
PULL_TARGETS = [("A", 0.45, 0.3, 1.25), ("B", 0.9, 0.4, 1.25), ("C", 0.3, None, 2.0)]


def pull_targets(res):
    v = res.values
    for label, vs_skopeo, vs_ctr, vs_floor in PULL_TARGETS:
        rs = v.get(f"pull.{label}.ratio_skopeo")
        res.target(f"pull {label} vs skopeo", f"<= {vs_skopeo}x",
                   floor.describe(rs, v.get(f"pull.{label}.floor_skopeo"), vs_skopeo),
                   rs is not None and rs <= vs_skopeo)
        if vs_ctr is not None:
            rc = v.get(f"pull.{label}.ratio_ctr")
            res.target(f"pull {label} vs ctr content fetch", f"<= {vs_ctr}x",
                       floor.describe(rc, v.get(f"pull.{label}.floor_ctr"), vs_ctr),
                       rc is not None and rc <= vs_ctr)
        rf = v.get(f"pull.{label}.ratio_floor")
        res.target(f"pull {label} vs its floor", f"<= {vs_floor}x", fmt_ratio(rf),
                   rf is not None and rf <= vs_floor)
        if label != "C":
            rp = v.get(f"pull.{label}.ratio_podman")
            res.target(f"pull {label} vs podman", "<= 0.25x", fmt_ratio(rp),
                       rp is not None and rp <= 0.25)
            g = v.get(f"pull.{label}.wharf_rss_growth_mib")
            res.target(f"wharfd RSS growth, pull {label}", "<= 32 MiB",
                       "n/a" if g is None else f"{g:.1f} MiB", g is not None and g <= 32)


# --------------------------------------------------------------------------------------------
# API


def measure_api(args, scale, reg, fixtures, res, work):
    n = scale["api_images"]
    # podman loads them with `pull --all-tags`, one process per repository, 4 at once.
    all_tags = [f"bench/api-all{k}" for k in range(4)]
    log(f"generating {n} tiny distinct images (bench/api-NNNN, and as tags of {len(all_tags)} "
        "bench/api-allK repositories)")
    imgs = fixtures.small_images("bench/api", n, 0, all_tags_repos=all_tags)
    wharf_data = os.path.join(work, f"wharf-{n}")
    log(f"loading {n} images into wharf through its API (max_concurrent 16)")
    wharf_load = res.put("api.wharf_load_s", load_wharf(args, reg, imgs, wharf_data))
    log(f"  wharf: {fmt_s(wharf_load)}")

    podman = tools.Podman(reg)
    # podman's storage fsyncs per layer and image: on tmpfs so that loading 1,000 images
    # takes minutes, not tens of minutes. Reads (what is measured) do not touch the disk.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    podman_root = tempfile.mkdtemp(prefix="bench-podman-api-", dir=shm)
    try:
        log(f"loading {n} images into podman ({len(all_tags)} x pull --all-tags at once, "
            f"storage on {shm or 'disk'})")
        t0 = time.monotonic()
        pulls = [subprocess.Popen(tools.Podman.base(podman_root) +
                                  ["pull", "--quiet", "--all-tags", f"{reg.host}/{repo}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=podman.env()) for repo in all_tags]
        for pull in pulls:
            _, err = pull.communicate(timeout=7200)
            if pull.returncode != 0:
                raise RuntimeError(f"podman pull --all-tags failed: {err.decode()[-500:]}")
        podman_load = res.put("api.podman_load_s", time.monotonic() - t0)
        log(f"  podman: {fmt_s(podman_load)}")

        mid = n // 2
        width = max(4, len(str(n - 1)))
        rows = {}
        single = {}
        top_toml, extra_toml, idle_config = idle_server_config(args.wharfd)
        w = tools.Wharf(args.wharfd, reg, top_toml=top_toml,
                        extra_toml=extra_toml).start(data_dir=wharf_data)
        try:
            api = tools.Api(w)
            cookie = [f"Cookie: {api.cookie}"]
            wharf_urls = {
                "list": f"{w.url}/api/v1/image/?from=local",
                "inspect": f"{w.url}/api/v1/image/docker/{imgs[mid].repo}/latest/inspect",
            }
            for url in wharf_urls.values():
                check_200(url, cookie)
            with PodmanService(podman, podman_root) as svc:
                podman_urls = {
                    "list": svc.url("/images/json"),
                    "inspect": svc.url(f"/images/{reg.host}/{all_tags[mid % len(all_tags)]}:"
                                       f"{mid:0{width}d}/json"),
                }
                for url in podman_urls.values():
                    check_200(url)
                listed = json.loads(subprocess.run(["curl", "-s", podman_urls["list"]],
                                                   capture_output=True, text=True).stdout)
                if len(listed) != n:
                    raise RuntimeError(f"podman lists {len(listed)} images, expected {n}")
                for endpoint in ("list", "inspect"):
                    for who, url, hdr in (("wharf", wharf_urls[endpoint], cookie),
                                          ("podman", podman_urls[endpoint], ())):
                        svc.wait_idle()
                        single[(endpoint, who)] = res.put(f"api.{endpoint}.single.{who}_ms",
                                                          one_request_ms(url, hdr))
                    for conns in (8, 32):
                        for who, url, hdr in (("wharf", wharf_urls[endpoint], cookie),
                                              ("podman", podman_urls[endpoint], ())):
                            waited = svc.wait_idle()
                            if waited > 1:
                                log(f"  (podman's service was busy {waited:.1f} s after the "
                                    "last measurement; waited)")
                            r = run_wrk(url, conns, scale["wrk_seconds"], hdr)
                            rows[(endpoint, conns, who)] = r
                            for k, v in r.items():
                                res.put(f"api.{endpoint}.c{conns}.{who}.{k}", v)
                            log(f"  {who} {endpoint} c={conns}: {r['rps']:.0f} req/s, "
                                f"p50 {fmt_ms(r['p50'])}, p99 {fmt_ms(r['p99'])}")
            # podman's service is stopped: wharfd alone, with and without idle connections.
            idle = measure_idle(scale, w, wharf_urls["list"], cookie, res)
            api.close()
        finally:
            w.stop()
    finally:
        tools.Podman.remove(podman_root)
        podman.close()

    lines = ["| request | conns | wharf req/s | podman req/s | wharf/podman | wharf p50 | "
             "wharf p99 | podman p50 | podman p99 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for endpoint in ("list", "inspect"):
        for conns in (8, 32):
            wr, pr = rows[(endpoint, conns, "wharf")], rows[(endpoint, conns, "podman")]
            x = ratio(wr["rps"], pr["rps"]) if pr["rps"] > 0 else float("inf")
            res.put(f"api.{endpoint}.c{conns}.ratio", x)
            late = f" ({pr['timeouts']} timed out)" if pr["timeouts"] else ""
            lines.append(f"| {endpoint} | {conns} | {wr['rps']:.0f} | {pr['rps']:.0f} | "
                         f"{fmt_ratio(x)} | {fmt_ms(wr['p50'])} | {fmt_ms(wr['p99'])} | "
                         f"{fmt_ms(pr['p50'])} | {fmt_ms(pr['p99'])}{late} |")
    lines += ["", "One request at a time (curl, median of up to 3): " + "; ".join(
        f"{endpoint} wharf {fmt_ms(single[(endpoint, 'wharf')])}, podman "
        f"{fmt_ms(single[(endpoint, 'podman')])}" for endpoint in ("list", "inspect")) + "."]
    lines += ["", f"{n} distinct images in each. wharf: `GET /api/v1/image/?from=local` and "
              f"`GET /api/v1/image/docker/NAME/latest/inspect` with the session cookie; podman "
              f"{podman_version()}: `GET /v1.41/images/json` and `/v1.41/images/NAME/json` on "
              f"`podman system service`. wrk, {scale['wrk_seconds']} s per cell, 2 threads. "
              f"Loading them took wharf {fmt_s(wharf_load)} (pulls through the API, 16 at once) "
              f"and podman {fmt_s(podman_load)} (`pull --all-tags`, 4 at once, storage on tmpfs)."]
    lines += [""] + idle_lines(idle, n, scale, idle_config)
    res.section(f"API with {n} images", lines)
    for endpoint in ("list", "inspect"):
        x = res.values[f"api.{endpoint}.c32.ratio"]
        p99 = res.values[f"api.{endpoint}.c32.wharf.p99"]
        res.target(f"{endpoint}, {n} images, vs podman req/s (32 conns)", ">= 20x",
                   fmt_ratio(x), x is not None and x >= 20)
        res.target(f"{endpoint}, {n} images, p99 at 32 conns", "<= 10 ms", fmt_ms(p99),
                   p99 is not None and p99 <= 10)
    x, held = idle["ratio_rps"], idle["held"] >= idle["conns"]
    measured = fmt_ratio(x) + (f" (p99 {fmt_ratio(idle['ratio_p99'])})"
                               if idle["med"]["with"]["rps"] else "")
    if not held:
        measured += f"; only {idle['held']} of {idle['conns']} idle connections held"
    res.target(f"list, {n} images, 32 conns, req/s with {idle['conns']} idle connections "
               "vs without", ">= 0.9x", measured, held and x is not None and x >= 0.9)
    return imgs, wharf_data


# The idle-connections row: what wharfd's config needs for 1,000 idle connections from one
# address to be held (table, key, value, why), each added only if this binary knows it (the
# parsing is strict; the cpp-httplib server knows none of the [http] keys, the Beast server
# all of them).
IDLE_CONFIG = [
    ("", "max_connections", 4096, "the total limit (the cpp-httplib server's default is 256)"),
    ("http", "max_connections_per_client", 2048, "all 1,000 come from 127.0.0.2 (default 64)"),
    ("http", "header_timeout_s", 120, "they never finish their headers (default 10 s)"),
    ("http", "idle_timeout_s", 120, "they never send a request (default 30 s)"),
]


def idle_server_config(binary):
    """(top-level TOML, [http] table TOML, [(key, value, accepted)]) for the bench's wharfd."""
    top, http, seen = [], [], []
    for table, key, value, _ in IDLE_CONFIG:
        ok = tools.config_accepts(binary, table, key, value)
        seen.append((f"{table}.{key}" if table else key, value, ok))
        if ok:
            (http if table else top).append(f"{key} = {value}")
    extra = "\n".join(["", "[http]"] + http) if http else ""
    return "\n".join(top), extra, seen


def wharfd_connections_from(pid, address):
    """TCP connections wharfd has accepted (open file descriptors, not those still in the
    listen backlog) from IPv4 `address`; None once wharfd is gone."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        with open(f"/proc/{pid}/net/tcp") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return None
    # /proc/net/tcp: "sl local rem st ... inode", addresses as little-endian hex "0200007F:C350".
    want = "".join(f"{int(b):02X}" for b in reversed(address.split(".")))
    return sum(1 for line in lines
               if (f := line.split()) and f[2].split(":")[0] == want and f[9] in inodes)


IDLE_SOURCE = "127.0.0.2"  # another client address than wrk's 127.0.0.1


def measure_idle(scale, w, url, cookie, res):
    """wrk on the local listing (32 connections, as in the table) without and with
    scale["idle_conns"] idle connections from 127.0.0.2, in ABBA order; medians of
    scale["idle_pairs"] runs each. Returns the figures the row and the target show."""
    conns, count, seconds = 32, scale["idle_conns"], scale["wrk_seconds"]
    pid = w.proc.pid
    port = int(w.listen.rsplit(":", 1)[1])
    runs = {"without": [], "with": []}
    held, accepted, reopened, failed = count, count, 0, 0

    def without():
        r = run_wrk(url, conns, seconds, cookie)
        runs["without"].append(r)
        log(f"  wharf list c={conns}, no idle connections: {r['rps']:.0f} req/s, "
            f"p99 {fmt_ms(r['p99'])}")

    def with_idle(times):
        nonlocal held, accepted, reopened, failed
        with IdleConnections("127.0.0.1", port, count, source=IDLE_SOURCE) as idle:
            # How many of them wharfd accepted (not those still in the listen backlog): wrk
            # starts once it has them all, or after 10 s.
            t_end = time.monotonic() + 10
            while True:
                now = wharfd_connections_from(pid, IDLE_SOURCE) or 0
                if now >= idle.open_now() or time.monotonic() > t_end:
                    break
                time.sleep(0.05)
            accepted = min(accepted, now)
            for _ in range(times):
                idle.min_open = idle.open_now()
                r = run_wrk(url, conns, seconds, cookie, strict=False)
                runs["with"].append(r)
                held = min(held, idle.min_open, idle.open_now())
                accepted = min(accepted, wharfd_connections_from(pid, IDLE_SOURCE) or 0)
                log(f"  wharf list c={conns}, {idle.open_now()} of {count} idle connections "
                    f"open (fewest {idle.min_open}, {idle.reopened} re-opened; wharfd "
                    f"accepted {accepted}): {r['rps']:.0f} req/s, p99 {fmt_ms(r['p99'])}"
                    + (f", {r['errors']} socket errors, {r['non2xx']} non-2xx"
                       if r["errors"] or r["non2xx"] else ""))
            reopened, failed = reopened + idle.reopened, failed + idle.failed
        # Until wharfd has noticed they are gone (bounded), so that "without" is without.
        t_end = time.monotonic() + 10
        while time.monotonic() < t_end and wharfd_connections_from(pid, IDLE_SOURCE):
            time.sleep(0.1)

    for _ in range(scale["idle_pairs"] // 2):  # A B B A
        without()
        with_idle(2)
        without()
    if scale["idle_pairs"] % 2:
        without()
        with_idle(1)
    med = {who: {k: median([r[k] for r in rs]) for k in ("rps", "p50", "p99")}
           for who, rs in runs.items()}
    out = {"conns": count, "held": max(0, min(held, accepted)), "accepted": accepted,
           "reopened": reopened, "failed": failed, "med": med,
           "errors": sum(r["errors"] + r["non2xx"] for r in runs["with"]),
           "timeouts": sum(r["timeouts"] for r in runs["with"]),
           "ratio_rps": ratio(med["with"]["rps"], med["without"]["rps"]),
           "ratio_p99": ratio(med["with"]["p99"], med["without"]["p99"])}
    for who in med:
        for k, v in med[who].items():
            res.put(f"api.list.idle.{who}.{k}", v)
    for k in ("held", "accepted", "reopened", "errors", "timeouts", "ratio_rps", "ratio_p99"):
        res.put(f"api.list.idle.{k}", out[k])
    return out


def idle_lines(idle, n, scale, config):
    m = idle["med"]
    lines = ["| request | conns | idle connections | req/s without | req/s with | with/without | "
             "p99 without | p99 with | with/without |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
             f"| list | 32 | {idle['conns']} (held: {idle['held']}) | {m['without']['rps']:.0f} | "
             f"{m['with']['rps']:.0f} | {fmt_ratio(idle['ratio_rps'])} | "
             f"{fmt_ms(m['without']['p99'])} | "
             + (f"{fmt_ms(m['with']['p99'])} | {fmt_ratio(idle['ratio_p99'])} |"
                if m["with"]["rps"] else "none answered | n/a |")]
    set_keys = ", ".join(f"`{k} = {v}`" for k, v, ok in config if ok)
    refused = ", ".join(f"`{k}`" for k, v, ok in config if not ok)
    lines += ["", f"Idle connections: {idle['conns']} TCP connections to wharfd from 127.0.0.2 "
              "(another client address than wrk's), half sending nothing, half a request line "
              "and one header and then nothing, held open while wrk measures the listing of "
              f"{n} images (32 connections, {scale['wrk_seconds']} s); without them, the same "
              f"wrk run; " + (f"medians of {scale['idle_pairs']} runs each, in ABBA order. "
                              if scale["idle_pairs"] > 1 else "one run each. ") +
              f"held: the fewest of them open during wrk and accepted by wharfd (its file "
              f"descriptors); {idle['reopened']} were re-opened after wharfd closed them, "
              f"{idle['failed']} connects failed; with them, wrk saw {idle['errors']} errors "
              f"and {idle['timeouts']} timeouts. wharfd's config: "
              f"{set_keys or 'no key added'}"
              + (f" ({refused}: unknown to this wharfd, so its own limits applied; the "
                 "cpp-httplib server has no [http] table)" if refused else "") + "."]
    return lines


def podman_version():
    try:
        return subprocess.run(["podman", "--version"], capture_output=True, text=True,
                              timeout=30).stdout.split()[-1]
    except Exception:
        return "?"


# --------------------------------------------------------------------------------------------
# Scaling


def clone_images(data_dir, copies):
    """The documented 10k loader: adds `copies` renamed copies of every image row
    (name-cK, same manifest and blobs, blob edges included) to a stopped wharfd's
    SQLite store, in one transaction. The blobs are already in the store, so each
    copy is a complete image; the caller then verifies the store through the API
    (listing count and an inspect of a copy). Used only where pulling 9,000 more
    images would take longer than the whole bench budget."""
    db = sqlite3.connect(os.path.join(data_dir, "wharf.db"))
    try:
        rows = db.execute("SELECT * FROM images").fetchall()
        columns = [d[0] for d in db.execute("SELECT * FROM images LIMIT 0").description]
        edges = {}
        for image_id, digest in db.execute("SELECT image_id, digest FROM image_blobs"):
            edges.setdefault(image_id, []).append(digest)
        ci = {c: i for i, c in enumerate(columns)}
        insert_cols = [c for c in columns if c != "id"]
        sql = (f"INSERT INTO images ({', '.join(insert_cols)}) "
               f"VALUES ({', '.join('?' for _ in insert_cols)})")
        with db:
            for k in range(1, copies + 1):
                for row in rows:
                    values = {c: row[ci[c]] for c in insert_cols}
                    values["name"] = f"{values['name']}-c{k}"
                    values["display_name"] = f"{values['display_name']}-c{k}"
                    cur = db.execute(sql, [values[c] for c in insert_cols])
                    db.executemany("INSERT INTO image_blobs (image_id, digest) VALUES (?, ?)",
                                   [(cur.lastrowid, d) for d in edges.get(row[ci["id"]], [])])
    finally:
        db.close()


def measure_start(args, reg, data_dir, runs):
    """Medians of: seconds from exec to /healthz answering, idle RSS (KiB) after start,
    and its anonymous part (RssAnon: wharfd's own memory, without the shared libraries'
    code pages)."""
    starts, rss, anon = [], [], []
    for _ in range(runs):
        wd = harness.Wharfd(reg.url, binary=args.wharfd, data_dir=data_dir)
        wd.admin_password = tools.ADMIN_PASSWORD
        os.makedirs(wd.data_dir, exist_ok=True)
        wd.write_config()
        with open(wd.log_path, "ab") as logf:
            t0 = time.monotonic()
            wd.proc = subprocess.Popen(wd.command(), stdout=logf, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=wd.env())
            try:
                tools.wait_http(wd.url + "/healthz", 60, wd.proc, interval=0.001)
                starts.append(time.monotonic() - t0)
                time.sleep(0.5)
                rss.append(tools.rss_kib(wd.proc.pid))
                anon.append(tools.rss_kib(wd.proc.pid, "RssAnon"))
            finally:
                harness.stop_process(wd.proc)
                shutil.rmtree(wd.tmp, ignore_errors=True)
    measure_start.last_anon = median(anon)
    return median(starts), median(rss)


def measure_scaling(args, scale, reg, fixtures, res, work, api_images, api_data):
    counts = scale["scale_counts"]
    n_api = len(api_images)
    rows = []
    # Idle RSS of an empty wharfd.
    empty = os.path.join(work, "wharf-empty")
    _, empty_rss = measure_start(args, reg, empty, scale["start_runs"])
    res.put("scale.idle_rss_empty_mib", empty_rss / 1024)
    empty_anon = res.put("scale.idle_rss_anon_empty_mib", measure_start.last_anon / 1024)
    for count in counts:
        data = os.path.join(work, f"wharf-scale-{count}")
        how = ""
        if count <= n_api:
            if count == n_api:
                shutil.copytree(api_data, data, symlinks=True)
                how = "pulled through the API"
            else:
                load_wharf(args, reg, api_images[:count], data)
                how = "pulled through the API"
        else:
            copies = -(-count // n_api) - 1
            shutil.copytree(api_data, data, symlinks=True)
            clone_images(data, copies)
            how = f"{n_api} pulled + renamed copies of their records (bench/run.py clone_images)"
        total = None
        w = tools.Wharf(args.wharfd, reg).start(data_dir=data)
        try:
            api = tools.Api(w)
            status, body = api.call("GET", "/api/v1/image/?from=local")
            total = body["total_count"]
            if status != 200 or total < count:
                raise RuntimeError(f"wharf lists {total} images, expected >= {count}")
            # A copy of a record must be a whole image: inspect one through the API.
            probe = body["results"][-1]["name"]
            status, view = api.call("GET", f"/api/v1/image/docker/{probe}/latest/inspect")
            if status != 200 or not view.get("Id"):
                raise RuntimeError(f"inspect {probe} -> {status} {view}")
            lat = run_wrk(f"{w.url}/api/v1/image/?from=local", 1, scale["list_seconds"],
                          [f"Cookie: {api.cookie}"])
            api.close()
        finally:
            w.stop()
        start_s, idle_rss = measure_start(args, reg, data, scale["start_runs"])
        shutil.rmtree(data, ignore_errors=True)
        res.put(f"scale.{count}.list_p50_ms", lat["p50"])
        res.put(f"scale.{count}.list_p99_ms", lat["p99"])
        res.put(f"scale.{count}.start_s", start_s)
        res.put(f"scale.{count}.idle_rss_mib", idle_rss / 1024)
        rows.append((total, how, lat, start_s, idle_rss))
        log(f"  {total} images: list p50 {fmt_ms(lat['p50'])} p99 {fmt_ms(lat['p99'])}, "
            f"start {fmt_s(start_s)}, idle RSS {idle_rss / 1024:.1f} MiB")

    lines = ["| images | list p50 | list p99 | wharfd start (to /healthz) | idle RSS | loaded by |",
             "| --- | --- | --- | --- | --- | --- |"]
    for total, how, lat, start_s, idle_rss in rows:
        lines.append(f"| {total} | {fmt_ms(lat['p50'])} | {fmt_ms(lat['p99'])} | {fmt_s(start_s)} | "
                     f"{idle_rss / 1024:.1f} MiB | {how} |")
    lines += ["", f"Idle RSS of an empty wharfd: {empty_rss / 1024:.1f} MiB, of which "
              f"{empty_anon:.1f} MiB anonymous (its own memory; the rest are the shared "
              "libraries' code pages). Listing latency: wrk, "
              f"1 connection, {scale['list_seconds']} s; start: median of {scale['start_runs']} "
              "starts, exec to the first 200 from /healthz (polled every millisecond)."]
    res.section("Scaling with the number of images", lines)
    big = counts[-1]
    l10 = res.values.get(f"scale.{big}.list_p50_ms")
    s10 = res.values.get(f"scale.{big}.start_s")
    res.target(f"list with {rows[-1][0]} images (p50)", "<= 30 ms", fmt_ms(l10),
               l10 is not None and l10 <= 30)
    res.target(f"wharfd start with {rows[-1][0]} images", "<= 200 ms", fmt_s(s10),
               s10 is not None and s10 <= 0.2)
    res.target("idle RSS (empty store)", "<= 16 MiB", f"{empty_rss / 1024:.1f} MiB",
               empty_rss / 1024 <= 16)

    # Pull time and memory against image size.
    size_rows = []
    wharf = tools.Wharf(args.wharfd, reg, data_parent=work)
    curl = tools.Curl(reg)
    for layers, layer_size in scale["sizes"]:
        total = layers * layer_size
        log(f"size series: {layers} x {human_bytes(layer_size)} incompressible")
        image = fixtures.incompressible(f"bench/size-{total // MiB}m", layers, layer_size)
        curl.pull([image])
        wt, ct, growth = [], [], []
        for _ in range(scale["size_runs"]):
            wt.append(wharf.pull([image]))
            idle, peak = wharf.last_rss
            growth.append((peak - idle) / 1024)
            ct.append(curl.pull([image]))
        w, c = median(wt), median(ct)
        res.put(f"size.{total}.wharf_s", w)
        res.put(f"size.{total}.curl_s", c)
        res.put(f"size.{total}.rss_growth_mib", max(growth))
        size_rows.append((total, w, c, max(growth), wharf.last_rss[1] / 1024))
        log(f"  {human_bytes(total)}: wharf {fmt_s(w)}, curl {fmt_s(c)}, "
            f"RSS growth {max(growth):.1f} MiB")
        fixtures.drop_files(image)
    lines = ["| image | wharf pull | curl (wire) | wharf/curl | wharf MiB/s | RSS growth | peak RSS |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for total, w, c, growth, peak in size_rows:
        lines.append(f"| {human_bytes(total)} | {fmt_s(w)} | {fmt_s(c)} | {fmt_ratio(ratio(w, c))} | "
                     f"{total / MiB / w:.0f} | {growth:.1f} MiB | {peak:.1f} MiB |")
    lines += ["", f"Incompressible 64 MiB layers (1 MiB in --tiny); median of {scale['size_runs']} "
              "runs; growth is the peak VmRSS during the pull minus VmRSS before it (worst run)."]
    res.section("Pull time and memory against image size", lines)
    g = max(r[3] for r in size_rows)
    res.target(f"wharfd RSS growth up to {human_bytes(size_rows[-1][0])}", "<= 32 MiB",
               f"{g:.1f} MiB", g <= 32)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="tiny sizes (also WHARF_BENCH_SCALE=tiny)")
    p.add_argument("--runs", type=int, help="runs per pull measurement (default 9; 1 with --tiny)")
    p.add_argument("--only", default="pulls,api,scaling,serve,export,import,memory,wan",
                   help="comma-separated sections: pulls, api, scaling, serve, export, import, "
                        "memory, wan")
    p.add_argument("--out", default=str(HERE / "results" / "latest.md"))
    p.add_argument("--no-summary", dest="summary", action="store_false",
                   help="do not append to BENCHMARKS.md")
    p.add_argument("--check", action="store_true",
                   help="fail unless every measurement produced a number (for make test)")
    p.add_argument("--wharfd", default=os.environ.get("WHARFD") or str(REPO / "build" / "wharfd"))
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--verify-cost", default=os.environ.get("WHARF_VERIFY_COST"),
                   help="wharf-verify-cost binary (default: bench/ beside --wharfd)")
    args = p.parse_args()

    scale_name = "tiny" if args.tiny or os.environ.get("WHARF_BENCH_SCALE") == "tiny" else "full"
    scale = SCALES[scale_name]
    args.runs = args.runs or scale["runs"]
    if args.tiny or scale_name == "tiny":
        args.summary = args.summary and not args.check
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    if not Path(args.wharfd).exists():
        raise SystemExit(f"bench: no wharfd at {args.wharfd} (build it, or set WHARFD)")
    args.verify_cost = args.verify_cost or str(Path(args.wharfd).parent / "bench" /
                                               "wharf-verify-cost")
    if not Path(args.verify_cost).exists():
        raise SystemExit(f"bench: no wharf-verify-cost at {args.verify_cost} (build it, or "
                         "pass --verify-cost)")
    for tool in ("docker-registry", "skopeo", "podman", "curl", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} is not installed (scripts/deps installs it)")

    t_start = time.monotonic()
    res = Results()
    work = tempfile.mkdtemp(prefix="wharf-bench-")
    log(f"scale {scale_name}, {args.runs} runs, wharfd {args.wharfd}, work dir {work}")
    try:
        with harness.Registry() as reg:
            fixtures = fx.FixtureSet(reg.host, workdir=os.path.join(work, "fixtures"))
            os.makedirs(fixtures.work, exist_ok=True)
            api_images = api_data = None
            for section in sections:
                try:
                    if section == "pulls":
                        measure_pulls(args, scale, reg, fixtures, res, work)
                    elif section == "api":
                        api_images, api_data = measure_api(args, scale, reg, fixtures, res, work)
                    elif section == "scaling":
                        if api_images is None:
                            n = scale["api_images"]
                            api_images = fixtures.small_images("bench/api", n, 0)
                            api_data = os.path.join(work, f"wharf-{n}")
                            load_wharf(args, reg, api_images, api_data)
                        measure_scaling(args, scale, reg, fixtures, res, work, api_images,
                                        api_data)
                    elif section == "serve":
                        serve.measure_serve(args, scale, reg, fixtures, res, work)
                    elif section == "export":
                        export.measure_export(args, scale, reg, fixtures, res, work)
                    elif section == "import":
                        imports.measure_import(args, scale, reg, fixtures, res, work)
                    elif section == "wan":
                        wan.measure_wan(args, scale, reg, fixtures, res, work)
                    elif section == "memory":
                        memory.measure_memory(args, scale, reg, fixtures, res, work)
                    else:
                        raise SystemExit(f"bench: unknown section {section}")
                except (RuntimeError, TimeoutError, subprocess.SubprocessError, OSError) as e:
                    traceback.print_exc()
                    res.failures.append(f"{section}: {e}")
                    if args.check:
                        break
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t_start
    if res.targets:
        print("\n## Targets")
        for measure, target, measured, met in res.targets:
            print(f"  {'ok ' if met else 'NO '} {measure}: {measured} (target {target})")
    write_outputs(res, scale_name, args, elapsed)
    if args.check:
        check_numbers(res, args.out)
    elif res.failures:
        raise SystemExit(f"bench: {len(res.failures)} section(s) failed: {res.failures}")


if __name__ == "__main__":
    main()
