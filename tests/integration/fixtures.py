"""Test images built with umoci, pushed with skopeo, read back over HTTP.

Tests compare wharf's answers with what the registry really holds (ImageTruth),
never with hard-coded digests or sizes.
"""

import atexit
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
             "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}.get(os.uname().machine,
                                                                            os.uname().machine)

_policy_dir = None


def skopeo_policy():
    """A signature policy that accepts anything, so skopeo does not depend on
    /etc/containers/policy.json existing."""
    global _policy_dir
    if _policy_dir is None:
        _policy_dir = tempfile.mkdtemp(prefix="wharf-skopeo-")
        atexit.register(shutil.rmtree, _policy_dir, True)
        Path(_policy_dir, "policy.json").write_text(
            json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    return os.path.join(_policy_dir, "policy.json")


def run(cmd, timeout=300):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                           f"{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def skopeo(*args, timeout=300):
    return run(["skopeo", "--policy", skopeo_policy(), *args], timeout=timeout)


def init_layout(layout):
    if not os.path.exists(os.path.join(layout, "index.json")):
        run(["umoci", "init", "--layout", layout])


def build_image(layout, tag, layers, config=None, arch="amd64", base=None):
    """Builds layout:tag with one layer per entry of `layers` (each {path: bytes}, or
    {path: (bytes, mode)} for a file that must be executable; paths are relative to the
    root filesystem). With `base`, starts from
    layout:base so the images share base's layers; otherwise from nothing.

    config keys: cmd, entrypoint (lists), env (list of K=V), workingdir, user,
    exposedports (list like "8080/tcp"), labels (dict), volumes (list of paths),
    stopsignal, author."""
    init_layout(layout)
    image = f"{layout}:{tag}"
    if base:
        run(["umoci", "tag", "--image", f"{layout}:{base}", tag])
    else:
        run(["umoci", "new", "--image", image])
    if layers:
        work = tempfile.mkdtemp(prefix="wharf-bundle-")
        try:
            bundle = os.path.join(work, "bundle")
            run(["umoci", "unpack", "--rootless", "--image", image, bundle])
            for files in layers:
                for rel, data in files.items():
                    data, mode = data if isinstance(data, tuple) else (data, None)
                    path = Path(bundle, "rootfs", rel.lstrip("/"))
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    if mode is not None:
                        path.chmod(mode)
                run(["umoci", "repack", "--refresh-bundle", "--image", image, bundle])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    args = ["umoci", "config", "--image", image, "--architecture", arch, "--os", "linux"]
    config = config or {}
    for value in config.get("cmd", []):
        args += ["--config.cmd", value]
    for value in config.get("entrypoint", []):
        args += ["--config.entrypoint", value]
    for value in config.get("env", []):
        args += ["--config.env", value]
    for value in config.get("exposedports", []):
        args += ["--config.exposedports", value]
    for key, value in config.get("labels", {}).items():
        args += ["--config.label", f"{key}={value}"]
    if "workingdir" in config:
        args += ["--config.workingdir", config["workingdir"]]
    if "user" in config:
        args += ["--config.user", config["user"]]
    for value in config.get("volumes", []):
        args += ["--config.volume", value]
    if "stopsignal" in config:
        args += ["--config.stopsignal", config["stopsignal"]]
    if "author" in config:
        args += ["--author", config["author"]]
    run(args)
    return image


def push(layout, tag, registry, repo, dest_tag, format=None, creds=None):
    """skopeo copy oci:layout:tag docker://registry.host/repo:dest_tag.
    Returns the manifest digest the registry reports."""
    args = ["copy", "--quiet", "--dest-tls-verify=false"]
    if format:
        args += ["--format", format]
    creds = creds if creds is not None else registry.creds
    if creds:
        args += ["--dest-creds", f"{creds[0]}:{creds[1]}"]
    skopeo(*args, f"oci:{layout}:{tag}", f"docker://{registry.host}/{repo}:{dest_tag}")
    return registry.client().manifest(repo, dest_tag)[1]


def gunzip_size(data):
    return len(gzip.decompress(data))


class ImageTruth:
    """What the registry holds for one single-platform image."""

    def __init__(self, client, repo, ref):
        self.repo = repo
        self.manifest, self.digest, self.media_type, raw = client.manifest(repo, ref)
        assert self.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
        self.config_digest = self.manifest["config"]["digest"]
        self.config = json.loads(client.blob(repo, self.config_digest))
        self.layers = [layer["digest"] for layer in self.manifest["layers"]]
        self.layer_sizes = [gunzip_size(client.blob(repo, d)) for d in self.layers]
        self.size = sum(self.layer_sizes)

    @property
    def id(self):
        return self.config_digest.split(":", 1)[1]

    @property
    def blobs(self):
        """Every blob digest the store must hold for this image."""
        return {self.digest, self.config_digest, *self.layers}


def put_index(client, repo, tag, children, docker=False):
    """PUTs an OCI index (or, with docker=True, a Docker manifest list) whose
    entries are (ImageTruth, platform dict). Returns (digest, parsed index)."""
    index = {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST if docker else OCI_INDEX,
        "manifests": [
            {"mediaType": truth.media_type, "digest": truth.digest,
             "size": _manifest_size(client, truth),
             "platform": platform}
            for truth, platform in children
        ],
    }
    raw = json.dumps(index, indent=2).encode()
    digest = client.put_manifest(repo, tag, raw, index["mediaType"])
    return digest, index


def _manifest_size(client, truth):
    return len(client.manifest(truth.repo, truth.digest)[3])


def random_files(count, size, prefix="file"):
    return {f"/data/{prefix}{i}-{os.urandom(4).hex()}": os.urandom(size) for i in range(count)}


DIAMOND_CONFIG = {
    "cmd": ["/usr/bin/diamond", "--foreground"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "DIAMOND_MODE=test"],
    "workingdir": "/srv/diamond",
    "user": "1000:1000",
    "exposedports": ["8080/tcp", "2003/udp"],
    "labels": {"org.example.name": "diamond", "maintainer": "wharf tests"},
}


class FixtureBuilder:
    """Builds and pushes the images the tests share, in a temp OCI layout.
    Each method returns the ImageTruth (or dict of truths) read back."""

    def __init__(self, registry):
        self.registry = registry
        self.client = registry.client()
        self.work = tempfile.mkdtemp(prefix="wharf-fixtures-")
        self.layout = os.path.join(self.work, "layout")

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def image(self, repo, tags, layers, config=None, arch="amd64", base=None,
              local_tag=None, format=None):
        """Builds one image and pushes it under every tag in `tags`."""
        local_tag = local_tag or (repo.replace("/", "-") + "-" + tags[0])
        build_image(self.layout, local_tag, layers, config, arch=arch, base=base)
        for tag in tags:
            push(self.layout, local_tag, self.registry, repo, tag, format=format)
        return ImageTruth(self.client, repo, tags[0])

    def diamond(self, repo="lgsd/diamond", tags=("latest", "1.0")):
        """Three layers and a config with Cmd, Env, WorkingDir, User,
        ExposedPorts and Labels."""
        layers = [
            {"/etc/diamond/diamond.conf":
                b"[server]\nhandlers = archive\n" + os.urandom(64).hex().encode()},
            random_files(3, 20000, "collector"),
            {"/usr/bin/diamond": os.urandom(50000), "/srv/diamond/README": b"diamond\n"},
        ]
        return self.image(repo, list(tags), layers, DIAMOND_CONFIG)

    def shared_pair(self, repo_a="team/base-a", repo_b="team/base-b"):
        """Two images whose first layer is byte-identical."""
        base_tag = "shared-base-" + os.urandom(3).hex()
        build_image(self.layout, base_tag, [random_files(2, 30000, "shared")],
                    {"cmd": ["/bin/sh"]})
        a = self.image(repo_a, ["latest"], [random_files(1, 10000, "a")],
                       {"cmd": ["/bin/a"]}, base=base_tag)
        b = self.image(repo_b, ["latest"], [random_files(1, 12000, "b")],
                       {"cmd": ["/bin/b"]}, base=base_tag)
        return a, b

    def multi_arch(self, repo, tag="latest", docker=False):
        """An OCI index (or with docker=True, a Docker manifest list pushed as
        schema2) for linux/amd64 and linux/arm64/v8. Returns
        {"digest": index digest, "index": parsed, "amd64": truth, "arm64": truth}."""
        fmt = "v2s2" if docker else None
        platforms = {"amd64": {"architecture": "amd64", "os": "linux"},
                     "arm64": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
        truths = {}
        for arch in platforms:
            truths[arch] = self.image(
                repo, [f"build-{arch}"], [random_files(2, 8000 if arch == "amd64" else 9000, arch)],
                {"cmd": [f"/bin/{arch}"], "labels": {"arch": arch}}, arch=arch,
                local_tag=f"{repo.replace('/', '-')}-{arch}-{os.urandom(3).hex()}", format=fmt)
        digest, index = put_index(self.client, repo, tag,
                                  [(truths[a], p) for a, p in platforms.items()], docker=docker)
        return {"digest": digest, "index": index, **truths}

    def big(self, repo, tag="latest", size=24 * 1024 * 1024):
        """One small layer and one large layer of random (incompressible) bytes."""
        layers = [{"/etc/big.conf": os.urandom(32).hex().encode()},
                  {"/data/blob.bin": os.urandom(size)}]
        return self.image(repo, [tag], layers, {"cmd": ["/bin/big"]})
