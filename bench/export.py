"""The export section of the bench: an image archive out of wharf against reading the image's
blobs from the store with `cat`, in the same run, written where a user writes an export (a
file) and, as before, to /dev/null.

To a file on the bench's work dir (the same filesystem for every side), fsynced:
  save      `wharf save -o FILE NAME`, the shipped client, logged in with a private HOME
            (`wharf login --server URL -u admin --password-stdin`): GET
            /api/v1/image/export?format=docker&image=NAME over loopback into a temp file
            beside FILE, fsync, rename to FILE, fsync of the directory;
  cat-file  `cat` of the image's config and layer files of wharf's store > FILE2, then an
            fsync of FILE2 (by the bench, on the fd cat wrote through): the floor of any
            copy of those bytes to a durable file, without HTTP, tar framing or a socket;
  curl-file `curl -o FILE3` of GET /api/v1/image/docker/NAME/latest/export with the session
            cookie, then an fsync of FILE3: the same download by a generic client.
  Each output file is removed after its measurement and a sync done before each of these
  sides, so that no side pays for another's writeback.

To /dev/null (the earlier figures: what the transfer costs without the disk):
  http      `curl -o /dev/null` of the same GET /api/v1/image/docker/NAME/latest/export;
  cat       `cat` of the same config and layer files > /dev/null;
  v2        one curl fetching the same blobs one after the other from wharf's /v2/
            (sendfile, as the export's file parts go) to /dev/null: the same bytes over the
            same loopback socket and client, without the archive, so what the tar costs.

After a warm-up of each (the store's blobs are read from the page cache by every side), in
an order that changes every round (rotated, and reversed on odd rounds, so that each side
runs before and after each other one); MB/s per round (10^6 bytes a second; the archive's
bytes for save, curl-file and http, the blobs' for the others), median over the rounds, and
the ratios. Target: save/cat-file >= 0.9x (the export is a streaming copy).
"""

import os
import resource
import shutil
import subprocess
import tempfile
import time

import floor
import tools
from report import fmt_ratio, human_bytes, log, median, ratio
from serve import rotate

MB = 1000 * 1000
GiB = 1 << 30
REPO_NAME = "bench/export"
FILE_SIDES = ("save", "cat-file", "curl-file")


class Cli:
    """The wharf CLI with its own HOME (its own saved session), as tests/integration's
    test_cli.py runs it."""

    def __init__(self, binary, parent):
        self.binary = binary
        self.home = tempfile.mkdtemp(prefix="wharf-cli-home-", dir=parent)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("XDG_CONFIG_HOME", "WHARF_SERVER")}
        env["HOME"] = self.home
        return env

    def run(self, *args, input=None, timeout=600):
        return subprocess.run([self.binary, *args], input=input, capture_output=True, text=True,
                              timeout=timeout, env=self.env(),
                              stdin=subprocess.DEVNULL if input is None else None)

    def login(self, url, password):
        out = self.run("login", "--server", url, "-u", "admin", "--password-stdin",
                       input=password + "\n", timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"wharf login: exit {out.returncode}: {out.stderr[-300:]}")

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)


def cli_binary(args):
    path = os.environ.get("WHARF") or os.path.join(os.path.dirname(args.wharfd), "wharf")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"export: no wharf CLI at {path} (build the wharf target, or set "
                           "WHARF)")
    return path


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def curl_export(url, cookie, out="/dev/null"):
    """(seconds, bytes) of one export to `out`; a file is fsynced before the clock stops."""
    cmd = ["curl", "--silent", "--show-error", "-H", f"Cookie: {cookie}", "-o", out,
           "--write-out", "%{http_code} %{size_download}", url]
    t0 = time.monotonic()
    got = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    if got.returncode == 0 and out != "/dev/null":
        fsync_path(out)
    seconds = time.monotonic() - t0
    code, size = (got.stdout.split() + ["", "0"])[:2]
    if got.returncode != 0 or code != "200":
        raise RuntimeError(f"export: curl {got.returncode}, HTTP {code}: {got.stderr[-300:]}")
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


def cat_blobs(paths, out=None):
    """(seconds, bytes) of `cat` of every file to /dev/null, or into a new file `out` and an
    fsync of it (on the descriptor cat wrote through) before the clock stops."""
    t0 = time.monotonic()
    if out is None:
        with open(os.devnull, "wb") as null:
            subprocess.run(["cat", *paths], stdout=null, check=True, timeout=600,
                           stdin=subprocess.DEVNULL)
    else:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            subprocess.run(["cat", *paths], stdout=fd, check=True, timeout=600,
                           stdin=subprocess.DEVNULL)
            os.fsync(fd)
        finally:
            os.close(fd)
    return time.monotonic() - t0, sum(os.path.getsize(p) for p in paths)


def cli_save(cli, name, out):
    """(seconds, bytes) of `wharf save -o out name` (which fsyncs and renames itself)."""
    t0 = time.monotonic()
    got = cli.run("save", "-o", out, name)
    seconds = time.monotonic() - t0
    if got.returncode != 0:
        raise RuntimeError(f"wharf save: exit {got.returncode}: {got.stderr[-300:]}")
    return seconds, os.path.getsize(out)


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def order(names, r):
    """Round r's order: rotated by r, reversed on odd rounds."""
    o = rotate(list(names), r)
    return o[::-1] if r % 2 else o


def measure_export(args, scale, reg, fixtures, res, work):
    layers, layer_size = scale["export"]
    rounds = args.runs
    cli_path = cli_binary(args)
    log(f"generating {REPO_NAME}: {layers} x {human_bytes(layer_size)} incompressible")
    image = fixtures.incompressible(REPO_NAME, layers, layer_size)
    data = os.path.join(work, "wharf-export")
    outdir = os.path.join(work, "export-out")
    os.makedirs(outdir, exist_ok=True)
    outputs = {"save": os.path.join(outdir, "saved.tar"),
               "cat-file": os.path.join(outdir, "cat.out"),
               "curl-file": os.path.join(outdir, "curl.tar")}
    w = tools.Wharf(args.wharfd, reg, extra_toml="\n[serve]\nanonymous = true\n").start(
        data_dir=data)
    cli = Cli(cli_path, work)
    try:
        api = tools.Api(w)
        log("downloading it into wharf through its API")
        tools.pull_through_api(api, [image], timeout=1800)
        fixtures.drop_files(image)
        cli.login(w.url, w.admin_password)
        digests = [image.config.digest] + [b.digest for b in image.layers]
        blobs = [os.path.join(data, "blobs", "sha256", d.split(":", 1)[1]) for d in digests]
        urls = [f"{w.url}/v2/{REPO_NAME}/blobs/{d}" for d in digests]
        url = f"{w.url}/api/v1/image/docker/{REPO_NAME}/latest/export"
        sides = {
            "save": lambda: cli_save(cli, REPO_NAME, outputs["save"]),
            "cat-file": lambda: cat_blobs(blobs, outputs["cat-file"]),
            "curl-file": lambda: curl_export(url, api.cookie, outputs["curl-file"]),
            "http": lambda: curl_export(url, api.cookie),
            "cat": lambda: cat_blobs(blobs),
            "v2": lambda: curl_blobs(urls),
        }
        serves = {"save", "curl-file", "http", "v2"}

        def one(name):
            if name in FILE_SIDES:
                remove(outputs[name])
                os.sync()  # the previous side's writeback and unlink, before the clock
            cpu0 = floor.process_cpu_s(w.proc.pid) if name in serves else 0
            child0 = children_cpu_s()
            seconds, got = sides[name]()
            gib = got / GiB
            server = (floor.process_cpu_s(w.proc.pid) - cpu0) / gib if name in serves else None
            client = (children_cpu_s() - child0) / gib
            if name in FILE_SIDES:
                remove(outputs[name])
            return seconds, got, server, client

        for name in sides:
            one(name)  # warm-up: the page cache, the connection path, the binaries
        rates = {name: [] for name in sides}
        server_cpu = {name: [] for name in serves}
        client_cpu = {name: [] for name in sides}
        sizes = {}
        for r in range(rounds):
            for name in order(sides, r):
                seconds, got, server, client = one(name)
                rates[name].append(got / MB / seconds)
                sizes[name] = got
                client_cpu[name].append(client)
                if server is not None:
                    server_cpu[name].append(server)
            log(f"  export round {r + 1}: " + ", ".join(
                f"{n} {rates[n][-1]:.0f} MB/s" for n in rates))
        api.close()
    except Exception:
        print(w.log())
        raise
    finally:
        w.stop()
        cli.close()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(outdir, ignore_errors=True)

    def mbs(name):
        return median(rates[name])

    save = res.put("export.file.save_mbs", mbs("save"))
    cat_file = res.put("export.file.cat_mbs", mbs("cat-file"))
    curl_file = res.put("export.file.curl_mbs", mbs("curl-file"))
    xf = res.put("export.file.ratio", ratio(save, cat_file))
    xc = res.put("export.file.ratio_curl", ratio(curl_file, cat_file))
    http = res.put("export.http_mbs", mbs("http"))
    cat = res.put("export.cat_mbs", mbs("cat"))
    v2 = res.put("export.v2_mbs", mbs("v2"))
    x = res.put("export.ratio", ratio(http, cat))
    xv = res.put("export.ratio_v2", ratio(http, v2))
    cpu = {name: median(v) for name, v in server_cpu.items()}
    ccpu = {name: median(v) for name, v in client_cpu.items()}
    res.put("export.wharfd_cpu_s_gib", cpu["http"])
    res.put("export.file.wharfd_cpu_s_gib", cpu["save"])
    for name in sides:
        res.put(f"export.client_cpu_s_gib.{name.replace('-', '_')}", ccpu[name])

    def cpus(name):
        server = f"{cpu[name]:.2f}" if name in cpu else "-"
        return f"{server} / {ccpu[name]:.2f} s/GiB"

    lines = ["| output | wharf export | cat of the blobs | export/cat | other client | "
             "other/cat | CPU: wharfd / client (export) | client CPU (cat) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |",
             f"| a file, fsynced | `wharf save -o`: {save:.0f} MB/s | `cat > FILE`, fsync: "
             f"{cat_file:.0f} MB/s | {fmt_ratio(xf)} | `curl -o FILE`, fsync: "
             f"{curl_file:.0f} MB/s | {fmt_ratio(xc)} | {cpus('save')} | "
             f"{ccpu['cat-file']:.2f} s/GiB |",
             f"| /dev/null | `curl -o /dev/null`: {http:.0f} MB/s | `cat > /dev/null`: "
             f"{cat:.0f} MB/s | {fmt_ratio(x)} | the blobs from `/v2/`: {v2:.0f} MB/s | "
             f"{fmt_ratio(ratio(v2, cat))} (export//v2/ {fmt_ratio(xv)}) | {cpus('http')} | "
             f"{ccpu['cat']:.2f} s/GiB |",
             "",
             f"The image: {layers} incompressible layers of {human_bytes(layer_size)}, downloaded "
             f"into wharf through its API; the archive (docker format) is "
             f"{human_bytes(sizes['save'])} with manifest.json and the tar headers, the blobs "
             f"{human_bytes(sizes['cat'])}. A file: what a user does with an export, so the "
             "like-for-like comparison and the target's. wharf export is the shipped client, "
             f"`wharf save -o FILE {REPO_NAME}` (logged in with `wharf login` under a private "
             "HOME): `GET /api/v1/image/export?format=docker&image=NAME` over loopback into a "
             "temp file, fsync, rename, fsync of the directory; cat is `cat` of the config and "
             "layer files of the store into a new file, then an fsync of it; the other client "
             f"is `curl -o FILE` of `GET /api/v1/image/docker/{REPO_NAME}/latest/export` with "
             "the session cookie, then an fsync. All three write to the bench's work dir (one "
             "filesystem), each output removed after its turn and a sync before each, so the "
             "clock of each covers its own writing and fsync only. /dev/null: the same "
             "`curl` export, `cat`, and one curl fetching the blobs in turn from wharf's `/v2/` "
             "(`[serve] anonymous = true`), to /dev/null: the transfer alone, without the disk "
             "(the socket and the client's reads against cat's). "
             f"Median of {rounds} rounds after a warm-up of each, the order rotated and reversed "
             "every other round; the store's blobs are read from the page cache by every side; "
             "MB/s = 10^6 bytes a second; CPU: user + system time per GiB, wharfd's from /proc, "
             "the client's (wharf, curl or cat) from the bench's children."]
    res.section("Image export against cat of its blobs", lines)
    res.target("image export vs cat of its blobs, to a file", ">= 0.9x", fmt_ratio(xf),
               xf is not None and xf >= 0.9)
