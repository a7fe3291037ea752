"""Alembic migrations are the only way the schema is made: they must match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import create_engine, current_revision, head_revision
from storage.models import Base
from storage.models_similar import modelled


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision()

        def differences(connection: Any) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"include_name": modelled})
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == [], diff
