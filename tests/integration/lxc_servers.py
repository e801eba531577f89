"""LXC image servers for the tests, built from scratch.

Both layouts LXC images are published with today, in one tree (as
images.linuxcontainers.org serves them):

  images/DIST/RELEASE/ARCH/VARIANT/SERIAL/rootfs.tar.xz, meta.tar.xz, SHA256SUMS
  streams/v1/index.json, streams/v1/images.json      simplestreams (LXD, Incus)
  meta/1.0/index-system                              lxc-download (lxc-create -t download)

Root file systems are tiny directories packed with the real tar and xz; the
meta tarball holds config, config-user, expiry, templates and create-message as
LXC's image builder writes them. The server is Python's http.server on a free
127.0.0.1 port, with Range support (so resumed downloads can be observed) and a
log of the requests it answered. Python standard library only.
"""

import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from harness import Wharfd, serve_http, stop_http


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _tar_xz_of_dir(directory):
    """tar + xz of a directory, as LXC's image builders make rootfs.tar.xz."""
    env = dict(os.environ, XZ_OPT="-0")
    return subprocess.run(["tar", "--numeric-owner", "-C", str(directory), "-cJf", "-", "."],
                          check=True, capture_output=True, env=env).stdout


def rootfs_tar_xz(files):
    """A rootfs.tar.xz holding `files` ({"etc/hostname": b"..."}); returns
    (bytes, unpacked size = the sum of the files' sizes)."""
    with tempfile.TemporaryDirectory(prefix="wharf-rootfs-") as d:
        for name, data in files.items():
            path = Path(d, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (Path(d) / "dev").mkdir(exist_ok=True)
        return _tar_xz_of_dir(d), sum(len(v) for v in files.values())


def raw_tar_xz(members):
    """A .tar.xz with members written as given, [(name, bytes)], "../x" and
    "/x" included (tar(1) would strip them)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def special_tar_xz(members):
    """A .tar.xz of special entries, [(name, kind, extra)]: kind "chr"/"blk" (extra =
    (major, minor)), "fifo", or "file" (extra = (mode, bytes)); a regular etc/hostname first."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        def add(info, data=b""):
            info.mtime = int(time.time())
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
        add(tarfile.TarInfo("etc/hostname"), b"special\n")
        for name, kind, extra in members:
            info = tarfile.TarInfo(name)
            if kind in ("chr", "blk"):
                info.type = tarfile.CHRTYPE if kind == "chr" else tarfile.BLKTYPE
                info.devmajor, info.devminor = extra
                info.mode = 0o666
                add(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                add(info)
            else:
                info.mode, data = extra
                add(info, data)
    return buf.getvalue()


def sparse_rootfs_tar_xz(size):
    """A rootfs.tar.xz with one sparse file of `size` bytes (a hole: the archive stays a few
    KiB), packed by GNU tar --sparse."""
    with tempfile.TemporaryDirectory(prefix="wharf-sparse-") as d:
        Path(d, "etc").mkdir()
        Path(d, "etc/hostname").write_bytes(b"sparse\n")
        with open(Path(d, "hole"), "wb") as f:
            f.truncate(size)
        env = dict(os.environ, XZ_OPT="-0")
        return subprocess.run(["tar", "--sparse", "--numeric-owner", "-C", d, "-cJf", "-", "."],
                              check=True, capture_output=True, env=env).stdout


def rootfs_tar_zst(files):
    """rootfs_tar_xz's files as distrobuilder --compression=zstd packs them: (bytes, size)."""
    with tempfile.TemporaryDirectory(prefix="wharf-rootfs-") as d:
        for name, data in files.items():
            path = Path(d, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        tar = subprocess.run(["tar", "--numeric-owner", "-C", d, "-cf", "-", "."],
                             check=True, capture_output=True).stdout
        zst = subprocess.run(["zstd", "-q", "-c"], input=tar, check=True,
                             capture_output=True).stdout
        return zst, sum(len(v) for v in files.values())


def meta_tar_xz(config=True, expiry=None, templates=("/etc/hostname",), message="made by wharf's tests"):
    """A meta.tar.xz as LXC's image builder writes it."""
    with tempfile.TemporaryDirectory(prefix="wharf-meta-") as d:
        if config:
            Path(d, "config").write_text(
                "lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n")
            Path(d, "config-user").write_text(
                "lxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n")
        Path(d, "excludes-user").write_text("./dev/*\n")
        Path(d, "expiry").write_text(f"{expiry or int(time.time()) + 30 * 86400}\n")
        Path(d, "templates").write_text("".join(t + "\n" for t in templates))
        Path(d, "create-message").write_text(message + "\n")
        return _tar_xz_of_dir(d)


@dataclass
class Build:
    dist: str
    release: str
    arch: str
    variant: str
    serial: str
    rootfs: bytes
    meta: bytes
    unpacked: int
    dir: str = ""                      # server-relative, ends with "/"
    files: dict = field(default_factory=dict)  # name -> bytes as served

    @property
    def rootfs_digest(self):
        return "sha256:" + sha256(self.rootfs)

    @property
    def meta_digest(self):
        return "sha256:" + sha256(self.meta)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range support ("bytes=N-") and a request log."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server.owner
        path = self.translate_path(self.path)
        server.requests.append((urllib.parse.unquote(self.path), self.headers.get("Range")))
        if not os.path.isfile(path):
            self.send_error(404, "Not Found")
            return
        size = os.path.getsize(path)
        start = 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes=") and ranged.endswith("-"):
            try:
                start = int(ranged[6:-1])
            except ValueError:
                start = 0
            if start >= size:
                self.send_error(416, "Range Not Satisfiable")
                return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.send_header("Content-Length", str(size - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(start)
            try:
                shutil.copyfileobj(f, self.wfile, 64 * 1024)
            except (BrokenPipeError, ConnectionResetError):
                pass


class ImageServer:
    """Both LXC server layouts on 127.0.0.1:PORT, from a temp dir.

        server = ImageServer().start()
        build = server.add_build("testos", "one", "amd64", "default", "20240101_00:00", ...)
        server.url  → "http://127.0.0.1:PORT"
    """

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="wharf-lxc-server-"))
        self.products = {}   # product id -> product
        self.index_lines = []
        self.requests = []   # (path, Range header) answered, in order
        self._httpd = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def port(self):
        return self._httpd.server_address[1]

    def start(self):
        handler = lambda *a, **kw: _Handler(*a, directory=str(self.root), **kw)  # noqa: E731
        self._httpd = serve_http(handler)
        self._httpd.owner = self
        self.publish()
        return self

    def stop(self):
        if self._httpd:
            stop_http(self._httpd)
            self._httpd = None
        shutil.rmtree(self.root, ignore_errors=True)

    def add_build(self, dist, release, arch, variant, serial, rootfs, unpacked, meta=None, *,
                  os_field=None, product_id=None, item_sha=None, item_size=None,
                  item_path=None, index_path=None, sums=None, simplestreams=True,
                  index=True, rootfs_name="rootfs.tar.xz"):
        """Writes one build's directory and adds it to both indexes (unless
        `simplestreams`/`index` is False). The item_*/index_path/sums arguments
        replace what the indexes say, to make broken servers."""
        meta = meta if meta is not None else meta_tar_xz()
        build = Build(dist, release, arch, variant, serial, rootfs, meta, unpacked)
        build.dir = f"images/{dist}/{release}/{arch}/{variant}/{serial}/"
        directory = self.root / build.dir
        directory.mkdir(parents=True, exist_ok=True)
        build.files = {rootfs_name: rootfs, "meta.tar.xz": meta}
        for name, data in build.files.items():
            (directory / name).write_bytes(data)
        if sums is None:
            sums = {name: sha256(data) for name, data in build.files.items()}
        (directory / "SHA256SUMS").write_text(
            "".join(f"{digest}  {name}\n" for name, digest in sums.items()))
        if simplestreams:
            pid = product_id or f"{dist}:{release}:{arch}:{variant}"
            product = self.products.setdefault(pid, {
                "aliases": f"{dist}/{release}/{variant}", "arch": arch,
                "os": os_field or dist.capitalize(), "release": release,
                "release_title": release, "variant": variant, "versions": {}})
            product["versions"][serial] = {"items": {
                "lxd.tar.xz": {"ftype": "lxd.tar.xz", "path": build.dir + "incus.tar.xz",
                               "sha256": sha256(b"not served"), "size": 10},
                "root.tar.xz": {"ftype": "root.tar.xz",
                                "path": item_path or build.dir + rootfs_name,
                                "sha256": item_sha or sha256(rootfs),
                                "size": item_size or len(rootfs)},
            }}
        if index:
            self.index_lines.append(
                f"{dist};{release};{arch};{variant};{serial};{index_path or '/' + build.dir}")
        self.publish()
        return build

    def add_version(self, product_id, key, items):
        """A raw version under an existing product (e.g. a key that is not a build)."""
        self.products[product_id]["versions"][key] = {"items": items}
        self.publish()

    def remove(self, build, name):
        (self.root / build.dir / name).unlink()

    def publish(self):
        streams = self.root / "streams" / "v1"
        streams.mkdir(parents=True, exist_ok=True)
        _write_json(streams / "index.json", {"format": "index:1.0", "index": {"images": {
            "datatype": "image-downloads", "path": "streams/v1/images.json",
            "format": "products:1.0", "products": sorted(self.products)}}})
        _write_json(streams / "images.json", {"content_id": "images",
                                              "datatype": "image-downloads",
                                              "format": "products:1.0",
                                              "products": self.products})
        meta = self.root / "meta" / "1.0"
        meta.mkdir(parents=True, exist_ok=True)
        _write_atomic(meta / "index-system", "".join(line + "\n" for line in self.index_lines))

    def served(self, suffix):
        """Requests whose path ends with `suffix`: [(path, Range header)]."""
        return [r for r in self.requests if r[0].endswith(suffix)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _write_atomic(path, text):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_json(path, doc):
    _write_atomic(path, json.dumps(doc, indent=1))


def catalog_entry(name, source, description=None, icon=None, arch="amd64"):
    """An appcenter LXC entry with every key the catalog format requires."""
    return {"name": name, "type": "lxc", "title": name.title(), "version": "1",
            "description": description or f"{name} for wharf's tests",
            "icon": icon if icon is not None else f"http://icons.invalid/{name}.png",
            "icon_local": "debian.svg", "arch": arch, "size": "1000", "inspect": "{}",
            "source": source}


def server_source(protocol, server, os_, release, arch="amd64", variant="default"):
    return {"protocol": protocol, "server": server, "os": os_, "release": release,
            "arch": arch, "variant": variant}


def write_catalog(path, entries):
    _write_json(Path(path), {"version": 1, "images": entries})


class LxcWharfd(Wharfd):
    """wharfd with a test catalog as its appcenter depot and, optionally, an
    [lxc] cache_dir. No registry is needed: dockerhub points at a closed port."""

    def __init__(self, catalog, cache_dir="", lxc_toml="", **kw):
        super().__init__("http://127.0.0.1:9", **kw)
        self.catalog = catalog
        self.cache_dir = cache_dir
        self.lxc_toml = lxc_toml  # more keys of the [lxc] table

    def write_config(self):
        super().write_config()
        with open(self.config_path, "a") as f:
            f.write(f"\n[catalogs]\nappcenter = {json.dumps(str(self.catalog))}\n")
            f.write(f"\n[lxc]\ncache_dir = {json.dumps(str(self.cache_dir))}\n{self.lxc_toml}\n")

    def lxc_download(self, api, name, tag="latest", depot="appcenter", body=None):
        return api.post(f"/api/v1/image/{depot}/lxc/{name}/{urllib.parse.quote(tag)}/download",
                        body if body is not None else {})
