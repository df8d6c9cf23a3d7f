"""Build tests/fixtures/captures/ (WARC + manifest.json) from the page fixtures in tests/fixtures/pages/.

    python scripts/build_fixtures.py                      # rebuild after adding or changing a page
    python scripts/build_fixtures.py --check              # exit 1 if the bundled captures are stale
    python scripts/build_fixtures.py --pages DIR --out DIR

Add a page: put its archived bytes under tests/fixtures/pages/, add an entry to
tests/fixtures/pages/manifest.json (id, file, url, captures, status, headers, kind, expected), run this.
The output is deterministic: rebuilding unchanged pages rewrites nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.replay.build import FixtureError, build_fixtures

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=ROOT / "tests/fixtures/pages", help="page fixtures folder")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/captures", help="captures folder")
    parser.add_argument("--check", action="store_true", help="only report whether the output is up to date")
    args = parser.parse_args(argv)
    try:
        result = build_fixtures(args.pages, args.out, check=args.check)
    except FixtureError as error:
        print(f"build_fixtures: {error}", file=sys.stderr)
        return 2
    if args.check:
        if result.written:
            print(f"stale: {', '.join(str(p) for p in result.written)} (run scripts/build_fixtures.py)")
            return 1
        print(f"up to date: {result.captures} captures in {args.out}")
        return 0
    changed = ", ".join(p.name for p in result.written) or "nothing"
    print(f"{result.captures} captures -> {args.out} (wrote {changed}; unchanged {len(result.unchanged)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
