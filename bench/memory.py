"""The memory section of the bench: one long-running wharfd pulls and deletes the same image
(A's shape: incompressible layers) many times, and its RSS is read after every cycle.

  cycle   POST download, wait for the events stream to say it was added, DELETE it, wait
          until its blobs are gone from the store (the delete's collection ran), then read
          VmRSS of wharfd;
  result  RSS after the last cycle, and the spread (max - min) and the drift (median of the
          last quarter minus median of the quarter before) over the last half of the cycles.

A wharfd whose memory is steady stays flat over the last half; one that leaks, or whose
allocator keeps what its worker threads freed, keeps rising. No assertion lives here: the
figures and their targets go into the report (`make bench`), and `make soak` runs the same
cycles as a check (scripts/soak):

    python3 bench/memory.py --wharfd build/wharfd [--cycles 200]

exits 1 unless RSS after the last cycle is <= 24 MiB and its drift over the last half is
within 1 MiB. Against a Release wharfd: under AddressSanitizer RSS is its allocator's.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402
import images as fx  # noqa: E402
import tools  # noqa: E402
from report import human_bytes, log, median  # noqa: E402

MiB = 1 << 20


def blobs_in_store(data_dir):
    root = os.path.join(data_dir, "blobs", "sha256")
    try:
        return set(os.listdir(root))
    except OSError:
        return set()


def wait_collected(data_dir, digests, timeout=60):
    """Waits (bounded) until none of `digests` is in the store any more."""
    names = {d.split(":", 1)[1] for d in digests}
    deadline = time.monotonic() + timeout
    while names & blobs_in_store(data_dir):
        if time.monotonic() > deadline:
            raise TimeoutError(f"blobs still in the store {timeout} s after the delete")
        time.sleep(0.01)


def cycles(wharfd_binary, reg, image, count, work):
    """RSS in KiB after each of `count` pull/delete cycles of `image` in one wharfd, and its
    RSS before the first."""
    w = tools.Wharf(wharfd_binary, reg, data_parent=work).start()
    try:
        api = tools.Api(w)
        api.call("GET", "/api/v1/image/?from=local")
        before = tools.rss_kib(w.proc.pid)
        rss = []
        for k in range(count):
            tools.pull_through_api(api, [image], 600)
            status, body = api.call("DELETE", f"/api/v1/image/local/docker/{image.repo}")
            if status != 200:
                raise RuntimeError(f"delete {image.repo} -> {status} {body}")
            wait_collected(w.data_dir, [b.digest for b in image.layers])
            rss.append(tools.rss_kib(w.proc.pid))
            if (k + 1) % 25 == 0 or k + 1 == count:
                log(f"  cycle {k + 1}: RSS {rss[-1] / 1024:.1f} MiB")
        api.close()
        return before, rss
    except Exception:
        print(w.log())
        raise
    finally:
        w.stop()


def summary(rss):
    """(last MiB, spread MiB over the last half, drift MiB between its two quarters)."""
    half = rss[len(rss) // 2:]
    q = max(1, len(half) // 2)
    drift = (median(half[q:]) - median(half[:q])) / 1024 if len(half) > 1 else 0.0
    return rss[-1] / 1024, (max(half) - min(half)) / 1024, drift


LAST_MIB, DRIFT_MIB = 24, 1.0


def measure_memory(args, scale, reg, fixtures, res, work):
    layers, size = scale["a"]
    count = scale["memory_cycles"]
    log(f"memory: {count} pull/delete cycles of {layers} x {human_bytes(size)} in one wharfd")
    image = fixtures.incompressible("bench/memory", layers, size)
    before, rss = cycles(args.wharfd, reg, image, count, work)
    last, spread, drift = summary(rss)
    res.put("memory.rss_before_mib", before / 1024)
    res.put("memory.rss_last_mib", last)
    res.put("memory.rss_spread_mib", spread)
    res.put("memory.rss_drift_abs_mib", abs(drift))  # the bench's numbers are >= 0
    marks = sorted({m for m in (0, 9, len(rss) // 4, len(rss) // 2, 3 * len(rss) // 4,
                                len(rss) - 1) if m < len(rss)})
    lines = ["| cycle | " + " | ".join(str(m + 1) for m in marks) + " |",
             "| --- | " + " | ".join("---" for _ in marks) + " |",
             "| RSS | " + " | ".join(f"{rss[m] / 1024:.1f} MiB" for m in marks) + " |",
             "",
             f"One wharfd, {count} cycles of: pull of a {layers} x {human_bytes(size)} "
             "incompressible image, its delete, and the wait until its blobs were collected; "
             f"VmRSS after each. Before the first: {before / 1024:.1f} MiB. Over the last "
             f"{len(rss) - len(rss) // 2} cycles: spread (max - min) {spread:.1f} MiB, drift "
             f"(median of the last quarter - the quarter before) {drift:+.1f} MiB."]
    res.section("Steady memory (pull/delete cycles)", lines)
    res.target(f"wharfd RSS after {count} pull/delete cycles", f"<= {LAST_MIB} MiB",
               f"{last:.1f} MiB", last <= LAST_MIB)
    res.target(f"RSS flat over the last {len(rss) - len(rss) // 2} cycles",
               f"drift <= {DRIFT_MIB:g} MiB", f"{drift:+.1f} MiB (spread {spread:.1f} MiB)",
               abs(drift) <= DRIFT_MIB)


def main():
    p = argparse.ArgumentParser(description="pull/delete cycles of A in one wharfd, checked")
    p.add_argument("--wharfd", required=True)
    p.add_argument("--cycles", type=int, default=200)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="wharf-memory-")
    try:
        with harness.Registry() as reg:
            fixtures = fx.FixtureSet(reg.host, workdir=os.path.join(work, "fixtures"))
            os.makedirs(fixtures.work, exist_ok=True)
            image = fixtures.incompressible("bench/memory", 4, 64 * MiB)
            before, rss = cycles(args.wharfd, reg, image, args.cycles, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    last, spread, drift = summary(rss)
    print(f"memory: RSS {before / 1024:.1f} MiB before, {last:.1f} MiB after {args.cycles} "
          f"cycles; over the last half spread {spread:.1f} MiB, drift {drift:+.1f} MiB")
    if last > LAST_MIB or abs(drift) > DRIFT_MIB:
        raise SystemExit(f"memory: over {LAST_MIB} MiB or drifting more than {DRIFT_MIB:g} MiB")


if __name__ == "__main__":
    main()
