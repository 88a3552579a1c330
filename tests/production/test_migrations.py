"""The Alembic migrations on PostgreSQL, the production database: all the way down and up again."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from bot.store.migrate import alembic_config, upgrade
from tests.conftest import temporary_postgres_database

pytestmark = pytest.mark.integration


def tables(url: str) -> set[str]:
    engine = create_engine(url, future=True)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_every_migration_downgrades_and_upgrades_again_on_postgresql():
    with temporary_postgres_database() as (url, _admin):  # migrated to head
        migrated = tables(url)
        assert {"person", "handoff", "outbox", "staff_user"} <= migrated
        command.downgrade(alembic_config(url), "base")
        assert tables(url) == {"alembic_version"}
        upgrade(url)
        assert tables(url) == migrated
