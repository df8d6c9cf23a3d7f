"""Where a crawl extracts its pages: in its own process, or in worker processes.

Extraction is pure CPU (lxml and regular expressions), and the crawl's own process is already busy
running Scrapy's engine. With ``CORPUS_EXTRACT_WORKERS`` = N > 0 the pages go to N worker processes,
so the engine fetches while the workers extract.

The hand-over is lean on purpose: each worker is a child process on one pipe, read by the crawl's
own event loop (no threads, no executor queues). Pages that arrive while a worker is busy wait, and
go to it together as one batch once it answers; one batch per worker is in flight at a time, so the
pipe never blocks either side. (``concurrent.futures.ProcessPoolExecutor`` was measured here: its
feeder and manager threads cost the crawl's process about as much CPU as the extraction it moved.)

``auto`` takes one worker per core beyond the one the engine keeps busy, at most ``MAX_AUTO_WORKERS``.
A worker that dies (killed, out of memory) does not lose a page: the pages it held are extracted in
the crawl's process, the other workers carry on (with none left, extraction stays in the crawl's
process), and ``corpus/extract/pool_failed`` counts it.

A worker gets ``CORPUS_EXTRACT_TIMEOUT`` seconds (default 60) for a batch. One that takes longer is
stopped and replaced, and its pages go again, one at a time: a page that takes too long on its own
ends as a ``timed-out`` rejection (``corpus/extract/timeouts`` counts it; it is not final, so the spider
records the capture as an error, which the next crawl tries again), and the others are extracted as
usual. A page that would never end (a regular expression backtracking without end, say) thus costs the
crawl two timeouts, not a stalled worker. In the crawl's own process (``--workers 0``, ``auto`` on one
core, or after the workers are gone) the same limit holds for each page, by an alarm signal
(:func:`extract_in_time`).

Told of the crawl's stats (``report_to``), the workers keep their figures there as they go:
``corpus/extract/workers``, ``corpus/extract/batches`` (messages sent: pages per batch = pages /
batches) and ``corpus/cpu_seconds/extraction`` (their CPU time as of their latest answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapy.statscollectors import StatsCollector

from .extract import ExtractedPage, Rejection, extract_page
from .extract.page import timed_out
from .processes import forkserver_context

log = logging.getLogger(__name__)

MAX_AUTO_WORKERS = 8
# Pages handed to a worker in one message, at most: enough to amortise the hand-over, small enough
# that a batch does not hold the others up.
MAX_BATCH = 32
DEFAULT_TIMEOUT = 60.0  # seconds a worker may take over one batch
ALARM_REPEAT = 0.05  # seconds between alarms once a page in the crawl's own process is out of time

Result = ExtractedPage | Rejection
Page = tuple[bytes, str, Mapping[str, str] | None]


def worker_count(setting: Any, cpus: int | None = None) -> int:
    """The number of worker processes ``CORPUS_EXTRACT_WORKERS`` asks for: an integer, or ``auto``."""
    if setting is None or str(setting).strip().lower() in ("", "auto"):
        cpus = cpus if cpus is not None else (os.cpu_count() or 1)
        return max(0, min(MAX_AUTO_WORKERS, cpus - 1))
    workers = int(setting)
    if workers < 0:
        raise ValueError(f"CORPUS_EXTRACT_WORKERS must be 0 or more, or 'auto', not {setting!r}")
    return workers


class _TookTooLong(BaseException):
    """Raised by the alarm inside an extraction that ran out of time (not an ``Exception``, which
    :func:`extract_page` would turn into a rejection of its own)."""


def extract_in_time(body: bytes, url: str, headers: Mapping[str, str] | None, seconds: float) -> Result:
    """:func:`extract_page` in this process, stopped after ``seconds`` by a ``SIGALRM``: then the page
    is a ``timed-out`` rejection. (The regular-expression engine and the interpreter both heed the
    signal; a long call inside lxml ends first.)

    With no limit (``seconds`` <= 0), off the main thread (signals go to it alone), or when an alarm
    set by someone else is due first, the page is read with no limit of ours. An alarm due later is
    set again afterwards, with the time it had left.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        return extract_page(body, url, headers)
    earlier, every = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.getsignal(signal.SIGALRM)
    if (earlier and earlier <= seconds) or previous is None:  # (None: a handler set from C, not ours to swap)
        return extract_page(body, url, headers)
    running = [True]

    def on_alarm(signum: int, frame: Any) -> None:
        if running[0]:  # once the page is read, a late alarm is nothing to act on
            raise _TookTooLong

    # An alarm that goes off inside a finaliser or a weakref callback is swallowed there ("exception
    # ignored"), and may leave the callback's work undone. The garbage collector, which runs them
    # anywhere, waits until the page is read; the alarm repeats, for the callbacks that still run; and
    # the ones it cut short are not reported as errors of their own.
    hook, collecting = sys.unraisablehook, gc.isenabled()

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, _TookTooLong):
            hook(unraisable)

    started = time.monotonic()
    try:
        signal.signal(signal.SIGALRM, on_alarm)
        sys.unraisablehook = quiet
        gc.disable()
        signal.setitimer(signal.ITIMER_REAL, seconds, ALARM_REPEAT)  # (inside the try: it may go off at once)
        try:
            result = extract_page(body, url, headers)
        finally:
            running[0] = False  # (an alarm before this line still ends in the except below)
        return result
    except _TookTooLong:
        running[0] = False  # (when the alarm went off before the inner try)
        return timed_out(seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook
        if collecting:
            gc.enable()
        if earlier:
            signal.setitimer(signal.ITIMER_REAL, max(earlier - (time.monotonic() - started), 0.001), every)


def _serve(connection: Any) -> None:
    """A worker: batches of pages in, their results out, until the crawl closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle; it closes the pipe
    while True:
        try:
            pages = connection.recv()
        except (EOFError, OSError):
            break
        results = [extract_page(*page) for page in pages]
        connection.send((results, time.process_time()))


@dataclass
class _Worker:
    process: Any
    connection: Any
    # The batch it holds: each page with the future its result goes to.
    held: list[tuple[Page, asyncio.Future]] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU time it had spent when it last answered
    deadline: asyncio.TimerHandle | None = None  # when the batch it holds has taken too long

    def cancel_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


class Extraction:
    """``await extraction.extract(body, url, headers)``: :func:`extract_page`, here or in a worker."""

    def __init__(self, workers: int = 0, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.workers = workers
        self.timeout = timeout
        self.stats: StatsCollector | None = None
        self._pool: list[_Worker] = []
        self._waiting: list[tuple[Page, asyncio.Future]] = []
        self._suspects: list[tuple[Page, asyncio.Future]] = []  # pages of a batch that took too long
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_scheduled = False
        self._cpu_of_stopped = 0.0
        self._started = 0
        if workers:
            self._context = forkserver_context()
            for _ in range(workers):
                self._pool.append(self._start_worker())

    def _start_worker(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs,), name=f"corpus-extract-{self._started}",
                                        daemon=True)
        process.start()
        theirs.close()
        self._started += 1
        return _Worker(process, ours)

    def report_to(self, stats: StatsCollector) -> None:
        """Keep the workers' figures in ``stats`` from now on (Scrapy's exist once the crawl starts)."""
        self.stats = stats
        stats.set_value("corpus/extract/workers", self.workers)

    @property
    def alive(self) -> int:
        """Worker processes still extracting."""
        return len(self._pool)

    @property
    def cpu_seconds(self) -> float:
        """CPU time the workers have spent, as of their latest answers (a dead one's included)."""
        return self._cpu_of_stopped + sum(w.cpu_seconds for w in self._pool)

    async def extract(self, body: bytes, url: str, headers: Mapping[str, str] | None) -> Result:
        if not self._pool:
            return self._extract_one_here((body, url, headers))
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._attach(loop)
        future = loop.create_future()
        self._waiting.append(((body, url, headers), future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not None:
            for worker in self._pool:
                self._loop.remove_reader(worker.connection.fileno())
        self._loop = loop
        for worker in self._pool:
            self._watch(worker)

    def _watch(self, worker: _Worker) -> None:
        """Have the event loop read ``worker``'s answers as they come."""
        if self._loop is not None:
            self._loop.add_reader(worker.connection.fileno(), self._answered, worker)

    def _flush(self) -> None:
        """Hand the waiting pages to the idle workers, an even share each (a suspect page alone)."""
        self._flush_scheduled = False
        idle = [w for w in self._pool if not w.held]
        while (self._waiting or self._suspects) and idle:
            if self._suspects:
                batch, self._suspects = self._suspects[:1], self._suspects[1:]
            else:
                share = min(MAX_BATCH, -(-len(self._waiting) // len(idle)))
                batch, self._waiting = self._waiting[:share], self._waiting[share:]
            self._hand_over(idle.pop(), batch)
        if not self._pool:
            self._extract_here()

    def _hand_over(self, worker: _Worker, batch: list[tuple[Page, asyncio.Future]]) -> None:
        worker.held = batch
        if self.stats is not None:
            self.stats.inc_value("corpus/extract/batches")
        try:
            worker.connection.send([page for page, _ in batch])
        except OSError:
            self._worker_died(worker)
            return
        if self._loop is not None:
            worker.deadline = self._loop.call_later(self.timeout, self._too_slow, worker)

    def _too_slow(self, worker: _Worker) -> None:
        """A batch took longer than the timeout: the worker is replaced, and its pages go again one at
        a time; a page that was alone is rejected."""
        self._stop(worker)
        held, worker.held = worker.held, []
        try:
            replacement = self._start_worker()
        except OSError:  # no process to be had (out of memory, process limit): one worker fewer
            log.exception("could not start an extraction worker in place of one stopped")
            self._pool.remove(worker)
        else:
            self._pool[self._pool.index(worker)] = replacement
            self._watch(replacement)
        if len(held) == 1:
            [(page, future)] = held
            self._gave_up(page)
            if not future.done():
                future.set_result(timed_out(self.timeout))
        else:
            log.warning("a batch of %d pages took more than %g s to extract; they go again one at a time",
                        len(held), self.timeout)
            self._suspects.extend(held)
        self._flush()

    def _answered(self, worker: _Worker) -> None:
        try:
            results, worker.cpu_seconds = worker.connection.recv()
        except (EOFError, OSError):
            self._worker_died(worker)
            return
        worker.cancel_deadline()
        if self.stats is not None:
            self.stats.set_value("corpus/cpu_seconds/extraction", round(self.cpu_seconds, 3))
        batch, worker.held = worker.held, []
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
        self._flush()

    def _worker_died(self, worker: _Worker) -> None:
        log.error("an extraction worker died; the %d pages it held are extracted in the crawl's process%s",
                  len(worker.held), "" if len(self._pool) > 1 else ", and every page from now on")
        if self.stats is not None:
            self.stats.inc_value("corpus/extract/pool_failed")
        self._stop(worker)
        self._pool.remove(worker)
        held, worker.held = worker.held, []
        self._waiting[:0] = held
        if self._pool:
            if self._loop is not None:
                self._loop.call_soon(self._flush)
        else:
            self._extract_here()

    def _extract_here(self) -> None:
        waiting, self._waiting, self._suspects = self._suspects + self._waiting, [], []
        for page, future in waiting:
            if not future.done():
                future.set_result(self._extract_one_here(page))

    def _extract_one_here(self, page: Page) -> Result:
        """A page read in the crawl's own process, within the time limit."""
        result = extract_in_time(*page, self.timeout)
        if isinstance(result, Rejection) and not result.final:
            self._gave_up(page)
        return result

    def _gave_up(self, page: Page) -> None:
        """Say and count that ``page`` took longer than the time limit (in a worker or here)."""
        log.warning("extracting %s took more than %g s: given up (timed-out)", page[1], self.timeout)
        if self.stats is not None:
            self.stats.inc_value("corpus/extract/timeouts")

    def _stop(self, worker: _Worker) -> None:
        """Stop a worker: at once if it is busy (it may never finish), else once it reads EOF."""
        self._cpu_of_stopped += worker.cpu_seconds
        worker.cancel_deadline()
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(worker.connection.fileno())
        if worker.held:
            worker.process.kill()
        worker.connection.close()  # an idle worker reads EOF and ends
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()

    def close(self) -> None:
        for worker in self._pool:
            self._stop(worker)
            self._waiting[:0] = worker.held
            worker.held = []
        self._pool = []
        with contextlib.suppress(RuntimeError):  # the event loop is already closed: nobody awaits these
            self._extract_here()
