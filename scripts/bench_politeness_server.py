"""The replay server's own capacity, so politeness and crawl benchmarks know it is not their bottleneck.

    python scripts/bench_politeness_server.py [--quick]

``run(quick) -> str`` (markdown, the scripts/bench.py convention) measures requests per second and
latency percentiles for playback (``id_``, 30 KB GBK pages) and CDX queries at 1 and 8 concurrent
clients over keep-alive connections, and checks that a rate limit admits what it should.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

import requests

from crawler.replay import CaptureStore, running_replay

URL = "http://www.mofcom.gov.cn/article/zwgk/gkzcjd/2023{month:02d}/2023{month:02d}03{n:06d}.shtml"


def synthetic_store(pages: int) -> CaptureStore:
    store = CaptureStore()
    body = ("<html><body>" + "商务部政策解读，数字化赋能生活服务。" * 900 + "</body></html>").encode("gbk")
    for n in range(pages):
        url = URL.format(month=n % 12 + 1, n=n)
        store.add(url, f"2023{n % 12 + 1:02d}15{n % 24:02d}0000", body=body + str(n).encode(),
                  headers={"Content-Type": "text/html; charset=gb2312"})
    return store


def _load(base: str, paths: list[str], clients: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        session = requests.Session()
        i, mine = offset, []
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = session.get(base + paths[i % len(paths)], timeout=30)
            response.raise_for_status()
            mine.append(time.perf_counter() - started)
            i += clients
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies


def run(quick: bool = False) -> str:
    pages, seconds = (300, 2.0) if quick else (3000, 8.0)
    store = synthetic_store(pages)
    index = store.index()
    playback = [f"/web/{c.timestamp}id_/{c.original}" for c in index.captures]
    cdx = [f"/cdx/search/cdx?url={c.original}&output=json" for c in index.captures]
    lines = [
        f"{pages} captures of a 30 KB GBK page; keep-alive clients for {seconds:.0f} s each.",
        "",
        "| endpoint | clients | requests/s | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    with running_replay(store) as server:
        for name, paths in (("playback id_", playback), ("CDX exact, json", cdx)):
            for clients in (1, 8):
                count, latencies = _load(server.base_url, paths, clients, seconds)
                quantiles = statistics.quantiles(latencies, n=20)
                lines.append(
                    f"| {name} | {clients} | {count / seconds:.0f} | {quantiles[9] * 1000:.1f} | {quantiles[18] * 1000:.1f} |"
                )
    limit, window = 20, 1.0
    with running_replay(store, playback_limit=limit, window=window) as server:
        session = requests.Session()
        admitted = 0
        stop = time.monotonic() + 3 * window
        while time.monotonic() < stop:
            status = session.get(server.base_url + playback[0], timeout=30).status_code
            admitted += status == 200
            # twice the allowed rate, pausing a window after each 429 as a polite client must
            time.sleep(window if status == 429 else window / (2 * limit))
        lines += ["", f"Rate limit {limit} per {window:.0f} s; a client at twice that rate which pauses a window "
                  f"after each 429, for 3 s: {admitted} admitted, {server.stats['served_429']} answered 429, "
                  f"{server.stats['bans_started']} bans."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    print(run(parser.parse_args().quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
