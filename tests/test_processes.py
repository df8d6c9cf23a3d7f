"""The fork server the crawl's helper processes (extraction workers, the writer) start from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crawler.processes import preload_modules

ROOT = Path(__file__).resolve().parent.parent


def test_the_fork_server_preloads_what_the_entry_points_main_modules_import():
    # A child runs its parent's main module again: what that imports is loaded once, in the server.
    assert {"crawler.extract", "crawler.writer", "crawler.cli", "scrapy.cmdline"} <= set(preload_modules())
    assert "__main__" not in preload_modules()  # does nothing on Python 3.11


def test_a_main_module_run_with_dash_m_is_preloaded_too(tmp_path):
    (tmp_path / "probe_main.py").write_text("from crawler.processes import preload_modules\nprint(preload_modules())\n")
    shown = subprocess.run([sys.executable, "-m", "probe_main"], cwd=tmp_path, capture_output=True, text=True,
                           check=True, env={"PYTHONPATH": f"{tmp_path}:{ROOT}"}).stdout
    assert "'probe_main'" in shown and "'crawler.cli'" in shown
