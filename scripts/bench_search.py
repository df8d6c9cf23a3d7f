"""Search latency: p50 and p95 of Chinese (2- and 4-character) and English queries on synthetic
corpora of 10,000 and 100,000 documents, against a baseline measured in the same run: the naive
``LIKE '%q%'`` scan of the documents table that a corpus without a Chinese index would need."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from synthetic import synthetic_records

from crawler.store import load_records, open_corpus, search
from crawler.store.schema import LATEST_VERSION

QUERIES = [("外资", "zh", "2-char zh"), ("关税", "zh", "2-char zh"), ("数字经济", "zh", "4-char zh"),
           ("营商环境", "zh", "4-char zh"), ("第1234号", "zh", "rare zh (1 doc)"),
           ("digital economy", "en", "English"), ("interpretation 1234", "en", "rare English (1 doc)")]
CACHE = Path(tempfile.gettempdir()) / "mofcom-corpus-bench"


def corpus_of(n: int):
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"search-{n}-v{LATEST_VERSION}.db"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        db = open_corpus(tmp)
        load_records(db, synthetic_records(n), batch_size=5000)
        db.close()
        tmp.rename(path)
    return open_corpus(path)


def timings(fn, runs: int) -> list[float]:
    fn()  # warm the page cache
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def run(quick: bool = False) -> str:
    sizes = [1_000, 5_000] if quick else [10_000, 100_000]
    runs = 15 if quick else 41
    lines = [
        "Each figure: p50 / p95 in ms over "
        f"{runs} runs of the query (page of 20 hits, newest first: what `corpus search` does), and the "
        "same page of hits from a `LIKE '%q%'` scan over the same columns (baseline, same run: it can stop "
        "early on common words, but must read every document for rare ones). "
        "`--sort rank` (bm25 over every match) shown for the first query of each kind.",
        "",
        "| documents | query | kind | corpus search p50 / p95 | --sort rank p50 | LIKE scan p50 | speed-up (p50) |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    worst_p50 = {}
    for n in sizes:
        db = corpus_of(n)
        seen_kinds = set()
        for query, lang, kind in QUERIES:
            ours = timings(lambda q=query, lg=lang, d=db: search(d, q, lang=lg, limit=20), runs)
            ranked = "—"
            if kind not in seen_kinds:
                seen_kinds.add(kind)
                r = timings(lambda q=query, lg=lang, d=db: search(d, q, lang=lg, limit=20, sort="rank"), max(5, runs // 4))
                ranked = f"{statistics.median(r):.1f}"
            column = "title || resulting_text" if lang == "zh" else "translated_title || translated_content || english_summary"
            words = query.split()
            where = " AND ".join(f"({column}) LIKE ?" for _ in words)
            like = timings(lambda ws=words, w=where, d=db: d.execute(
                f"SELECT id FROM documents WHERE {w} ORDER BY publish_date DESC LIMIT 20", [f"%{x}%" for x in ws]).fetchall(),
                max(5, runs // 4))
            p50, p95 = statistics.median(ours), pct(ours, 95)
            worst_p50[n] = max(worst_p50.get(n, 0), p50)
            lines.append(f"| {n:,} | {query} | {kind} | {p50:.1f} / {p95:.1f} | {ranked} | "
                         f"{statistics.median(like):.1f} | {statistics.median(like) / p50:.2g}× |")
        db.close()
    top = max(sizes)
    verdict = "met" if worst_p50[top] < 50 else "NOT met"
    lines += ["", f"Goal p50 < 50 ms at {top:,} documents: {verdict} (worst query p50 {worst_p50[top]:.1f} ms)."]
    return "\n".join(lines)
