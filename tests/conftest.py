import json
from pathlib import Path

import pytest

from crawler.store import open_corpus

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def seed() -> dict:
    return json.loads((FIXTURES / "seed-record.json").read_text(encoding="utf-8"))


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "corpus.db"


@pytest.fixture
def db(db_path):
    database = open_corpus(db_path)
    yield database
    database.close()


CAPTURES = FIXTURES / "captures"


@pytest.fixture
def replay():
    """A replay of the Wayback Machine on a free 127.0.0.1 port, serving the bundled captures."""
    from crawler.replay.testing import running_replay

    with running_replay(CAPTURES) as server:
        yield server
