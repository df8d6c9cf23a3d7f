"""Benchmarks: run the measured sections and write BENCHMARKS.md.

    python scripts/bench.py            # every section, full size (tens of minutes)
    python scripts/bench.py --quick    # every section, small sizes (about two minutes)
    python scripts/bench.py --only search,export

Each section lives in ``scripts/bench_<name>.py`` as ``run(quick: bool) -> str`` (markdown) and
reports medians of repeated runs with a baseline measured in the same run, so ratios hold on a
noisy machine. ``--only`` rewrites just those sections of an existing BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

SECTIONS = {
    "crawl": "Crawl throughput: the pipeline against a bare fetch",
    "politeness": "Politeness: achieved playback rate against the allowed rate",
    "extract": "Extraction: accuracy and speed against trafilatura",
    "search": "Search latency",
    "export": "Export throughput and memory",
    "translation": "Translation: throughput and quality",
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def section_text(name: str, quick: bool) -> str:
    title = SECTIONS[name]
    try:
        module = importlib.import_module(f"bench_{name}")
    except ModuleNotFoundError as e:
        if e.name != f"bench_{name}":
            raise
        return f"## {title}\n\nNot measured yet: `scripts/bench_{name}.py` does not exist.\n"
    started = time.monotonic()
    body = module.run(quick=quick).strip()
    if body.startswith("## "):  # the section's own heading: ours stands above it
        body = body.split("\n", 1)[1].strip() if "\n" in body else ""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if quick else "full"
    return (f"## {title}\n\n_Measured {when}, {mode} mode, {time.monotonic() - started:.0f} s; "
            f"{machine()}._\n\n{body}\n")


def write(out: Path, sections: dict[str, str]) -> None:
    existing = out.read_text(encoding="utf-8") if out.exists() else ""
    parts = []
    for name in SECTIONS:
        if name in sections:
            text = sections[name]
        else:
            m = re.search(rf"<!-- section:{name} -->\n(.*?)<!-- /section:{name} -->", existing, re.S)
            text = m.group(1) if m else f"## {SECTIONS[name]}\n\nNot measured yet.\n"
        parts.append(f"<!-- section:{name} -->\n{text.rstrip()}\n<!-- /section:{name} -->\n")
    header = ("# Benchmarks\n\nWritten by `scripts/bench.py` (`make bench`; `make bench-quick` for the "
              "two-minute version). Every figure is a median of repeated runs with its baseline measured "
              "in the same run; each section says when, how and on what machine it ran.\n\n")
    out.write_text(header + "\n".join(parts), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer runs (about two minutes)")
    parser.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = set(names) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    done = {}
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        done[name] = section_text(name, args.quick)
        write(args.out, done)  # keep what is measured even if a later section fails
    print(f"[bench] wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
