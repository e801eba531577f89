"""Container engines and clients the tests drive as a user would, each with all its
state in a temp dir so that the host's configuration plays no part."""

import json
import os
import shutil
import subprocess
import tempfile


class Podman:
    """podman as root with everything in a temp dir: storage (vfs), run root, libpod
    tmp dir, containers.conf, storage.conf, registries.conf (no search registries),
    signature policy, auth file, TMPDIR and HOME, so neither the host's configuration
    nor a registry other than the loopback one plays any part. (podman 4.3 still keeps
    its blob-info cache in /var/lib/containers/cache, as skopeo in fixtures.py does.)"""

    def start(self):
        self.dir = d = tempfile.mkdtemp(prefix="wharf-podman-")
        files = {
            "registries.conf": "unqualified-search-registries = []\n",
            "storage.conf": f'[storage]\ndriver = "vfs"\nrunroot = "{d}/run"\n'
                            f'graphroot = "{d}/root"\n',
            "containers.conf": f'[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n'
                               f'lock_type = "file"\nvolume_path = "{d}/volumes"\n'
                               f'[network]\nnetwork_config_dir = "{d}/networks"\n',
            "policy.json": json.dumps({"default": [{"type": "insecureAcceptAnything"}]}),
            "auth.json": json.dumps({"auths": {}}),
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        os.mkdir(os.path.join(d, "tmp"))
        self.env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        self.env.update(CONTAINERS_CONF=f"{d}/containers.conf",
                        CONTAINERS_STORAGE_CONF=f"{d}/storage.conf",
                        CONTAINERS_REGISTRIES_CONF=f"{d}/registries.conf",
                        REGISTRY_AUTH_FILE=f"{d}/auth.json", TMPDIR=f"{d}/tmp", HOME=d)
        return self

    def stop(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, *args, timeout=60):
        d = self.dir
        cmd = ["podman", "--root", f"{d}/root", "--runroot", f"{d}/run", "--storage-driver",
               "vfs", "--tmpdir", f"{d}/libpod", *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc.stdout

    def pull(self, ref, creds=None, timeout=60):
        """Plain HTTP, any signature; creds "USER:PASSWORD" for a registry that needs them."""
        self.run("pull", "--quiet", "--tls-verify=false", *(["--creds", creds] if creds else []),
                 "--signature-policy", f"{self.dir}/policy.json", ref, timeout=timeout)

    def inspect(self, ref):
        return json.loads(self.run("image", "inspect", ref))[0]

    def layer_bytes(self, ref):
        """The sum of the layers' sizes as `podman history` reports them (uncompressed)."""
        return sum(entry["size"] for entry in json.loads(self.run("history", "--format",
                                                                  "json", ref)))
