"""The main job end to end, offline: the bundled captures served by the local replay of the Wayback
Machine, crawled into a corpus, then searched and counted.

    python scripts/demo.py [--db demo/corpus.db] [--captures tests/fixtures/captures]

Run by `make demo`. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "demo" / "corpus.db")
    parser.add_argument("--captures", type=Path, default=ROOT / "tests" / "fixtures" / "captures")
    parser.add_argument("--fresh", action="store_true", help="start from an empty corpus")
    args = parser.parse_args()

    from crawler.replay.testing import running_replay

    args.db.parent.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    corpus = [sys.executable, "-m", "crawler.cli"]
    with running_replay(args.captures) as server:
        print(f"replay of the Wayback Machine on {server.base_url}, serving {args.captures}", flush=True)
        crawl = subprocess.run(
            [*corpus, "crawl", "--db", str(args.db), "--wayback-url", server.base_url,
             # the replay is local: no need to spare it the archive's politeness limits
             "--cdx-rate", "6000", "--playback-rate", "200", "--set", "LOG_LEVEL=WARNING"],
            cwd=ROOT,
        )
    if crawl.returncode != 0:
        return crawl.returncode
    for command in (["search", "外资", "--limit", "5"], ["search", "trade in services", "--lang", "en", "--limit", "3"], ["stats"]):
        print(f"\n$ corpus {' '.join(command)}", flush=True)
        subprocess.run([*corpus, *command, "--db", str(args.db)], cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
