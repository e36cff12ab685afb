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
