"""POST /api/v1/image/import against archives real tools write: `podman save` (docker
archive and OCI archive, also gzip-compressed), `skopeo copy` to docker-archive: and
oci-archive:, several images in one archive; then wharf's inspect must give the source's Id
and RootFS. Bad archives (not a tar, truncated, no or malformed manifest.json, a missing
layer, a digest or diff_id mismatch, an absolute or '..' entry name, a symlink out of the
archive, a decompression bomb, a body over imports.max_bytes) get a 400 or 413 naming the
problem and leave nothing listed and no blob behind. A 1 GiB import keeps wharfd's memory
flat; a cancel half-way and a kill -9 half-way leave nothing (fsck clean)."""

import io
import os
import subprocess
import tarfile
import tempfile
import threading
import unittest

from archives import StreamedArchive, config_of, docker_archive, gzipped, layer_tar, sha256, upload
from engines import Podman
from fixtures import FixtureBuilder, skopeo
from harness import Registry, WharfTestCase, Wharfd
from test_cli import WHARF, Cli
from support import wait_until

registry = None
truths = {}


def setUpModule():
    global registry
    registry = Registry().start()
    try:
        with FixtureBuilder(registry) as fx:
            truths["diamond"] = fx.diamond()
            truths["a"], truths["b"] = fx.shared_pair()
    except Exception:
        registry.stop()
        raise


def tearDownModule():
    registry.stop()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ImportTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.wharfd = cls.serve(Wharfd(registry.url,
                                      extra_toml="\n[imports]\nmax_bytes = 1610612736\n"))
        cls.api = cls.wharfd.client()
        cls.podman = cls.serve(Podman())
        cls.work = tempfile.mkdtemp(prefix="wharf-import-")
        cls.podman.pull(f"{registry.host}/lgsd/diamond:latest")
        cls.podman.pull(f"{registry.host}/team/base-a:latest")

    def inspect(self, name, tag):
        status, body = self.api.get(f"/api/v1/image/docker/{name}/{tag}/inspect")
        self.assertEqual(status, 200, body)
        return body

    def import_file(self, path, query=""):
        with open(path, "rb") as f:
            return upload(self.api, f.read(), query)

    def assert_same_image(self, name, tag, truth):
        wharf = self.inspect(name, tag)
        pod = self.podman.inspect(f"{registry.host}/{truth.repo}:latest")
        self.assertEqual(wharf["Id"], truth.id)
        self.assertEqual(wharf["Id"], pod["Id"])
        self.assertEqual(wharf["RootFS"], pod["RootFS"])

    def assert_nothing_left(self, blobs_before):
        self.assertEqual(set(self.wharfd.blob_files()), blobs_before)
        ingest = os.path.join(self.wharfd.data_dir, "ingest")
        self.assertEqual(os.listdir(ingest) if os.path.isdir(ingest) else [], [])
        self.assertEqual([j for j in self.api.download_jobs() if j["status"] == "importing"], [])

    def test_podman_save_docker_and_oci_archives_plain_and_gzip(self):
        ref = f"{registry.host}/lgsd/diamond:latest"
        for fmt in ("docker-archive", "oci-archive"):
            path = os.path.join(self.work, f"diamond-{fmt}.tar")
            self.podman.run("save", "--format", fmt, "-o", path, ref)
            for compress in (False, True):
                with self.subTest(format=fmt, gzip=compress):
                    self.api.delete(f"/api/v1/image/local/docker/{registry.host}/lgsd/diamond")
                    with open(path, "rb") as f:
                        data = f.read()
                    status, body = upload(self.api, gzipped(data) if compress else data,
                                          f"?file={fmt}.tar")
                    self.assertEqual(status, 200, body)
                    self.assertEqual(body["images"][0]["name"], f"{registry.host}/lgsd/diamond")
                    self.assertEqual(body["images"][0]["tag"], "latest")
                    self.assertEqual(body["images"][0]["id"], "sha256:" + truths["diamond"].id)
                    self.assert_same_image(f"{registry.host}/lgsd/diamond", "latest",
                                           truths["diamond"])

    def test_skopeo_archives_keep_the_ids_and_oci_keeps_the_manifest(self):
        truth = truths["b"]
        src = f"docker://{registry.host}/{truth.repo}:latest"
        for kind in ("docker-archive", "oci-archive"):
            with self.subTest(kind=kind):
                path = os.path.join(self.work, f"b-{kind}.tar")
                skopeo("copy", "--src-tls-verify=false", src, f"{kind}:{path}:imported/b:{kind}")
                status, body = self.import_file(path)
                self.assertEqual(status, 200, body)
                wharf = self.inspect("imported/b", kind)
                self.assertEqual(wharf["Id"], truth.id)
                self.assertEqual([d for d in wharf["RootFS"]["Layers"]],
                                 truth.config["rootfs"]["diff_ids"])
        # An OCI archive carries the manifest: the digest is the registry's.
        self.assertEqual(body["images"][0]["digest"], truth.digest)

    def test_several_images_in_one_archive(self):
        path = os.path.join(self.work, "two.tar")
        self.podman.run("save", "--multi-image-archive", "--format", "docker-archive", "-o",
                        path, f"{registry.host}/lgsd/diamond:latest",
                        f"{registry.host}/team/base-a:latest")
        status, body = self.import_file(path, "?file=two.tar")
        self.assertEqual(status, 200, body)
        names = {(i["name"], i["tag"]) for i in body["images"]}
        self.assertEqual(names, {(f"{registry.host}/lgsd/diamond", "latest"),
                                 (f"{registry.host}/team/base-a", "latest")})
        self.assert_same_image(f"{registry.host}/team/base-a", "latest", truths["a"])

    def test_an_untagged_image_takes_the_tag_parameter(self):
        layer = layer_tar({"/hello": b"hi\n"})
        data, config = docker_archive([layer], None)
        status, body = upload(self.api, data)
        self.assertError(status, body, 400, mentions=["has no name", "?tag=NAME:TAG"])
        status, body = upload(self.api, data, "?tag=named/by-tag:v1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["images"], [{"name": "named/by-tag", "tag": "v1", "id": config,
                                           "digest": body["images"][0]["digest"]}])
        # The same archive again gives the same manifest (uncompressed layers as they are).
        again = upload(self.api, data, "?tag=named/by-tag:v2")[1]
        self.assertEqual(again["images"][0]["digest"], body["images"][0]["digest"])
        status, body = upload(self.api, data, "?tag=Not_A_Name")
        self.assertError(status, body, 400, mentions=["tag"])

    def bad_archives(self):
        layer = layer_tar({"/etc/x": b"x" * 3000})
        good, _ = docker_archive([layer], ["bad/one:1"])
        other = layer_tar({"/etc/y": b"y"})
        wrong_diff, _ = docker_archive([layer], ["bad/one:1"],
                                       config=b'{"architecture":"amd64","os":"linux",'
                                              b'"rootfs":{"type":"layers","diff_ids":["'
                                              + sha256(other).encode() + b'"]}}')
        no_layer, _ = docker_archive([layer], ["bad/one:1"], manifest=[
            {"Config": "00/layer.tar", "RepoTags": ["bad/one:1"], "Layers": ["zz/layer.tar"]}])
        config_name = sha256(config_of([sha256(layer)])).split(":")[1] + ".json"
        escape = docker_archive([layer], ["bad/one:1"], layer_names=["00/real.tar"],
                                extra=[("01/layer.tar", b"", tarfile.SYMTYPE, "../../etc/passwd")],
                                manifest=[{"Config": config_name, "RepoTags": ["b/o:1"],
                                           "Layers": ["01/layer.tar"]}])[0]
        oci_bad = self.oci_with_bad_blob()
        return [
            ("not a tar", os.urandom(4096), "not a tar archive"),
            ("truncated", good[:len(good) // 2], "truncated"),
            ("no manifest", self.tar_of([("README", b"hello")]), "no manifest.json"),
            ("malformed manifest", self.tar_of([("manifest.json", b"[{not json")]),
             "not valid JSON"),
            ("layer missing", no_layer, "missing from the archive"),
            ("diff_id mismatch", wrong_diff, "but the config expects"),
            ("digest mismatch", oci_bad, "does not match its digest"),
            ("absolute name", self.tar_of([("/etc/passwd", b"x")]), "is absolute"),
            ("dot-dot name", self.tar_of([("a/../../x", b"x")]), "'..'"),
            ("symlink out", escape, "leads out of the archive"),
            ("no image in manifest.json", self.tar_of([("manifest.json", b"{}")]),
             "lists no image"),
        ]

    @staticmethod
    def tar_of(entries):
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, data in entries:
                info = tarfile.TarInfo("x")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        raw = bytearray(out.getvalue())
        # Names written by hand: tarfile itself refuses some of them.
        offset = 0
        for name, data in entries:
            header = raw[offset:offset + 512]
            header[0:100] = name.encode().ljust(100, b"\0")
            header[148:156] = b"        "
            header[148:156] = b"%06o\0 " % sum(header)
            raw[offset:offset + 512] = header
            offset += 512 + (len(data) + 511) // 512 * 512
        return bytes(raw)

    def oci_with_bad_blob(self):
        path = os.path.join(self.work, "bad-oci.tar")
        if not os.path.exists(path):
            self.podman.run("save", "--format", "oci-archive", "-o", path,
                            f"{registry.host}/team/base-a:latest")
        with tarfile.open(path) as tar:
            members = [(m, tar.extractfile(m).read() if m.isfile() else b"")
                       for m in tar.getmembers()]
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            for member, data in members:
                if member.isfile() and member.name.startswith("blobs/") and member.size > 1000:
                    data = data[:-1] + bytes([data[-1] ^ 1])
                tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
        return out.getvalue()

    def test_bad_archives_are_400s_naming_the_problem_and_leave_nothing(self):
        before = set(self.wharfd.blob_files())
        listed = self.api.local_images()
        for what, data, message in self.bad_archives():
            for compress in (False, True):
                with self.subTest(what=what, gzip=compress):
                    status, body = upload(self.api, gzipped(data) if compress else data,
                                          f"?file={what.replace(' ', '-')}.tar")
                    self.assertError(status, body, 400, mentions=[message])
                    self.assert_nothing_left(before)
        self.assertEqual(self.api.local_images(), listed)
        failed = [j for j in self.api.download_jobs() if j["status"] == "failed"]
        self.assertIn("not a tar archive", " ".join(j["error"] for j in failed))

    def test_limits_a_bomb_and_a_body_over_max_bytes(self):
        small = self.serve(Wharfd(registry.url, extra_toml="\n[imports]\nmax_bytes = 4194304\n"))
        api = small.client()
        zeros = layer_tar({"/zeros": bytes(8 << 20)})
        data, _ = docker_archive([zeros], ["bomb/zeros:1"])
        bomb = gzipped(data)
        self.assertLess(len(bomb), 1 << 20)
        status, body = upload(api, bomb)
        self.assertError(status, body, 400, mentions=["decompressed archive over 4194304 bytes"])
        status, body = upload(api, data)
        self.assertError(status, body, 413, mentions=["at most 4194304 bytes"])
        status, body = upload(api, iter([data[i:i + 65536] for i in range(0, len(data), 65536)]))
        self.assertError(status, body, 413, mentions=["at most 4194304 bytes"])
        self.assertEqual(small.blob_files(), [])

    def test_wharf_load_from_a_file_and_from_stdin(self):
        cli = Cli()
        self.addCleanup(cli.close)
        self.assertEqual(cli.login(self.wharfd).returncode, 0)
        data, config = docker_archive([layer_tar({"/cli": b"loaded by the CLI"})],
                                      ["cli/loaded:1", "cli/loaded:2"])
        path = os.path.join(self.work, "cli.tar")
        with open(path, "wb") as f:
            f.write(data)
        ran = cli.run("load", "-i", path)
        self.assertEqual(ran.returncode, 0, ran.stderr)
        self.assertEqual(ran.stdout.splitlines(),
                         ["Loaded image: cli/loaded:1", "Loaded image: cli/loaded:2"])
        self.assertEqual(self.inspect("cli/loaded", "2")["Id"], config.split(":")[1])
        piped = subprocess.run([str(WHARF), "load", "--tag", "cli/untagged:7"], env=cli.env(),
                               input=gzipped(docker_archive([layer_tar({"/u": b"u"})], None)[0]),
                               capture_output=True, timeout=60)
        self.assertEqual(piped.returncode, 0, piped.stderr)
        self.assertEqual(piped.stdout.decode().strip(), "Loaded image: cli/untagged:7")
        bad = subprocess.run([str(WHARF), "load"], env=cli.env(), input=b"not an archive",
                             capture_output=True, timeout=60)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("not a tar archive", bad.stderr.decode())

    def test_a_user_who_is_not_an_admin_may_not_import(self):
        self.wharfd.add_user("viewer", "viewer-password-1")
        viewer = self.wharfd.client(login=False)
        viewer.login("viewer", "viewer-password-1")
        data, _ = docker_archive([layer_tar({"/a": b"a"})], ["v/a:1"])
        status, body = upload(viewer, data)
        self.assertError(status, body, 403)
        status, body = upload(self.wharfd.client(login=False), data)
        self.assertError(status, body, 401)

    def test_a_1_gib_import_keeps_memory_flat(self):
        big = StreamedArchive(1 << 30, "big/one:1")
        big.learn_diff_id()
        pid = self.wharfd.proc.pid
        before = rss_kib(pid)
        peak = [before]
        done = threading.Event()

        def watch():
            while not done.wait(0.2):
                peak[0] = max(peak[0], rss_kib(pid))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            status, body = upload(self.api, big.pieces(), "?file=big.tar", timeout=900)
        finally:
            done.set()
            watcher.join()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["images"][0]["id"], big.config_digest)
        self.assertEqual(self.inspect("big/one", "1")["Size"], big.layer_size)
        # A 1 GiB archive through a server that kept it would grow by 1 GiB; this one
        # holds pieces of at most a few MiB (the figure: growth under 64 MiB).
        growth_mib = (peak[0] - before) / 1024
        print(f"1 GiB import: wharfd RSS grew by {growth_mib:.1f} MiB")
        self.assertLess(growth_mib, 64)
        self.api.delete("/api/v1/image/local/docker/big/one")


class ImportInterruptedTest(WharfTestCase):
    """A cancel and a kill -9 while the archive is half-way up."""

    def setUp(self):
        self.wharfd = Wharfd(registry.url).start()
        self.addCleanup(self.wharfd.stop)
        self.api = self.wharfd.client()

    def start_slow_upload(self, half_sent):
        big = StreamedArchive(64 << 20, "slow/one:1")
        big.learn_diff_id()
        result = {}

        def pieces():
            sent = 0
            for piece in big.pieces():
                yield piece
                sent += len(piece)
                if sent > 16 << 20 and not half_sent.is_set():
                    half_sent.set()
                if half_sent.is_set() and result.get("stop"):
                    return

        def run():
            try:
                result["answer"] = upload(self.api, pieces(), "?file=slow.tar", timeout=60)
            except OSError as e:
                result["answer"] = ("error", str(e))

        thread = threading.Thread(target=run)
        thread.start()
        return thread, result

    def importing_job(self):
        jobs = [j for j in self.api.download_jobs() if j["status"] == "importing"]
        return jobs[0] if jobs else None

    def test_cancel_half_way(self):
        half = threading.Event()
        thread, result = self.start_slow_upload(half)
        self.assertTrue(half.wait(60))
        wait_until(lambda: self.importing_job() and self.importing_job()["bytes_done"] > 0, 30,
                   "the import to show")
        job = self.importing_job()
        self.assertEqual(job["name"], "slow.tar")
        status, body = self.api.delete(f"/api/v1/image/downloadstatus/docker/slow.tar/{job['tag']}")
        self.assertEqual(status, 200, body)
        thread.join(90)
        status, body = result["answer"]
        self.assertError(status, body, 409, mentions=["cancelled"])
        wait_until(lambda: self.importing_job() is None, 30, "the import to end")
        self.assertEqual(self.api.local_images().get("results", []), [])
        self.assertEqual(self.wharfd.blob_files(), [])

    def test_kill_9_half_way_leaves_nothing(self):
        half = threading.Event()
        thread, result = self.start_slow_upload(half)
        self.assertTrue(half.wait(60))
        wait_until(lambda: self.importing_job() is not None, 30, "the import to show")
        self.wharfd.kill9()
        result["stop"] = True
        thread.join(90)
        # What the kill left: the upload's temp file (never under blobs/), which fsck names.
        self.assertEqual(self.fsck()[0], 1)
        for name in self.wharfd.blob_files():  # what reached blobs/ is whole
            with open(os.path.join(self.wharfd.data_dir, "blobs", "sha256", name), "rb") as f:
                self.assertEqual(sha256(f.read()), "sha256:" + name)
        self.wharfd.start()
        self.api = self.wharfd.client()
        self.assertEqual(self.api.download_jobs(), [])
        self.assertEqual(self.api.local_images().get("results", []), [])
        # The restart removed the temp file and collected what no image needs.
        wait_until(lambda: self.wharfd.blob_files() == [], 30, "the import's blobs to go")
        self.assertEqual(os.listdir(os.path.join(self.wharfd.data_dir, "ingest")), [])
        self.wharfd.stop(cleanup=False)
        code, out = self.fsck()
        self.assertEqual(code, 0, out)

    def fsck(self):
        proc = subprocess.run([str(self.wharfd.binary), "fsck", "--data", self.wharfd.data_dir],
                              capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout + proc.stderr


if __name__ == "__main__":
    unittest.main()
