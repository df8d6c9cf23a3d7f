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


def test_a_child_of_the_fork_server_does_not_import_its_main_modules_imports_again(tmp_path):
    # probe_main stands for an entry point: it imports probe_dep, which notes the process importing it.
    (tmp_path / "probe_dep.py").write_text("import os\nIMPORTED_IN = os.getpid()\n")
    (tmp_path / "probe_main.py").write_text(
        "import os\n"
        "import probe_dep\n"
        "from crawler.processes import forkserver_context\n\n"
        "def report(queue):\n"
        "    queue.put(probe_dep.IMPORTED_IN != os.getpid())\n\n"
        "if __name__ == '__main__':\n"
        "    context = forkserver_context()\n"
        "    queue = context.Queue()\n"
        "    child = context.Process(target=report, args=(queue,))\n"
        "    child.start()\n"
        "    print('preloaded' if queue.get(timeout=60) else 'imported again')\n"
        "    child.join()\n"
    )
    shown = subprocess.run([sys.executable, "-m", "probe_main"], cwd=tmp_path, capture_output=True, text=True,
                           check=True, env={"PYTHONPATH": f"{tmp_path}:{ROOT}"}, timeout=120).stdout
    assert shown.strip() == "preloaded"
