"""A projection database of the analytics service, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.analytics import store
from shared.db import Database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema(store.Base.metadata)
    yield database
    database.dispose()
