"""`wharf pull` in a real terminal (a tmux pane of 120x40): progress bars redrawn in place
through a throttled registry, finishing at 100%; Ctrl-C then "y" cancels the download,
Ctrl-C then "b" leaves it running (and rm of a downloading image is a conflict); a pull of
a repository the registry lacks prints its error once, without a total line, and exits 4."""

import json
import os
import re
import sys
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest

from fixtures import FixtureBuilder
from harness import Registry, ThrottleProxy, WharfTestCase, Wharfd, wait_until
from test_cli import WHARF, Cli

MiB = 1024 * 1024
BAR = re.compile(r"^[0-9a-f]{12}: Downloading +\[=*>? *\]  \S+/\S+$")
TOTAL_BAR = re.compile(r"^Total +\[=*>? *\]  \S+/\S+  \d+%")


class Tmux:
    """A tmux server of our own (its own socket), one session per command. Each command runs
    in bash, followed by `echo EXIT=$?`, and the pane stays open to be read."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wharf-tmux-")
        self.socket = os.path.join(self.dir, "tmux.sock")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=20, stdin=subprocess.DEVNULL)

    def start(self, name, argv, env, width=120):
        script = os.path.join(self.dir, name + ".sh")
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        # The trap keeps bash alive on Ctrl-C (wharf handles it) so it can print the exit code.
        with open(script, "w") as f:
            f.write(f"{exports}trap true INT\n{shlex.join(argv)}\necho EXIT=$?\nsleep 120\n")
        proc = self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", "40",
                         f"bash {shlex.quote(script)}")
        if proc.returncode != 0:
            raise RuntimeError(f"tmux new-session failed: {proc.stderr}")

    def screen(self, name):
        return self.tmux("capture-pane", "-p", "-t", name).stdout

    def keys(self, name, *keys):
        self.tmux("send-keys", "-t", name, *keys)

    def wait_for(self, name, predicate, timeout, what):
        """The first screen for which predicate(screen) holds; records every screen seen."""
        seen = []

        def check():
            screen = self.screen(name)
            seen.append(screen)
            return screen if predicate(screen) else None

        try:
            return wait_until(check, timeout, what, interval=0.1), seen
        except TimeoutError as e:
            raise AssertionError(f"{e}\nlast screen:\n{seen[-1] if seen else ''}") from None

    def close(self):
        self.tmux("kill-server")
        shutil.rmtree(self.dir, ignore_errors=True)


def exit_code(screen):
    m = re.search(r"^EXIT=(\d+)$", screen, re.M)
    return int(m.group(1)) if m else None


def start_peers(cls, build_fixtures):
    """For a test class: a registry (its images pushed by build_fixtures(fx)), a throttling
    proxy in front of it, wharfd through the proxy, a logged-in Cli and a Tmux, as class
    attributes; stop_peers(cls) stops them."""
    if not WHARF.exists():
        raise unittest.SkipTest(f"wharf binary not found: {WHARF}")
    cls.registry = Registry().start()
    cls.proxy = cls.wharfd = cls.cli = cls.tmux = None
    try:
        with FixtureBuilder(cls.registry) as fx:
            build_fixtures(fx)
        cls.proxy = ThrottleProxy(cls.registry.host).start()
        cls.wharfd = Wharfd(cls.proxy.url).start()
        cls.api = cls.wharfd.client()
        cls.cli = Cli()
        login = cls.cli.login(cls.wharfd)
        if login.returncode != 0:
            raise RuntimeError(f"wharf login failed: {login.stderr}")
        cls.tmux = Tmux()
    except Exception:
        stop_peers(cls)
        raise


def stop_peers(cls):
    for part in (cls.tmux, cls.cli):
        if part:
            part.close()
    if cls.wharfd:
        cls.wharfd.stop()
    if cls.proxy:
        cls.proxy.stop()
    cls.registry.stop()


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
class PullTerminalTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        def build(fx):
            cls.big = fx.big("lgsd/big", "latest", size=8 * MiB)
            fx.big("lgsd/slow", "latest", size=6 * MiB)
            fx.big("lgsd/keep", "latest", size=6 * MiB)

        start_peers(cls, build)

    @classmethod
    def tearDownClass(cls):
        stop_peers(cls)

    def pull_in_terminal(self, name, image):
        self.tmux.start(name, [str(WHARF), "pull", image], {"HOME": self.cli.home})

    def test_1_progress_bars_redrawn_in_place_until_done(self):
        self.proxy.set_rate(2 * MiB)  # 8 MiB: about four seconds of progress
        self.pull_in_terminal("big", "lgsd/big")
        final, seen = self.tmux.wait_for("big", lambda s: exit_code(s) is not None, 60,
                                         "wharf pull to end")
        self.assertEqual(exit_code(final), 0, final)
        during = [s for s in seen if "lgsd/big:latest: downloading" in s]
        self.assertTrue(during, "no screen showed the download in progress")
        bars = [line for s in during for line in s.splitlines() if TOTAL_BAR.match(line)]
        self.assertTrue(bars, "no progress bar was drawn:\n" + during[-1])
        layer_bars = [line for s in during for line in s.splitlines() if BAR.match(line)]
        self.assertTrue(layer_bars, "no layer's bar was drawn:\n" + during[-1])
        totals = [line for s in during for line in s.splitlines() if line.startswith("Total")]
        self.assertTrue(any(re.search(r"\]  \S+/\S+  \d+%  \S+/s  ETA \S+$", t) for t in totals),
                        "no total with speed and ETA:\n" + "\n".join(totals[-5:]))
        percents = [int(m.group(1)) for t in totals for m in [re.search(r"  (\d+)%", t)] if m]
        self.assertTrue(any(0 < p < 100 for p in percents), percents)
        self.assertEqual(percents, sorted(percents))
        # The final screen: every layer complete, the total at 100%, drawn once (in place).
        lines = final.splitlines()
        self.assertIn("lgsd/big:latest: done", lines)
        self.assertEqual(sum(1 for line in lines if line.startswith("Total")), 1, final)
        self.assertEqual(sum(1 for line in lines if line.startswith("lgsd/big:latest:")), 1, final)
        total = next(line for line in lines if line.startswith("Total"))
        self.assertRegex(total, r"\[=+\]  (\S+)/\1  100%$")
        layers = [line for line in lines if re.match(r"^[0-9a-f]{12}: ", line)]
        self.assertEqual(len(layers), len(self.big.layers), final)
        self.assertTrue(all(line.endswith(": Pull complete") for line in layers), final)
        self.assertIn("Pulled lgsd/big:latest", lines)
        self.assertIn("lgsd/big", self.api.local_images())

    def start_slow_pull(self, name, image):
        self.proxy.set_rate(256 * 1024)
        self.pull_in_terminal(name, image)
        self.tmux.wait_for(name, lambda s: any(TOTAL_BAR.match(l) for l in s.splitlines()), 30,
                           "a progress bar")
        self.tmux.keys(name, "C-c")
        self.tmux.wait_for(name, lambda s: f"Cancel the download of {image}:latest? [y/N/b]" in s,
                           10, "the cancel question")

    def test_2_ctrl_c_then_yes_cancels_the_download(self):
        self.start_slow_pull("slow", "lgsd/slow")
        self.tmux.keys("slow", "y", "Enter")
        final, _ = self.tmux.wait_for("slow", lambda s: exit_code(s) is not None, 20, "exit")
        self.assertEqual(exit_code(final), 130, final)
        self.assertIn("wharf: the download of lgsd/slow:latest was cancelled", final)
        wait_until(lambda: self.api.find_job(self.api.download_jobs(), "lgsd/slow", "latest")
                   is None, 10, "the cancelled job to leave downloadstatus")
        self.assertNotIn("lgsd/slow", self.api.local_images())

    def test_3_ctrl_c_then_b_leaves_it_running(self):
        self.start_slow_pull("keep", "lgsd/keep")
        self.tmux.keys("keep", "b", "Enter")
        final, _ = self.tmux.wait_for("keep", lambda s: exit_code(s) is not None, 20, "exit")
        self.assertEqual(exit_code(final), 0, final)
        self.assertIn("The download of lgsd/keep:latest continues in the background", final)
        try:
            job = self.api.find_job(self.api.download_jobs(), "lgsd/keep", "latest")
            self.assertIsNotNone(job, "the download stopped")
            self.assertIn(job["status"], ("waiting", "downloading"))
            # Deleting an image while it downloads is a conflict: exit code 5.
            proc = self.cli.run("rm", "lgsd/keep")
            self.assertEqual(proc.returncode, 5, proc.stderr)
            self.assertEqual(len(proc.stderr.strip().split("\n")), 1, proc.stderr)
            self.assertTrue(proc.stderr.startswith("wharf: "), proc.stderr)
            status = self.cli.run("status")
            self.assertRegex(status.stdout, r"(?m)^lgsd/keep +latest +docker +downloading ")
        finally:
            self.api.delete("/api/v1/image/downloadstatus/docker/lgsd/keep/latest")
            self.proxy.set_rate(None)

    def test_4_a_missing_repository_is_one_error_and_exit_4(self):
        self.proxy.set_rate(None)
        self.pull_in_terminal("nosuch", "nosuch")
        final, _ = self.tmux.wait_for("nosuch", lambda s: exit_code(s) is not None, 60, "exit")
        self.assertEqual(exit_code(final), 4, final)
        lines = [line for line in final.splitlines() if line.strip()]
        self.assertFalse([line for line in lines if line.startswith("Total")], final)
        errors = [line for line in lines if "not found" in line]
        self.assertEqual(len(errors), 1, final)
        self.assertTrue(errors[0].startswith("wharf: pull nosuch:latest failed: "), final)
        self.assertIn("nosuch:latest: failed", lines)


if __name__ == "__main__":
    unittest.main()
