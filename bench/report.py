"""The bench's results: formatting helpers, the Results collection, and the markdown
report (bench/results/latest.md, the dated summary appended to BENCHMARKS.md)."""

import datetime
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def human_bytes(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def fmt_s(x):
    if x is None:
        return "n/a"
    return f"{x:.2f} s" if x >= 1 else f"{x * 1000:.0f} ms"


def fmt_ms(x):
    return "n/a" if x is None else f"{x:.2f} ms"


def ratio(a, b):
    return None if a is None or not b else a / b


def fmt_ratio(x):
    if x == float("inf"):
        return "inf (none answered)"
    return "n/a" if x is None else f"{x:.2f}x"


class Results:
    """Every measurement by key, plus the markdown sections built from them."""

    def __init__(self):
        self.values = {}
        self.sections = []
        self.failures = []
        self.targets = []  # (measure, target text, measured text, met: bool or None)

    def put(self, key, value):
        self.values[key] = value
        return value

    def section(self, title, lines):
        self.sections.append((title, lines))
        print(f"\n## {title}\n" + "\n".join(lines) + "\n", flush=True)

    def target(self, measure, target, measured, met):
        self.targets.append((measure, target, measured, met))


def median(xs):
    return statistics.median(xs) if xs else None


def machine():
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit += " + uncommitted changes" if dirty else ""
    except Exception:
        commit = "?"
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": os.uname().release,
            "commit": commit}


def render(res, scale_name, args, elapsed):
    m = machine()
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    head = [f"# wharf benchmark, {date}", "",
            f"Machine: {m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}; wharf {m['commit']}; "
            f"scale {scale_name}, {args.runs} runs; took {elapsed / 60:.1f} min.", ""]
    body = []
    if res.targets:
        body += ["## Targets", "", "| measure | target | measured | met |", "| --- | --- | --- | --- |"]
        for measure, target, measured, met in res.targets:
            body.append(f"| {measure} | {target} | {measured} | {'yes' if met else 'NO'} |")
        body.append("")
    for title, lines in res.sections:
        body += [f"## {title}", ""] + lines + [""]
    if res.failures:
        body += ["## Failures", ""] + [f"- {f}" for f in res.failures] + [""]
    return head, body, m, date


def write_outputs(res, scale_name, args, elapsed):
    head, body, m, date = render(res, scale_name, args, elapsed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(head + body) + "\n")
    (out.with_suffix(".json")).write_text(json.dumps(res.values, indent=1, sort_keys=True) + "\n")
    log(f"wrote {out}")
    if args.summary:
        summary = [f"## {date}: {m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}", "",
                   f"wharf {m['commit']}, scale {scale_name}, {args.runs} runs, "
                   f"{elapsed / 60:.1f} min. Full tables: `make bench` → bench/results/latest.md.",
                   ""]
        summary += [line.replace("## ", "### ", 1) if line.startswith("## ") else line
                    for line in body]
        bench_md = REPO / "BENCHMARKS.md"
        if not bench_md.exists():
            bench_md.write_text("# Benchmarks\n\nEach `make bench` run appends its summary here.\n\n")
        with bench_md.open("a") as f:
            f.write("\n".join(summary) + "\n")
        log(f"appended the summary to {bench_md}")


def check_numbers(res, out):
    """--check (the make test smoke): every measurement is a number, the table exists."""
    bad = [k for k, v in res.values.items()
           if not isinstance(v, (int, float)) or v != v or v < 0]
    if bad:
        raise SystemExit(f"bench: measurements without a number: {bad}")
    if res.failures:
        raise SystemExit(f"bench: sections failed: {res.failures}")
    text = Path(out).read_text()
    for title, _ in res.sections:
        if f"## {title}" not in text:
            raise SystemExit(f"bench: {out} lacks the section {title}")
    print(f"bench: {len(res.values)} measurements, all numbers; {out} written")
