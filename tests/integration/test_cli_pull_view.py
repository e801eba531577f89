"""The interrupt and reconnect of `wharf pull`'s view in a real terminal (a tmux pane),
through a throttled registry so the download is still running: Ctrl-C twice (the second at the
prompt) cancels the download and exits 130; Ctrl-C then "n" takes the prompt away
and goes back to the progress view, which then finishes; and a wharfd that stops answering
mid-pull (SIGSTOP, or killed and started again on its port and data) makes the view say
"reconnecting…", then, once it answers again, resume and finish the download; without a
terminal the same is said on stderr."""

import shutil
import signal
import subprocess
import unittest

from harness import WharfTestCase, wait_until
from test_cli import WHARF
from test_cli_terminal import TOTAL_BAR, exit_code, start_peers, stop_peers

MiB = 1024 * 1024


def has_bar(screen):
    return any(TOTAL_BAR.match(line) for line in screen.splitlines())


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
class PullViewTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        def build(fx):
            for repo in ("lgsd/twice", "lgsd/back", "lgsd/away", "lgsd/gone", "lgsd/plain"):
                fx.big(repo, "latest", size=4 * MiB)

        start_peers(cls, build)

    @classmethod
    def tearDownClass(cls):
        stop_peers(cls)

    def setUp(self):
        self.proxy.set_rate(128 * 1024)  # 4 MiB: half a minute, so it is still running

    def start_pull(self, name, image):
        self.tmux.start(name, [str(WHARF), "pull", image], {"HOME": self.cli.home})
        self.tmux.wait_for(name, has_bar, 30, "a progress bar")

    def prompt(self, name, image):
        self.tmux.keys(name, "C-c")
        return self.tmux.wait_for(name, lambda s: f"Cancel the download of {image}:latest?" in s,
                                  10, "the cancel question")[0]

    def finish(self, name, timeout=60):
        self.proxy.set_rate(None)
        return self.tmux.wait_for(name, lambda s: exit_code(s) is not None, timeout, "exit")[0]

    def assertCancelled(self, final, repo):
        self.assertEqual(exit_code(final), 130, final)
        self.assertIn(f"wharf: the download of {repo}:latest was cancelled", final)
        wait_until(lambda: self.api.find_job(self.api.download_jobs(), repo, "latest") is None,
                   10, "the cancelled job to leave downloadstatus")
        self.assertNotIn(repo, self.api.local_images())

    def test_1_ctrl_c_at_the_prompt_cancels(self):
        self.start_pull("twice", "lgsd/twice")
        screen = self.prompt("twice", "lgsd/twice")
        self.assertIn("[y/N/b]", screen)
        self.tmux.keys("twice", "C-c")
        final = self.tmux.wait_for("twice", lambda s: exit_code(s) is not None, 60, "exit")[0]
        self.assertCancelled(final, "lgsd/twice")

    def test_2_no_goes_back_to_the_progress_view(self):
        self.start_pull("back", "lgsd/back")
        self.prompt("back", "lgsd/back")
        self.tmux.keys("back", "n", "Enter")
        screen, _ = self.tmux.wait_for(
            "back", lambda s: "Cancel the download" not in s and has_bar(s), 60,
            "the progress view without the question")
        self.assertIsNone(exit_code(screen), screen)
        job = self.api.find_job(self.api.download_jobs(), "lgsd/back", "latest")
        self.assertIsNotNone(job, "the download stopped")
        final = self.finish("back")
        self.assertEqual(exit_code(final), 0, final)
        self.assertIn("Pulled lgsd/back:latest", final.splitlines())
        self.assertNotIn("continues in the background", final)
        self.assertEqual(sum(1 for line in final.splitlines() if line.startswith("Total")), 1,
                         final)  # still drawn in place, once

    def test_3_a_stopped_wharfd_shows_reconnecting_then_the_pull_finishes(self):
        self.start_pull("away", "lgsd/away")
        self.wharfd.proc.send_signal(signal.SIGSTOP)
        try:
            screen, _ = self.tmux.wait_for("away", lambda s: "reconnecting…" in s, 60,
                                           "the view to say reconnecting")
            self.assertIsNone(exit_code(screen), screen)
            self.assertTrue(has_bar(screen), screen)  # the progress stays on screen
        finally:
            self.wharfd.proc.send_signal(signal.SIGCONT)
        self.tmux.wait_for("away", lambda s: "reconnecting…" not in s and has_bar(s), 60,
                           "the view to resume")
        final = self.finish("away", timeout=120)
        self.assertEqual(exit_code(final), 0, final)
        self.assertIn("Pulled lgsd/away:latest", final.splitlines())
        self.assertNotIn("reconnecting", final)
        self.assertIn("lgsd/away", self.api.local_images())

    def test_4_a_killed_and_restarted_wharfd_shows_reconnecting_then_the_pull_finishes(self):
        self.start_pull("gone", "lgsd/gone")
        self.wharfd.kill9()
        try:
            screen, _ = self.tmux.wait_for("gone", lambda s: "reconnecting…" in s, 60,
                                           "the view to say reconnecting")
            self.assertIsNone(exit_code(screen), screen)
        finally:
            self.wharfd.start()  # the same port and data: the job resumes there
        final = self.finish("gone", timeout=120)
        self.assertEqual(exit_code(final), 0, final)
        self.assertIn("Pulled lgsd/gone:latest", final.splitlines())
        self.assertNotIn("reconnecting", final)
        self.assertIn("lgsd/gone", self.api.local_images())

    def test_5_without_a_terminal_reconnecting_is_said_on_stderr(self):
        proc = subprocess.Popen([str(WHARF), "pull", "lgsd/plain"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                env=self.cli.env())
        try:
            wait_until(lambda: self.api.find_job(self.api.download_jobs(), "lgsd/plain",
                                                 "latest"), 30, "the download to start")
            self.wharfd.kill9()
            stderr_lines = []
            try:
                wait_until(lambda: stderr_lines.append(proc.stderr.readline()) or
                           "reconnecting…" in stderr_lines[-1], 60, "a reconnecting line")
            finally:
                self.wharfd.start()
            self.proxy.set_rate(None)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, stderr_lines + [err])
        self.assertTrue(stderr_lines[-1].startswith("wharf: reconnecting… ("), stderr_lines)
        self.assertIn("wharf: wharfd answers again", err)
        self.assertIn("Pulled lgsd/plain:latest", out.splitlines())


if __name__ == "__main__":
    unittest.main()
