"""The export section of the bench: an image archive out of wharf over HTTP against reading
the image's blobs from the store with `cat`, in the same run.

  http  `curl -o /dev/null` of GET /api/v1/image/docker/NAME/latest/export (the docker
        format: manifest.json, the config and the layers as stored, with their tar headers),
        with the session cookie, over loopback;
  cat   `cat` of the same config and layer files of wharf's store > /dev/null: the floor of
        any copy of them, without HTTP, tar framing or a socket;
  v2    one curl fetching the same blobs one after the other from wharf's /v2/ (sendfile, as
        the export's file parts go) to /dev/null: the same bytes over the same loopback
        socket and client, without the archive, so what the tar itself costs.

After a warm-up of each (both read from the page cache), in alternating order; MB/s per
round (10^6 bytes a second; the archive's bytes for http, the blobs' for the others), median
over the rounds, and the ratios (target export/cat >= 0.9x: the export is a streaming copy).
"""

import os
import shutil
import subprocess
import time

import floor
import tools
from report import fmt_ratio, human_bytes, log, median, ratio
from serve import rotate

MB = 1000 * 1000
REPO_NAME = "bench/export"


def curl_export(url, cookie):
    """(seconds, bytes) of one export to /dev/null."""
    cmd = ["curl", "--silent", "--show-error", "-H", f"Cookie: {cookie}", "-o", "/dev/null",
           "--write-out", "%{http_code} %{size_download}", url]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - t0
    code, size = (out.stdout.split() + ["", "0"])[:2]
    if out.returncode != 0 or code != "200":
        raise RuntimeError(f"export: curl {out.returncode}, HTTP {code}: {out.stderr[-300:]}")
    return seconds, int(size)


def curl_blobs(urls):
    """(seconds, bytes) of one curl fetching every URL in turn to /dev/null."""
    cmd = ["curl", "--silent", "--show-error", "--write-out", "%{http_code} %{size_download}\\n"]
    for u in urls:
        cmd += ["-o", "/dev/null", u]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - t0
    words = out.stdout.split()
    if out.returncode != 0 or set(words[0::2]) != {"200"}:
        raise RuntimeError(f"/v2/ blobs: curl {out.returncode} {words}: {out.stderr[-300:]}")
    return seconds, sum(int(n) for n in words[1::2])


def cat_blobs(paths):
    """(seconds, bytes) of `cat` of every file to /dev/null."""
    t0 = time.monotonic()
    with open(os.devnull, "wb") as null:
        subprocess.run(["cat", *paths], stdout=null, check=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    return time.monotonic() - t0, sum(os.path.getsize(p) for p in paths)


def measure_export(args, scale, reg, fixtures, res, work):
    layers, layer_size = scale["export"]
    rounds = args.runs
    log(f"generating {REPO_NAME}: {layers} x {human_bytes(layer_size)} incompressible")
    image = fixtures.incompressible(REPO_NAME, layers, layer_size)
    data = os.path.join(work, "wharf-export")
    w = tools.Wharf(args.wharfd, reg, extra_toml="\n[serve]\nanonymous = true\n").start(
        data_dir=data)
    try:
        api = tools.Api(w)
        log("downloading it into wharf through its API")
        tools.pull_through_api(api, [image], timeout=1800)
        fixtures.drop_files(image)
        digests = [image.config.digest] + [b.digest for b in image.layers]
        blobs = [os.path.join(data, "blobs", "sha256", d.split(":", 1)[1]) for d in digests]
        urls = [f"{w.url}/v2/{REPO_NAME}/blobs/{d}" for d in digests]
        url = f"{w.url}/api/v1/image/docker/{REPO_NAME}/latest/export"
        sides = {"http": lambda: curl_export(url, api.cookie), "cat": lambda: cat_blobs(blobs),
                 "v2": lambda: curl_blobs(urls)}
        for run in sides.values():
            run()  # warm-up: the page cache, the connection path
        rates = {name: [] for name in sides}
        sizes = {}
        cpu = []
        for r in range(rounds):
            for name in rotate(list(sides), r):
                cpu0 = floor.process_cpu_s(w.proc.pid) if name == "http" else 0
                seconds, got = sides[name]()
                if name == "http":
                    cpu.append((floor.process_cpu_s(w.proc.pid) - cpu0) / (got / (1 << 30)))
                rates[name].append(got / MB / seconds)
                sizes[name] = got
            log(f"  export round {r + 1}: " + ", ".join(
                f"{n} {rates[n][-1]:.0f} MB/s" for n in rates))
        api.close()
    except Exception:
        print(w.log())
        raise
    finally:
        w.stop()
        shutil.rmtree(data, ignore_errors=True)

    http = res.put("export.http_mbs", median(rates["http"]))
    cat = res.put("export.cat_mbs", median(rates["cat"]))
    v2 = res.put("export.v2_mbs", median(rates["v2"]))
    x = res.put("export.ratio", ratio(http, cat))
    xv = res.put("export.ratio_v2", ratio(http, v2))
    wharf_cpu = res.put("export.wharfd_cpu_s_gib", median(cpu))
    lines = ["| measure | wharf export (HTTP) | cat of the blobs | the blobs from /v2/ | "
             "export/cat | export//v2/ | wharfd CPU (export) |",
             "| --- | --- | --- | --- | --- | --- | --- |",
             f"| throughput | {http:.0f} MB/s | {cat:.0f} MB/s | {v2:.0f} MB/s | {fmt_ratio(x)} | "
             f"{fmt_ratio(xv)} | {wharf_cpu:.2f} s/GiB |",
             "",
             f"The image: {layers} incompressible layers of {human_bytes(layer_size)}, downloaded "
             "into wharf through its API. export: `curl -o /dev/null` of "
             f"`GET /api/v1/image/docker/{REPO_NAME}/latest/export` (docker format, "
             f"{human_bytes(sizes['http'])} with manifest.json and the tar headers) over "
             f"loopback with the session cookie; cat: `cat` of the config and layer files of the "
             f"store ({human_bytes(sizes['cat'])}) > /dev/null; /v2/: one curl fetching the same "
             "blobs in turn from wharf's `/v2/` (`[serve] anonymous = true`) to /dev/null. "
             f"Median of {rounds} rounds after "
             "a warm-up of each, taking turns, both from the page cache; MB/s = 10^6 bytes a "
             "second; wharfd CPU: its user + system time per GiB sent (from /proc)."]
    res.section("Image export against cat of its blobs", lines)
    res.target("image export over HTTP vs cat of its blobs", ">= 0.9x", fmt_ratio(x),
               x is not None and x >= 0.9)
