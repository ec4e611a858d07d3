"""The alembic history builds exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.db.engine import make_engine
from service.db.migrate import is_current
from service.db.tables import Base


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert is_current(engine)
    assert diff == []
    engine.dispose()
