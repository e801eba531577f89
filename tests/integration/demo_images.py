"""The images and catalogs of `make demo`.

The demo's App Center and Official catalogs are the shipped ones (share/catalog/) cut to
their Docker entries, and the demo registry holds a small image for every one of them,
under the entry's tag and `latest`: so each catalog entry can be downloaded offline. The LXC
entries are left out, as their root file systems come from image servers on the Internet.

The catalog images are a few kilobytes each, built here in Python (one gzipped tar layer
naming the image, and its config) and pushed over the registry's HTTP API, about 5 requests
an image: the ~40 of them take a second or two, where umoci and skopeo would take a minute.
"""

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

from fixtures import HOST_ARCH, OCI_MANIFEST

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CATALOGS = ("appcenter", "official")


def demo_catalogs(share_dir):
    """{"appcenter": doc, "official": doc}: the shipped catalogs with only their Docker
    entries, in their order."""
    out = {}
    for name in CATALOGS:
        doc = json.loads(Path(share_dir, "catalog", f"{name}.json").read_text())
        doc["images"] = [e for e in doc["images"] if e["type"] == "docker"]
        out[name] = doc
    return out


def write_catalogs(catalogs, directory):
    """Writes each catalog to DIRECTORY/NAME.json; returns {name: path}."""
    paths = {}
    for name, doc in catalogs.items():
        path = Path(directory, f"{name}.json")
        path.write_text(json.dumps(doc, indent=2) + "\n")
        paths[name] = str(path)
    return paths


def catalog_refs(catalogs):
    """The (repository, tag) pairs the catalogs offer, each once, in order. A one-word
    name is a Docker Hub official image: its repository is library/NAME."""
    refs = []
    for doc in catalogs.values():
        for entry in doc["images"]:
            name = entry["name"] if "/" in entry["name"] else "library/" + entry["name"]
            if (name, entry["version"]) not in refs:
                refs.append((name, entry["version"]))
    return refs


def _layer(files):
    """(gzipped tar of {path: bytes}, its diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    level = 0 if len(tar_bytes) > 1 << 20 else 6  # random bytes: stored, not deflated (fast)
    return gzip.compress(tar_bytes, compresslevel=level, mtime=0), \
        "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def push_blob(client, repo, data):
    """Uploads `data` to repo in one PUT (unless the registry has it); returns its digest."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if client.request("HEAD", f"/v2/{repo}/blobs/{digest}")[0] == 200:
        return digest
    status, headers, body = client.request("POST", f"/v2/{repo}/blobs/uploads/")
    if status != 202:
        raise RuntimeError(f"POST {repo} blob upload -> {status} {body[:200]!r}")
    location = headers["location"].split("://", 1)[-1]
    location = location[location.index("/"):] if not location.startswith("/") else location
    sep = "&" if "?" in location else "?"
    status, _, body = client.request("PUT", f"{location}{sep}digest={digest}", body=data,
                                     headers={"Content-Type": "application/octet-stream"})
    if status != 201:
        raise RuntimeError(f"PUT {repo} blob {digest} -> {status} {body[:200]!r}")
    return digest


def push_image(client, repo, tags, files, config):
    """Pushes a one-layer image of `files` ({path: bytes}) for this host's architecture
    under every tag, `config` being its config's "config" object ({"Cmd": [...], ...});
    returns the manifest digest."""
    layer, diff_id = _layer(files)
    config = json.dumps({
        "architecture": HOST_ARCH, "os": "linux", "config": config,
        "created": "2026-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "wharf demo"}],
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": push_blob(client, repo, config),
                   "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": push_blob(client, repo, layer),
                    "size": len(layer)}],
    }).encode()
    digest = None
    for tag in tags:
        digest = client.put_manifest(repo, tag, manifest, OCI_MANIFEST)
    return digest


def push_catalog_images(client, catalogs):
    """A small image for every (repository, tag) the catalogs offer, also tagged latest."""
    for repo, tag in catalog_refs(catalogs):
        text = f"{repo}:{tag} from the wharf demo registry\n".encode()
        push_image(client, repo, sorted({tag, "latest"}), {"/etc/wharf-demo": text},
                   {"Cmd": ["/bin/sh", "-c", "cat /etc/wharf-demo"],
                    "Labels": {"org.opencontainers.image.title": repo}})


DIAMOND = {
    "Cmd": ["/usr/bin/diamond", "--foreground"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "WorkingDir": "/srv/diamond",
    "ExposedPorts": {"8080/tcp": {}},
    "Labels": {"org.example.name": "diamond"},
}


def push_big_image(client, repo, tags, size):
    """lgsd/diamond's stand-in with `size` bytes of incompressible data, so that its
    download can be watched."""
    return push_image(client, repo, tags, {"/srv/diamond/data.bin": os.urandom(size),
                                           "/etc/diamond/diamond.conf": b"[server]\n"},
                      DIAMOND)
