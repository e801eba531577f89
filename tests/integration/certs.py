"""A throwaway certificate authority made with the openssl CLI, for registries
that serve TLS and token servers that sign JWTs."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def openssl(*args, input=None):
    proc = subprocess.run(["openssl", *args], capture_output=True, input=input, timeout=60,
                          stdin=None if input is not None else subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout


class TestCA:
    """A CA key and certificate in a temp dir; issue() signs leaf certificates.

        with TestCA() as ca:  ca.cert is the CA's PEM file
    """

    def __init__(self, name="wharf test CA"):
        self.dir = tempfile.mkdtemp(prefix="wharf-ca-")
        self.key = os.path.join(self.dir, "ca.key")
        self.cert = os.path.join(self.dir, "ca.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                "-out", self.cert, "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name, ip=None, usage="serverAuth"):
        """(cert, key) PEM paths of a new RSA leaf certificate signed by this CA, for the
        IP address `ip` (subjectAltName) or, without one, for signing (JWTs)."""
        key = os.path.join(self.dir, f"{name}.key")
        csr = os.path.join(self.dir, f"{name}.csr")
        cert = os.path.join(self.dir, f"{name}.pem")
        ext = os.path.join(self.dir, f"{name}.ext")
        lines = ["basicConstraints=critical,CA:FALSE"]
        if ip:
            lines += [f"subjectAltName=IP:{ip}", f"extendedKeyUsage={usage}",
                      "keyUsage=critical,digitalSignature,keyEncipherment"]
        else:
            lines += ["keyUsage=critical,digitalSignature"]
        Path(ext).write_text("\n".join(lines) + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                "-subj", f"/CN={ip or name}")
        openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        return cert, key

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
