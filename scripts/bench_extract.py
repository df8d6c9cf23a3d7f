"""Benchmark: our extractor against trafilatura on the golden pages (tests/fixtures/pages).

``run(quick=False) -> str`` returns a markdown section (``scripts/bench.py`` collects these):
per-field accuracy (title and date exact, body character-level F1, rejections) and the median
milliseconds per page over several timed passes, ours and trafilatura's side by side.

    .venv/bin/python scripts/bench_extract.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crawler.extract import EXTRACTOR_VERSION  # noqa: E402
from crawler.extract.evaluate import Extractor, load_golden, ours, score_golden, trafilatura_baseline  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "pages"


def time_per_page(extractor: Extractor, runs: int) -> tuple[float, int]:
    """(median ms per article page over ``runs`` timed passes, pages per pass); one untimed warm-up pass."""
    pages = [page for page in load_golden(PAGES) if page.kind == "article"]
    for page in pages:
        extractor(page.body, page.url, page.headers)
    per_pass = []
    for _ in range(runs):
        start = time.perf_counter()
        for page in pages:
            extractor(page.body, page.url, page.headers)
        per_pass.append((time.perf_counter() - start) * 1000 / len(pages))
    return statistics.median(per_pass), len(pages)


def run(quick: bool = False) -> str:
    import trafilatura

    runs = 5 if quick else 20
    ours_scores = score_golden(ours, PAGES)
    base_scores = score_golden(trafilatura_baseline, PAGES)
    ours_ms, n_pages = time_per_page(ours, runs)
    base_ms, _ = time_per_page(trafilatura_baseline, runs)

    def f1_min(scores: dict) -> float:
        return min(page["body_f1"] for page in scores["pages"].values())

    rows = [
        ("title, exact", f"{ours_scores['fields']['title']:.3f}", f"{base_scores['fields']['title']:.3f}"),
        ("publish date (day), exact", f"{ours_scores['fields']['publish_date']:.3f}", f"{base_scores['fields']['publish_date']:.3f}"),
        ("body, char-level F1 (mean)", f"{ours_scores['fields']['body_f1']:.4f}", f"{base_scores['fields']['body_f1']:.4f}"),
        ("body, char-level F1 (worst page)", f"{f1_min(ours_scores):.4f}", f"{f1_min(base_scores):.4f}"),
        ("source / department, exact", f"{ours_scores['fields'].get('source', 0):.3f} / {ours_scores['fields'].get('department', 0):.3f}", "n/a"),
        ("policy links / attachments, exact", f"{ours_scores['fields'].get('policy_links', 0):.3f} / {ours_scores['fields'].get('attachments', 0):.3f}", "n/a"),
        ("non-documents rejected for the right reason",
         f"{ours_scores['rejects']['right_reason']}/{ours_scores['rejects']['pages']}", "n/a (no rejection)"),
        (f"ms per page (median of {runs} passes)", f"{ours_ms:.1f}", f"{base_ms:.1f}"),
    ]
    worst = sorted(base_scores["pages"].items(), key=lambda kv: kv[1]["body_f1"])[:3]
    lines = [
        "## Extraction: ours vs trafilatura on the golden pages",
        "",
        f"{n_pages} article pages and {ours_scores['rejects']['pages']} non-documents from `tests/fixtures/pages` "
        f"(three eras, the English site, sub-sites; GBK, gzip, truncated and lying-header captures). "
        f"Ours: `crawler.extract` {EXTRACTOR_VERSION}; baseline: trafilatura {trafilatura.__version__} "
        "`bare_extraction(bytes, url, with_metadata=True)` on the same archived bytes.",
        "",
        "| measure | ours | trafilatura |",
        "|---|---|---|",
        *[f"| {name} | {a} | {b} |" for name, a, b in rows],
        "",
        "Body F1: bags of non-whitespace characters, output vs hand-written expected text. "
        "trafilatura's weakest pages: "
        + ", ".join(f"`{pid}` {scores['body_f1']:.3f}" for pid, scores in worst)
        + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
