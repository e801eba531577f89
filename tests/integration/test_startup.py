"""Starting wharf as a user does: wharfd's start-up line names the page's URL; the listen
address comes from --listen, else WHARF_LISTEN, else the file's `listen`; a port in use
names those settings; `make run LISTEN=... DATA=...` passes them on and says where the page
and the CLI are."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import (REPO_ROOT, WharfTestCase, Wharfd, free_port, http_status, stop_process,
                     wait_until, wharfd_binary)


class ListenWharfd(Wharfd):
    """A wharfd whose configuration file says listen = 127.0.0.1:FILE_PORT and whose command
    gives --listen only when flag_port is set; `port` is where it is expected to listen."""

    def __init__(self, file_port, flag_port=None, **kw):
        super().__init__("http://127.0.0.1:9", **kw)
        self.file_port = file_port
        self.flag_port = flag_port

    def write_config(self):
        expected, self.port = self.port, self.file_port
        try:
            super().write_config()
        finally:
            self.port = expected

    def command(self):
        flag = ["--listen", f"127.0.0.1:{self.flag_port}"] if self.flag_port else []
        return [str(self.binary), "--config", self.config_path, "--data", self.data_dir, *flag]


class StartupTest(WharfTestCase):
    def started(self, wharfd):
        self.addCleanup(wharfd.stop)
        return wharfd.start()

    def test_the_start_up_line_names_the_page(self):
        wharfd = self.started(Wharfd("http://127.0.0.1:9"))
        line = wait_until(lambda: re.search(r"wharfd listening on (\S+)", wharfd.log()), 10,
                          "the start-up line")
        self.assertEqual(line.group(1), f"http://127.0.0.1:{wharfd.port}/", wharfd.log())
        self.assertIn("the web page", wharfd.log())
        self.assertEqual(http_status(line.group(1)), 200)

    def test_the_flag_comes_before_the_environment_before_the_file(self):
        file_port, env_port, flag_port = free_port(), free_port(), free_port()
        cases = [  # (flag, WHARF_LISTEN, where it listens)
            (flag_port, f"127.0.0.1:{env_port}", flag_port),
            (None, f"127.0.0.1:{env_port}", env_port),
            (None, "", file_port),  # empty: as if unset
        ]
        for flag, env, expected in cases:
            with self.subTest(flag=flag, env=env):
                wharfd = ListenWharfd(file_port, flag, port=expected,
                                      env={"WHARF_LISTEN": env})
                with wharfd:
                    self.assertIn(f"wharfd listening on http://127.0.0.1:{expected}/",
                                  wharfd.log())
                    for other in {file_port, env_port, flag_port} - {expected}:
                        self.assertIsNone(http_status(f"http://127.0.0.1:{other}/healthz"))

    def test_a_bad_wharf_listen_is_named(self):
        wharfd = ListenWharfd(free_port(), env={"WHARF_LISTEN": "127.0.0.1:http"})
        self.addCleanup(wharfd.stop)
        wharfd.write_config()
        run = subprocess.run(wharfd.command(), env=wharfd.env(), capture_output=True,
                             text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("WHARF_LISTEN", run.stderr)
        self.assertIn("127.0.0.1:http", run.stderr)

    def test_a_port_in_use_names_the_settings_to_change(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            wharfd = Wharfd("http://127.0.0.1:9", port=port)
            self.addCleanup(wharfd.stop)
            wharfd.write_config()
            run = subprocess.run(wharfd.command(), env=wharfd.env(), capture_output=True,
                                 text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}", run.stderr)
        for setting in ("--listen", "WHARF_LISTEN", "`listen`", "make run LISTEN=HOST:PORT"):
            self.assertIn(setting, run.stderr)


class MakeRunTest(WharfTestCase):
    """`make run` itself (its build prerequisite skipped with -o build, BUILD= the directory
    of the wharfd under test), on a free port and a private data directory."""

    def test_make_run_honours_listen_and_data(self):
        build = wharfd_binary().parent
        if not (build / "wharfd").exists():
            raise unittest.SkipTest(f"no wharfd in {build}")
        port = free_port()
        tmp = tempfile.mkdtemp(prefix="wharf-make-run-")
        data = Path(tmp, "data")
        env = {k: v for k, v in os.environ.items()
               if k not in ("WHARF_LISTEN", "LISTEN", "DATA", "MAKEFLAGS")}
        env["WHARF_ADMIN_PASSWORD"] = "make-run-test"
        out = Path(tmp, "out.txt")
        with open(out, "wb") as sink:
            proc = subprocess.Popen(
                ["make", "-s", "-C", str(REPO_ROOT), "-o", "build", "run", f"BUILD={build}",
                 f"LISTEN=127.0.0.1:{port}", f"DATA={data}"],
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True)

        def stop():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            stop_process(proc)
            shutil.rmtree(tmp, ignore_errors=True)
        self.addCleanup(stop)

        def up():
            if proc.poll() is not None:
                raise RuntimeError(f"make run exited {proc.returncode}: {out.read_text()}")
            return http_status(f"http://127.0.0.1:{port}/healthz") == 200
        wait_until(up, 60, "wharfd of make run")
        wait_until(lambda: "wharfd listening" in out.read_text(), 10, "the start-up line")
        text = out.read_text()
        self.assertIn(f"the page  http://127.0.0.1:{port}/", text)
        self.assertIn(f"{build}/wharf login --server http://127.0.0.1:{port} -u admin", text)
        self.assertIn("make install", text)
        self.assertIn(f"wharfd listening on http://127.0.0.1:{port}/", text)
        self.assertIn(f"data in {data}", text)
        self.assertTrue(Path(data, "wharf.db").exists())
        self.assertEqual(Path(data).stat().st_mode & 0o777, 0o700)

    def test_make_demo_passes_listen_on(self):
        run = subprocess.run(["make", "-n", "-C", str(REPO_ROOT), "-o", "build", "demo",
                              "BUILD=/opt/wharf-build", "LISTEN=127.0.0.1:18080"],
                             capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("WHARFD=/opt/wharf-build/wharfd WHARF_LISTEN='127.0.0.1:18080' scripts/demo",
                      run.stdout)


if __name__ == "__main__":
    unittest.main()
