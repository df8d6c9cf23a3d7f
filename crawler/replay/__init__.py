"""A local stand-in for the Wayback Machine: CDX, playback and faults, served from WARC files.

``python -m crawler.replay --captures tests/fixtures/captures --port 8765`` runs it;
``crawler.replay.testing.running_replay`` starts one for a test.
"""

from crawler.replay.captures import Capture, CaptureError, CaptureStore, urlkey
from crawler.replay.faults import Faults
from crawler.replay.server import ReplayServer
from crawler.replay.testing import running_replay

__all__ = ["Capture", "CaptureError", "CaptureStore", "Faults", "ReplayServer", "running_replay", "urlkey"]
