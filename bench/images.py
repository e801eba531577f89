"""Fixture images for the benchmark, generated on the fly and pushed to a loopback
docker-registry over the distribution API (blob uploads and manifest PUTs over
HTTP, which is far faster than one skopeo run per image).

Layers are real gzip'd tar archives; every image has a config whose
rootfs.diff_ids match, so every tool verifies and unpacks them normally.
Nothing here is committed: the bench builds it again on each run.
"""

import concurrent.futures
import hashlib
import http.client
import io
import json
import os
import random
import tarfile
import tempfile
import threading
import urllib.parse
import zlib

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

MiB = 1024 * 1024
CHUNK = 1 * MiB

HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


class Blob:
    """A blob held in memory (small) or in a file (large), with its digest."""

    def __init__(self, digest, size, data=None, path=None, media_type=OCI_LAYER_GZIP,
                 diff_id=None, uncompressed_size=None):
        self.digest = digest
        self.size = size
        self.data = data
        self.path = path
        self.media_type = media_type
        self.diff_id = diff_id
        self.uncompressed_size = uncompressed_size

    def descriptor(self):
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}

    def open(self):
        return open(self.path, "rb") if self.path else io.BytesIO(self.data)


def blob_of(data, media_type):
    return Blob("sha256:" + hashlib.sha256(data).hexdigest(), len(data), data=data,
                media_type=media_type)


class _LayerWriter:
    """Streams tar entries through gzip into a file (or memory), hashing both sides."""

    def __init__(self, path, level):
        self.path = path
        self.out = open(path, "wb") if path else io.BytesIO()
        self.comp = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip wrapper
        self.h_c = hashlib.sha256()
        self.h_u = hashlib.sha256()
        self.csize = 0
        self.usize = 0

    def _emit(self, data):
        self.h_u.update(data)
        self.usize += len(data)
        c = self.comp.compress(data)
        if c:
            self._out(c)

    def _out(self, c):
        self.h_c.update(c)
        self.csize += len(c)
        self.out.write(c)

    def directory(self, name):
        info = tarfile.TarInfo(name.rstrip("/") + "/")
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        info.mtime = 0
        self._emit(info.tobuf(format=tarfile.GNU_FORMAT))

    def file(self, name, size, chunks):
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o644
        info.mtime = 0
        self._emit(info.tobuf(format=tarfile.GNU_FORMAT))
        written = 0
        for chunk in chunks:
            self._emit(chunk)
            written += len(chunk)
        assert written == size, (name, written, size)
        if size % 512:
            self._emit(b"\0" * (512 - size % 512))

    def finish(self):
        self._emit(b"\0" * 1024)  # end-of-archive marker
        self._out(self.comp.flush())
        data = None
        if self.path:
            self.out.close()
        else:
            data = self.out.getvalue()
        return Blob("sha256:" + self.h_c.hexdigest(), self.csize, data=data, path=self.path,
                    diff_id="sha256:" + self.h_u.hexdigest(), uncompressed_size=self.usize)


def _sized_chunks(size, make):
    left = size
    while left > 0:
        n = min(CHUNK, left)
        yield make(n)
        left -= n


def random_chunks(size):
    """Incompressible bytes."""
    return _sized_chunks(size, os.urandom)


class Corpus:
    """Compressible material: text made of words, and binary-like data (runs of
    zeros, small-alphabet code-like bytes and some random bytes), sliced at random
    offsets so that no two chunks are the same."""

    def __init__(self, seed=7, size=4 * MiB):
        rng = random.Random(seed)
        letters = "abcdefghijklmnopqrstuvwxyz"
        words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 11)))
                 for _ in range(6000)]
        weights = [1.0 / (i + 1) for i in range(len(words))]  # Zipf-like, as prose is
        picked = rng.choices(words, weights=weights, k=size // 6)
        lines = [" ".join(picked[i:i + 10]) for i in range(0, len(picked), 10)]
        text = ("\n".join(lines)).encode()
        self.text = (text * (size // max(1, len(text)) + 1))[:size]
        # Code-like bytes: mostly a small alphabet of opcodes, some arbitrary values.
        opcodes = bytes(rng.randrange(256) for _ in range(24))
        code = bytes(rng.choice(opcodes) if rng.random() < 0.7 else rng.randrange(256)
                     for _ in range(256 * 1024))
        parts = []
        total = 0
        while total < size:
            kind = rng.random()
            n = rng.choice((256, 512, 1024, 4096))
            if kind < 0.25:
                part = os.urandom(n)
            elif kind < 0.45:
                part = bytes(n)
            else:
                off = rng.randrange(0, len(code) - n)
                part = code[off:off + n]
            parts.append(part)
            total += n
        self.binary = b"".join(parts)[:size]
        self.rng = random.Random(seed + 1)
        self.lock = threading.Lock()

    def chunks(self, size, kind):
        source = self.text if kind == "text" else self.binary

        def make(n):
            with self.lock:
                off = self.rng.randrange(0, len(source) - n) if len(source) > n else 0
            return source[off:off + n]

        return _sized_chunks(size, make)


def incompressible_layer(path, size, level=0):
    # Level 0 writes stored deflate blocks, which is what gzip -6 emits for random input too.
    w = _LayerWriter(path, level)
    w.directory("data")
    w.file(f"data/random-{os.urandom(6).hex()}.bin", size, random_chunks(size))
    return w.finish()


def compressible_layer(path, size, corpus, index, level=6):
    """About `size` bytes of files: 60% text, 40% binary-like, in a few files."""
    w = _LayerWriter(path, level)
    w.directory(f"usr/share/layer{index}")
    w.directory(f"usr/lib/layer{index}")
    text = size * 6 // 10
    binary = size - text
    for k, part in enumerate(_split(text, 3)):
        w.file(f"usr/share/layer{index}/doc{k}.txt", part, corpus.chunks(part, "text"))
    for k, part in enumerate(_split(binary, 2)):
        w.file(f"usr/lib/layer{index}/lib{k}.so", part, corpus.chunks(part, "binary"))
    return w.finish()


def tiny_layer(name, payload):
    w = _LayerWriter(None, 6)
    w.directory("etc")
    w.file(f"etc/{name}", len(payload), [payload] if payload else [])
    return w.finish()


def _split(total, parts):
    base = total // parts
    sizes = [base] * parts
    sizes[-1] += total - base * parts
    return [s for s in sizes if s > 0]


def config_blob(layers, label):
    config = {
        "architecture": HOST_ARCH,
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"],
                   "Labels": {"wharf.bench": label}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"bench layer {i}"}
                    for i in range(len(layers))],
    }
    return blob_of(json.dumps(config, sort_keys=True).encode(), OCI_CONFIG)


class Image:
    """What was pushed: repo, tag, manifest digest, config and layers."""

    def __init__(self, repo, tag, config, layers):
        self.repo = repo
        self.tag = tag
        self.config = config
        self.layers = layers
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": config.descriptor(),
                    "layers": [layer.descriptor() for layer in layers]}
        self.manifest = json.dumps(manifest, sort_keys=True).encode()
        self.digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()

    @property
    def blobs(self):
        return [self.config, *self.layers]

    @property
    def compressed_size(self):
        return sum(b.size for b in self.blobs) + len(self.manifest)

    @property
    def uncompressed_size(self):
        return sum(b.uncompressed_size for b in self.layers)


class Pusher:
    """Uploads blobs (monolithic PUT) and manifests to a registry over HTTP; mounts
    blobs the registry already holds in another repository. One connection per
    thread."""

    def __init__(self, host):
        self.host = host
        self.local = threading.local()
        self.known = {}  # digest -> a repo that holds it
        self.lock = threading.Lock()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = self.local.conn = http.client.HTTPConnection(self.host, timeout=300,
                                                                 blocksize=1 << 20)
        return c

    def _request(self, method, path, body=None, headers=None):
        for attempt in range(3):
            conn = self._conn()
            try:
                if hasattr(body, "seek"):
                    body.seek(0)
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp, data
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def blob(self, repo, blob):
        with self.lock:
            source = self.known.get(blob.digest)
        if source == repo:
            return
        if source is not None:
            status, _, _ = self._request(
                "POST", f"/v2/{repo}/blobs/uploads/?mount={blob.digest}&from={source}",
                headers={"Content-Length": "0"})
            if status == 201:
                return
        status, resp, data = self._request("POST", f"/v2/{repo}/blobs/uploads/",
                                           headers={"Content-Length": "0"})
        if status != 202:
            raise RuntimeError(f"start upload to {repo} -> {status} {data[:200]!r}")
        location = resp.getheader("Location")
        parts = urllib.parse.urlsplit(location)
        query = parts.query + ("&" if parts.query else "") + "digest=" + blob.digest
        with blob.open() as f:
            status, _, data = self._request(
                "PUT", f"{parts.path}?{query}", body=f,
                headers={"Content-Type": "application/octet-stream",
                         "Content-Length": str(blob.size)})
        if status != 201:
            raise RuntimeError(f"upload {blob.digest} to {repo} -> {status} {data[:200]!r}")
        with self.lock:
            self.known.setdefault(blob.digest, repo)

    def image(self, image, repo=None, tag=None):
        repo = repo or image.repo
        for blob in image.blobs:
            self.blob(repo, blob)
        status, _, data = self._request("PUT", f"/v2/{repo}/manifests/{tag or image.tag}",
                                        body=image.manifest,
                                        headers={"Content-Type": OCI_MANIFEST})
        if status != 201:
            raise RuntimeError(f"PUT manifest {repo}:{tag or image.tag} -> {status} {data[:200]!r}")


class FixtureSet:
    """Generates the bench images into a work dir (large layers as files) and pushes them."""

    def __init__(self, registry_host, workdir=None, threads=2):
        self.work = workdir or tempfile.mkdtemp(prefix="wharf-bench-fixtures-")
        self.pusher = Pusher(registry_host)
        self.threads = threads
        self._corpus = None

    @property
    def corpus(self):
        if self._corpus is None:
            self._corpus = Corpus()
        return self._corpus

    def _path(self, name):
        return os.path.join(self.work, name)

    def drop_files(self, image):
        """Removes the local copies of an image's large layers (the registry keeps them)."""
        for blob in image.layers:
            if blob.path and os.path.exists(blob.path):
                os.unlink(blob.path)

    def _parallel(self, fn, items):
        with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, items))

    def incompressible(self, repo, layers, layer_size, tag="latest"):
        """`layers` layers of `layer_size` random bytes each (image A, the size series)."""
        made = self._parallel(
            lambda i: incompressible_layer(self._path(f"{repo.replace('/', '_')}-{i}.tgz"),
                                           layer_size), range(layers))
        image = Image(repo, tag, config_blob(made, repo), made)
        self.pusher.image(image)
        return image

    def compressible(self, repo, sizes, tag="latest"):
        """One layer per entry of `sizes` (uncompressed bytes), text and binary-like (image B)."""
        corpus = self.corpus
        made = self._parallel(
            lambda i: compressible_layer(self._path(f"{repo.replace('/', '_')}-{i}.tgz"),
                                         sizes[i], corpus, i), range(len(sizes)))
        image = Image(repo, tag, config_blob(made, repo), made)
        self.pusher.image(image)
        return image

    def small_images(self, prefix, count, base_size, all_tags_repos=()):
        """`count` distinct images `prefix`-NNNN:latest sharing one base layer of
        `base_size` compressible bytes (none if 0) under a tiny distinct top layer.
        With all_tags_repos, image i is also tagged NNNN in all_tags_repos[i % len]
        (what `podman pull --all-tags` reads, one process per repository)."""
        base = None
        if base_size > 0:
            base = compressible_layer(None, base_size, self.corpus, 0)
        width = max(4, len(str(count - 1)))
        names = [f"{prefix}-{i:0{width}d}" for i in range(count)]

        def one(i):
            top = tiny_layer(f"image-{i}", f"image {i} of {count} {os.urandom(8).hex()}\n".encode())
            layers = [base, top] if base else [top]
            image = Image(names[i], "latest", config_blob(layers, names[i]), layers)
            self.pusher.image(image)
            if all_tags_repos:
                self.pusher.image(image, repo=all_tags_repos[i % len(all_tags_repos)],
                                  tag=f"{i:0{width}d}")
            return image

        if base is not None:  # pushed once first so that the others mount it
            first = one(0)
            return [first] + self._parallel(one, range(1, count))
        return self._parallel(one, range(count))
