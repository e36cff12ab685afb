"""Shared fixtures: temporary databases and paths (as sqlite-utils' own tests do)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.db"


@pytest.fixture
def fresh_db(db_path: Path):
    from monitor.store import open_db

    db = open_db(db_path)
    yield db
    db.close()


@pytest.fixture
def public_sets() -> Path:
    """The shared data directory holding the held-out public sets; without them the test is skipped, saying where
    it looked (a test comparing a model on them means nothing without them)."""
    from classifiers.corpus import data_dir

    root = data_dir()
    wanted = [root / "chnsenticorp_htl", root / "smp2020_ewect"]
    missing = [str(path) for path in wanted if not path.is_dir()]
    if missing:
        pytest.skip(
            f"shared data not found: {', '.join(missing)} (set $TINGFENG_DATA_DIR or check ../shared/data)"
        )
    return root
