"""Shared fixtures: fresh migrated databases on SQLite and on the local PostgreSQL server."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from bot.store.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    return url


def _postgres_unavailable(reason: str):
    message = f"PostgreSQL is needed for this test and is not reachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the production-profile tests for real)")
    pytest.skip(message)


@contextmanager
def temporary_postgres_database():
    """A new, migrated PostgreSQL database; yields (url, admin engine); dropped afterwards."""
    name = f"ipt_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "not available"
        _postgres_unavailable(str(error).splitlines()[0])
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url, admin
    finally:
        from bot.store.db import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url():
    """A new PostgreSQL database for the test, dropped afterwards."""
    with temporary_postgres_database() as (url, _admin):
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")
