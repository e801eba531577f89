"""Image archives out of wharf (GET .../export, `wharf save`) read by the real tools: a
wharfd downloads fixture images from a loopback docker-registry, then

- its docker-format export goes through `podman load` (private storage, engines.Podman):
  the same name, Id and RootFS as wharf's inspect;
- its OCI export is read by `skopeo inspect --raw oci-archive:` (the same manifest digest)
  and `skopeo copy oci-archive:`, and loaded by podman under the image's name;
- `docker load` into a private dockerd (test_docker_engine.Dockerd) where one can start,
  skipped with the reason otherwise;
- an archive of several images carries each shared layer once and loads whole;
- `wharf save -o` writes the same bytes as the route, or nothing at all;
- the headers (Content-Disposition, Content-Length equal to the bytes received) and the
  errors: unknown image 404, bad format 400, no image 400, LXC type 400, no session 401."""

import hashlib
import http.client
import json
import os
import pty
import shutil
import subprocess
import tarfile
import tempfile
import unittest
import urllib.parse

from engines import Podman
from fixtures import FixtureBuilder, skopeo
from harness import Registry, WharfTestCase, Wharfd
from test_cli import WHARF, Cli
from test_docker_engine import Dockerd

registry = None
truths = {}
IMAGES = [("lgsd/diamond", "latest"), ("bbox", "1.36"), ("team/base-a", "latest"),
          ("team/base-b", "latest")]


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truths["diamond"] = fx.diamond()  # OCI media types, three layers
            truths["bbox"] = fx.image("library/bbox", ["1.36"], [{"/bin/bbox": os.urandom(3000)}],
                                      {"cmd": ["/bin/bbox"]}, format="v2s2")  # Docker types
            truths["a"], truths["b"] = fx.shared_pair()  # a common first layer
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


def fetch(api, path, out_path=None, method="GET"):
    """(status, headers, body bytes, or the count written to out_path) of one request
    with the session cookie, the body streamed."""
    host = urllib.parse.urlsplit(api.base_url).netloc
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.putrequest(method, path)
        cookie = "; ".join(f"{c.name}={c.value}" for c in api.jar)
        if cookie:
            conn.putheader("Cookie", cookie)
        conn.endheaders()
        resp = conn.getresponse()
        if out_path is None or resp.status != 200:
            return resp.status, resp.headers, resp.read()
        count = 0
        with open(out_path, "wb") as f:
            while chunk := resp.read(1 << 20):
                f.write(chunk)
                count += len(chunk)
        return resp.status, resp.headers, count
    finally:
        conn.close()


def on_terminal(cmd, env, which):
    """Runs cmd with its stdout or its stderr (`which`) on a pseudo-terminal; returns (exit
    code, what it wrote to the terminal, the other stream's text)."""
    leader, follower = pty.openpty()
    other = subprocess.PIPE
    try:
        p = subprocess.Popen(cmd, stdout=follower if which == "stdout" else other,
                             stderr=follower if which == "stderr" else other,
                             stdin=subprocess.DEVNULL, env=env)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        pipe = p.stderr if which == "stdout" else p.stdout
        rest = pipe.read()
        pipe.close()
        code = p.wait(timeout=60)
    finally:
        os.close(leader)
    return code, shown.decode(errors="replace"), rest.decode(errors="replace")


def tar_members(path):
    with tarfile.open(path) as t:
        return {m.name: (t.extractfile(m).read() if m.isfile() else None) for m in t}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class ArchiveExportTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url))
        cls.api = cls.wharfd.client()
        for name, tag in IMAGES:
            status, body = cls.api.download(name, tag)
            assert (status, body) == (200, {}), (name, tag, status, body)
        failed = {ref: job for ref, job in cls.api.wait_jobs(IMAGES).items() if job}
        assert not failed, failed
        cls.tmp = tempfile.mkdtemp(prefix="wharf-export-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.podman = cls.serve(Podman())

    def path(self, name):
        return os.path.join(self.tmp, name)

    def inspect(self, name, tag):
        status, body = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, body)
        return body

    def export(self, path, file_name):
        """The archive at `path` into tmp/file_name, its headers checked; returns its path."""
        out = self.path(file_name)
        status, headers, count = fetch(self.api, path, out)
        self.assertEqual(status, 200, count)
        self.assertEqual(headers["Content-Type"], "application/x-tar")
        self.assertEqual(int(headers["Content-Length"]), count, "Content-Length = bytes sent")
        self.assertEqual(os.path.getsize(out), count)
        self.disposition = headers["Content-Disposition"]
        return out

    def test_docker_export_loads_into_podman_with_wharfs_id(self):
        tar = self.export("/api/v1/image/docker/lgsd/diamond/latest/export", "diamond.tar")
        self.assertEqual(self.disposition, 'attachment; filename="lgsd_diamond_latest.tar"')
        members = tar_members(tar)
        manifest = json.loads(members["manifest.json"])
        self.assertEqual(manifest[0]["RepoTags"], ["docker.io/lgsd/diamond:latest"])
        wharf = self.inspect("lgsd/diamond", "latest")
        for layer in truths["diamond"].layers:  # as stored: compressed, named by digest
            self.assertEqual("sha256:" + hashlib.sha256(
                members["blobs/sha256/" + layer.split(":")[1]]).hexdigest(), layer)
        out = self.podman.run("load", "-i", tar)
        self.assertIn("docker.io/lgsd/diamond:latest", out)
        pod = self.podman.inspect("docker.io/lgsd/diamond:latest")
        self.assertEqual(pod["Id"], wharf["Id"])
        self.assertEqual(pod["Id"], truths["diamond"].id)
        self.assertEqual(pod["RootFS"], wharf["RootFS"])

    def test_oci_export_is_read_by_skopeo_and_podman(self):
        for name, tag, truth in (("lgsd/diamond", "latest", truths["diamond"]),
                                 ("bbox", "1.36", truths["bbox"])):
            with self.subTest(image=name):
                tar = self.export(f"/api/v1/image/docker/{name}/{tag}/export?format=oci",
                                  f"{name.replace('/', '_')}-oci.tar")
                members = tar_members(tar)
                self.assertEqual(json.loads(members["oci-layout"]),
                                 {"imageLayoutVersion": "1.0.0"})
                raw = skopeo("inspect", "--raw", f"oci-archive:{tar}")
                digest = "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
                self.assertEqual(digest, truth.digest)
                wharf = self.inspect(name, tag)
                self.assertIn(digest, wharf["RepoDigests"][0])
                copied = self.path(f"{name.replace('/', '_')}-copied")
                skopeo("copy", f"oci-archive:{tar}", f"dir:{copied}")
                self.assertTrue(os.path.exists(os.path.join(copied, truth.id)))
                out = self.podman.run("load", "-i", tar)
                full = f"docker.io/{'library/' if '/' not in name else ''}{name}:{tag}"
                self.assertIn(full, out)
                self.assertEqual(self.podman.inspect(full)["Id"], wharf["Id"])
        # A named reference picks one image of the layout (skopeo 1.9 finds OCI-typed
        # manifests by name only; the Docker-typed bbox above is read as the only one).
        tar = self.path("lgsd_diamond-oci.tar")
        named = json.loads(skopeo("inspect", f"oci-archive:{tar}:lgsd/diamond:latest"))
        self.assertEqual(named["Digest"], truths["diamond"].digest)

    def test_several_images_carry_shared_layers_once(self):
        query = "image=team/base-a&image=docker.io/team/base-b:latest&image=lgsd/diamond:latest"
        for fmt in ("docker", "oci"):
            with self.subTest(format=fmt):
                tar = self.export(f"/api/v1/image/export?format={fmt}&{query}", f"many-{fmt}.tar")
                self.assertEqual(self.disposition,
                                 'attachment; filename="team_base-a_latest-and-2-more.tar"')
                with tarfile.open(tar) as t:
                    names = [m.name for m in t]
                self.assertEqual(len(names), len(set(names)), "each entry once")
                shared = truths["a"].layers[0]
                self.assertEqual(shared, truths["b"].layers[0])
                self.assertIn("blobs/sha256/" + shared.split(":")[1], names)
                members = tar_members(tar)
                manifest = json.loads(members["manifest.json"])
                self.assertEqual([m["RepoTags"] for m in manifest],
                                 [["docker.io/team/base-a:latest"], ["docker.io/team/base-b:latest"],
                                  ["docker.io/lgsd/diamond:latest"]])
                if fmt == "oci":
                    index = json.loads(members["index.json"])
                    self.assertEqual(
                        [d["annotations"]["org.opencontainers.image.ref.name"]
                         for d in index["manifests"]],
                        ["team/base-a:latest", "team/base-b:latest", "lgsd/diamond:latest"])
        # podman load reads an OCI layout of one image only; with several it falls back to
        # the archive's manifest.json, and so loads every image of either format.
        for fmt in ("oci", "docker"):
            with self.subTest(load=fmt):
                self.podman.run("load", "-i", self.path(f"many-{fmt}.tar"))
                for truth, ref in ((truths["a"], "team/base-a"), (truths["b"], "team/base-b")):
                    pod = self.podman.inspect(f"docker.io/{ref}:latest")
                    self.assertEqual(pod["Id"], truth.id)
                    self.podman.run("rmi", f"docker.io/{ref}:latest")

    def test_wharf_save_writes_the_archive_or_nothing(self):
        cli = Cli()
        self.addCleanup(cli.close)
        self.assertEqual(cli.login(self.wharfd).returncode, 0)
        route = self.export("/api/v1/image/docker/bbox/1.36/export", "bbox-route.tar")
        saved = self.path("bbox-saved.tar")
        r = cli.run("save", "-o", saved, "bbox:1.36")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(sha256_file(saved), sha256_file(route), "the same archive, byte for byte")
        piped = self.path("bbox-piped.tar")
        with open(piped, "wb") as f:
            p = subprocess.run([str(WHARF), "save", "--format", "oci", "bbox:1.36"],
                               stdout=f, stderr=subprocess.PIPE, env=cli.env(), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("index.json", tar_members(piped))
        # A failure leaves no file and no temporary one.
        work = tempfile.mkdtemp(dir=self.tmp)
        r = cli.run("save", "-o", os.path.join(work, "x.tar"), "bbox:1.36", "nope:1")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("Image not found: nope:1", r.stderr)
        self.assertEqual(os.listdir(work), [])
        r = cli.run("save", "--format", "zip", "bbox:1.36")
        self.assertEqual(r.returncode, 2, r.stderr)
        # stdout a terminal: refused before anything is asked of the server.
        code, _, err = on_terminal([str(WHARF), "save", "bbox:1.36"], cli.env(), "stdout")
        self.assertEqual(code, 2, err)
        self.assertIn("cowardly refusing to write to a terminal; use -o", err)
        # stderr a terminal: a progress line, redrawn in place, ending at 100%.
        code, shown, err = on_terminal([str(WHARF), "save", "-o", self.path("bbox-tty.tar"),
                                        "bbox:1.36", "lgsd/diamond"], cli.env(), "stderr")
        self.assertEqual(code, 0, shown)
        last = shown.replace("\r\n", "\n").split("\r")[-1]
        self.assertIn("Saving bbox:1.36 and 1 more", last)
        self.assertIn("100%", last)
        self.assertTrue(tar_members(self.path("bbox-tty.tar")))

    def test_docker_load_into_dockerd(self):
        tar = self.export("/api/v1/image/docker/lgsd/diamond/latest/export", "for-docker.tar")
        oci = self.export("/api/v1/image/docker/bbox/1.36/export?format=oci", "for-docker-oci.tar")
        dockerd = Dockerd(self.wharfd.listen).start()  # skips, saying why, where it cannot
        self.addCleanup(dockerd.stop)
        out = dockerd.run("load", "-i", tar)
        self.assertIn("lgsd/diamond:latest", out)
        image = json.loads(dockerd.run("image", "inspect", "lgsd/diamond:latest"))[0]
        self.assertEqual(image["Id"], "sha256:" + truths["diamond"].id)
        self.assertEqual(image["RootFS"]["Layers"],
                         self.inspect("lgsd/diamond", "latest")["RootFS"]["Layers"])
        dockerd.run("load", "-i", oci)  # the OCI format carries manifest.json for it
        image = json.loads(dockerd.run("image", "inspect", "bbox:1.36"))[0]
        self.assertEqual(image["Id"], "sha256:" + truths["bbox"].id)

    def test_errors(self):
        cases = [
            ("/api/v1/image/docker/lgsd/diamond/9.9/export", 404, ["lgsd/diamond:9.9"]),
            ("/api/v1/image/export?image=bbox:1.36&image=nope", 404, ["nope:latest"]),
            ("/api/v1/image/docker/bbox/1.36/export?format=zip", 400, ["format"]),
            ("/api/v1/image/export?format=oci", 400, ["image"]),
            ("/api/v1/image/export?image=Not/Valid", 400, ["Not/Valid"]),
            ("/api/v1/image/lxc/debian-bookworm/latest/export", 400, ["lxc"]),
        ]
        for path, code, words in cases:
            with self.subTest(path=path):
                status, body = self.api.get(path)
                self.assertError(status, body, code, mentions=words)
        anonymous = self.wharfd.client(login=False)
        for path in ("/api/v1/image/docker/bbox/1.36/export", "/api/v1/image/export?image=bbox"):
            status, body = anonymous.get(path)
            self.assertError(status, body, 401)


if __name__ == "__main__":
    unittest.main()
