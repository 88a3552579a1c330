"""Apply the Alembic migrations: `python -m bot.store.migrate` (uses `DATABASE_URL`)."""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.store.db import database_url, get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`."""
    get_engine(url or database_url())  # creates the SQLite folder when needed
    command.upgrade(alembic_config(url), revision)


def main() -> int:
    url = database_url()
    safe = url.split("@")[-1] if "@" in url else url
    print(f"[migrate] database: {safe}")
    upgrade(url)
    print("[migrate] up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
