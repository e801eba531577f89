"""Image archives as the import and export tests build, send and read them: uploads
streamed over http.client with the session cookie, and docker archives written by hand
(tarfile) for the cases no tool makes: a bad digest, a missing layer, a path that leaves
the archive, a decompression bomb, a layer of any size produced on the fly."""

import gzip
import hashlib
import http.client
import io
import json
import tarfile
import urllib.parse


def cookie_of(api):
    return "; ".join(f"{c.name}={c.value}" for c in api.jar)


def upload(api, body, query="", chunked=False, timeout=300, headers=None):
    """POSTs `body` (bytes, or an iterable of bytes pieces) to /api/v1/image/import.
    Returns (status, parsed JSON or None)."""
    host = urllib.parse.urlsplit(api.base_url).netloc
    conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        conn.putrequest("POST", "/api/v1/image/import" + query)
        conn.putheader("Cookie", cookie_of(api))
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if isinstance(body, (bytes, bytearray)):
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered early (a bad archive): read the answer
        else:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            try:
                for piece in body:
                    if piece:
                        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw
    finally:
        conn.close()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def add_file(tar, name, data, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def layer_tar(files):
    """An uncompressed layer holding {path: bytes}."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in sorted(files.items()):
            add_file(tar, path.lstrip("/"), data)
    return out.getvalue()


def config_of(diff_ids, cmd=("/bin/true",)):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": list(cmd)},
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }).encode()


def docker_archive(layers, repo_tags, config=None, layer_names=None, extra=(),
                   manifest=None):
    """A docker-archive (legacy layout, as `docker save` before 25 wrote it):
    <n>/layer.tar, <config hex>.json, manifest.json last. `extra` adds entries
    (name, data, kind, link) before manifest.json; `manifest` replaces it."""
    diff_ids = [sha256(layer) for layer in layers]
    config = config or config_of(diff_ids)
    config_name = sha256(config).split(":")[1] + ".json"
    names = layer_names or [f"{i:02d}/layer.tar" for i in range(len(layers))]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, layer in zip(names, layers):
            add_file(tar, name, layer)
        add_file(tar, config_name, config)
        for name, data, kind, link in extra:
            add_file(tar, name, data, kind, link)
        if manifest is None:
            manifest = [{"Config": config_name, "RepoTags": repo_tags, "Layers": names}]
        add_file(tar, "manifest.json", json.dumps(manifest).encode())
    return out.getvalue(), sha256(config)


def gzipped(data):
    return gzip.compress(data, compresslevel=1)


class StreamedArchive:
    """A docker archive of one image whose single layer holds one file of `size`
    bytes of a repeating pattern, produced piece by piece (never whole in memory):
    iterate twice, the first time only to learn the layer's diff_id."""

    PIECE = 1 << 20

    def __init__(self, size, repo_tag):
        self.size = size
        self.repo_tag = repo_tag
        self.block = hashlib.sha256(b"wharf").digest() * (self.PIECE // 32)
        self.diff_id = None
        header = tarfile.TarInfo("big.bin")
        header.size = size
        header.mode = 0o644
        self.file_header = header.tobuf(format=tarfile.USTAR_FORMAT)
        pad = (-size) % 512
        self.layer_size = len(self.file_header) + size + pad + 1024
        self.layer_tail = b"\0" * (pad + 1024)

    def layer_pieces(self):
        yield self.file_header
        left = self.size
        while left > 0:
            n = min(left, self.PIECE)
            yield self.block[:n]
            left -= n
        yield self.layer_tail

    def learn_diff_id(self):
        h = hashlib.sha256()
        for piece in self.layer_pieces():
            h.update(piece)
        self.diff_id = "sha256:" + h.hexdigest()
        return self.diff_id

    def pieces(self):
        if self.diff_id is None:
            self.learn_diff_id()
        entry = tarfile.TarInfo("layer/layer.tar")
        entry.size = self.layer_size
        yield entry.tobuf(format=tarfile.USTAR_FORMAT)
        yield from self.layer_pieces()
        yield b"\0" * ((-self.layer_size) % 512)
        config = config_of([self.diff_id])
        self.config_digest = sha256(config)
        manifest = json.dumps([{"Config": "config.json", "RepoTags": [self.repo_tag],
                                "Layers": ["layer/layer.tar"]}]).encode()
        tail = io.BytesIO()
        with tarfile.open(fileobj=tail, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            add_file(tar, "config.json", config)
            add_file(tar, "manifest.json", manifest)
        yield tail.getvalue()
