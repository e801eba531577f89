"""The lower bound of a wharf pull on this machine, to tell a missed target that wharf
could still reach from one that no client doing the same checks could.

A pull must at least (1) have the registry serve every byte, (2) receive them, and (3)
verify every layer: SHA-256 of the blob and, for the diff_id, inflate it and SHA-256 the
tar. All run on the same cores, so the pull cannot take less than their CPU time divided by
the cores, nor less than the longest single layer's verification (one layer is one
stream). Storing and everything else are left out, so the real floor is higher still.
  (1) is docker-registry's CPU time while curl fetched the same blobs (from /proc);
  (2) is curl's own CPU time doing so, to /dev/null (its rusage);
  (3) is wharf-verify-cost, wharf's own LayerDigester timed on one thread (best of 3).
"""

import json
import os
import subprocess
import tempfile

from report import fmt_ratio

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def verify_cpu(binary, images, tmp_parent):
    """(total CPU seconds, longest layer's seconds) that verifying every distinct layer of
    `images` takes wharf-verify-cost."""
    args, temps, seen = [], [], set()
    for image in images:
        for layer in image.layers:
            if layer.digest in seen:
                continue
            seen.add(layer.digest)
            path = layer.path
            if path is None:  # a small layer held in memory
                fd, path = tempfile.mkstemp(prefix="bench-layer-", dir=tmp_parent)
                with os.fdopen(fd, "wb") as f:
                    f.write(layer.data)
                temps.append(path)
            args.append(f"{layer.media_type}:{path}")
    try:
        out = subprocess.run([binary, *args], capture_output=True, text=True, check=True,
                             timeout=600).stdout
    finally:
        for path in temps:
            os.unlink(path)
    result = json.loads(out)
    return result["cpu_s"], max((layer["cpu_s"] for layer in result["layers"]), default=0.0)


def floor_s(verify_total_s, verify_longest_s, transfer_cpu_s, cores=None):
    """transfer_cpu_s: the CPU of serving and receiving the bytes ((1) + (2))."""
    cores = cores or os.cpu_count() or 1
    return max((verify_total_s + transfer_cpu_s) / cores, verify_longest_s)


def describe(measured, floor_ratio, limit):
    """"0.53x (floor 0.32x)", with ": out of reach here" when the floor is past `limit`."""
    text = f"{fmt_ratio(measured)} (floor {fmt_ratio(floor_ratio)}"
    if floor_ratio is not None and floor_ratio > limit:
        text += ": out of reach here"
    return text + ")"
