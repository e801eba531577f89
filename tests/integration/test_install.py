"""`make install DESTDIR=... PREFIX=/usr/local` lays out wharf as documented: both binaries,
the shipped data where the installed wharfd finds it, the systemd unit pointing at the
installed wharfd, /etc/wharf/wharf.toml, which a second install leaves alone, and the man
pages and shell completions the binaries print from their command tables."""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import REPO_ROOT, WharfTestCase, Wharfd, wharfd_binary
from test_cli import WHARF

PREFIX = "/usr/local"


def read_unit(path):
    """The unit's [Service] section as {key: [values]} (a key may repeat)."""
    values = {}
    section = None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        values.setdefault((section, key.strip()), []).append(value.strip())
    return values


class InstallTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.build = wharfd_binary().parent
        if not (cls.build / "wharfd").exists() or not WHARF.exists():
            raise unittest.SkipTest(f"wharfd or wharf not built in {cls.build}")
        if WHARF.parent != cls.build:
            raise unittest.SkipTest("wharf and wharfd come from different build directories")
        cls.destdir = tempfile.mkdtemp(prefix="wharf-install-")
        cls.first = cls.make_install()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.destdir, ignore_errors=True)

    @classmethod
    def make_install(cls):
        return subprocess.run(["make", "-s", "-C", str(REPO_ROOT), "install",
                               f"DESTDIR={cls.destdir}", f"PREFIX={PREFIX}",
                               f"BUILD={cls.build}"],
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def path(self, rel):
        return Path(self.destdir, rel.lstrip("/"))

    def test_1_lays_out_the_files(self):
        self.assertEqual(self.first.returncode, 0, self.first.stderr)
        for binary in ("wharfd", "wharf"):
            installed = self.path(f"{PREFIX}/bin/{binary}")
            self.assertTrue(installed.is_file(), installed)
            self.assertEqual(stat.S_IMODE(installed.stat().st_mode), 0o755)
            self.assertEqual(installed.read_bytes(), (self.build / binary).read_bytes())
        share = self.path(f"{PREFIX}/share/wharf")
        for rel in ("catalog/appcenter.json", "catalog/official.json"):
            self.assertEqual(Path(share, rel).read_bytes(), Path(REPO_ROOT, "share", rel).read_bytes())
        shipped = sorted(p.relative_to(REPO_ROOT / "share") for p in (REPO_ROOT / "share").rglob("*"))
        installed = sorted(p.relative_to(share) for p in share.rglob("*"))
        self.assertEqual(installed, shipped)
        config = self.path("/etc/wharf/wharf.toml")
        self.assertEqual(config.read_text(), Path(REPO_ROOT, "etc", "wharf.toml").read_text())
        unit = self.path(f"{PREFIX}/lib/systemd/system/wharfd.service")
        self.assertTrue(unit.is_file(), unit)

    def test_2_the_installed_binaries_run_and_find_their_share_dir(self):
        for binary in ("wharfd", "wharf"):
            out = subprocess.run([str(self.path(f"{PREFIX}/bin/{binary}")), "--version"],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertRegex(out.stdout.strip(), rf"^{binary} \d+\.\d+\.\d+$")
        # Started from elsewhere and told nothing, wharfd finds <exe>/../share/wharf.
        cwd = os.getcwd()
        os.chdir(self.destdir)  # no ./share here
        try:
            wharfd = Wharfd("http://127.0.0.1:9", binary=self.path(f"{PREFIX}/bin/wharfd"),
                            env={"WHARF_SHARE_DIR": ""}).start()  # empty = unset
        finally:
            os.chdir(cwd)
        try:
            status, listing = wharfd.client().get("/api/v1/image/?from=appcenter")
            self.assertEqual(status, 200, listing)
            shipped = Path(REPO_ROOT, "share", "catalog", "appcenter.json").read_text()
            names = [e["name"] for e in listing["results"]]
            self.assertTrue(names)
            self.assertTrue(all(f'"{name}"' in shipped for name in names))
        finally:
            wharfd.stop()

    def test_3_the_unit_runs_the_installed_wharfd_in_a_sandbox(self):
        unit = read_unit(self.path(f"{PREFIX}/lib/systemd/system/wharfd.service"))
        service = {key: values for (section, key), values in unit.items() if section == "Service"}
        self.assertEqual(service["ExecStart"], [
            f"{PREFIX}/bin/wharfd --config /etc/wharf/wharf.toml --data /var/lib/wharf"])
        self.assertEqual(service["StateDirectory"], ["wharf"])
        for key, value in {"ProtectSystem": "strict", "ProtectHome": "yes",
                           "NoNewPrivileges": "yes", "PrivateTmp": "yes",
                           "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
                           "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
                           "RestrictNamespaces": "yes", "LockPersonality": "yes",
                           "MemoryDenyWriteExecute": "yes", "CapabilityBoundingSet": "",
                           "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"}.items():
            self.assertEqual(service.get(key), [value], key)
        self.assertIn("@system-service", service["SystemCallFilter"])
        self.assertTrue(service.get("DynamicUser") == ["yes"] or service.get("User"))
        self.assertEqual(unit[("Install", "WantedBy")], ["multi-user.target"])

    def test_4_systemd_accepts_the_unit(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        # verify checks that ExecStart's binary exists: point it at the staged one.
        work = tempfile.mkdtemp(prefix="wharf-unit-")
        try:
            text = self.path(f"{PREFIX}/lib/systemd/system/wharfd.service").read_text()
            staged = str(self.path(f"{PREFIX}/bin/wharfd"))
            unit = Path(work, "wharfd.service")
            unit.write_text(text.replace(f"{PREFIX}/bin/wharfd", staged))
            out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                                 text=True, timeout=60)
            if "Failed to initialize manager" in out.stderr or "Failed to setup" in out.stderr:
                self.skipTest(f"systemd-analyze cannot run here: {out.stderr.strip()}")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertNotIn("wharfd.service:", out.stderr)  # no warning about the unit
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_6_man_pages_and_completions(self):
        man1 = self.path(f"{PREFIX}/share/man/man1/wharf.1")
        man8 = self.path(f"{PREFIX}/share/man/man8/wharfd.8")
        bash = self.path(f"{PREFIX}/share/bash-completion/completions/wharf")
        zsh = self.path(f"{PREFIX}/share/zsh/site-functions/_wharf")
        for f in (man1, man8, bash, zsh):
            self.assertTrue(f.is_file(), f)
            self.assertEqual(stat.S_IMODE(f.stat().st_mode), 0o644, f)
        self.assertFalse(list(Path(self.destdir).rglob("*.tmp")))
        self.assertTrue(man1.read_text().startswith(".TH WHARF 1 "))
        self.assertTrue(man8.read_text().startswith(".TH WHARFD 8 "))
        self.assertTrue(zsh.read_text().startswith("#compdef wharf\n"))
        # Bash loads the completion, and it completes commands, subcommands and flags.
        script = (f"source {bash}; complete -p wharf; "
                  "COMP_WORDS=(wharf reg); COMP_CWORD=1; _wharf; echo \"1:${COMPREPLY[*]}\"; "
                  "COMP_WORDS=(wharf registry s); COMP_CWORD=2; _wharf; echo \"2:${COMPREPLY[*]}\"; "
                  "COMP_WORDS=(wharf registry set --p); COMP_CWORD=3; _wharf; "
                  "echo \"3:${COMPREPLY[*]}\"")
        out = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0], "complete -F _wharf wharf")
        self.assertEqual(lines[1:], ["1:registry", "2:set", "3:--password-stdin"])
        # Zsh runs the #compdef file as the body of _wharf; compadd and _files stand in for
        # the completion system's, printing what they are given.
        script = (f"compadd() {{ shift; print -r -- \"$*\"; }}; _files() {{ print FILES; }}; "
                  f"_wharf() {{ source {zsh}; }}; "
                  "words=(wharf registry s); CURRENT=3; _wharf; "
                  "words=(wharf save -o x); CURRENT=4; _wharf")
        out = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.splitlines(), ["ls set rm test -h --help", "FILES"])
        # man renders both pages, each command of the CLI in wharf.1.
        if not shutil.which("man"):
            self.skipTest("man is not installed")
        for page, words in ((man1, ["wharf registry set", "wharf user passwd", "wharf df",
                                    "--password-stdin", "Exit codes"]),
                            (man8, ["wharfd user passwd", "fsck", "--data"])):
            out = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                                 timeout=60, env={**os.environ, "MANPAGER": "cat",
                                                  "MANWIDTH": "100", "LC_ALL": "C.UTF-8"})
            self.assertEqual(out.returncode, 0, out.stderr)
            text = re.sub(r".\x08", "", out.stdout)  # overstrike bold and underline
            for word in words:
                self.assertIn(word, text, page)
            self.assertNotIn("warning", out.stderr)

    def test_5_a_second_install_keeps_the_existing_config(self):
        config = self.path("/etc/wharf/wharf.toml")
        config.write_text('listen = "0.0.0.0:9999"\n')
        again = self.make_install()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(config.read_text(), 'listen = "0.0.0.0:9999"\n')
        self.assertIn("kept the existing", again.stdout)


if __name__ == "__main__":
    unittest.main()
