"""A random secret generated once in a file only this user can read (0600 at creation, never widened)."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from bot import PROJECT_ROOT

VAR = PROJECT_ROOT / "var"


def private_var() -> Path:
    """var/ (the SQLite database, secrets, logs), readable by this user only (0700)."""
    VAR.mkdir(mode=0o700, parents=True, exist_ok=True)
    if VAR.stat().st_uid == os.geteuid():
        VAR.chmod(0o700)
    return VAR


def secret_in_file(path: Path) -> str:
    """The secret kept in `path`, made (32 random bytes, URL-safe) the first time; its folder is made 0700.

    Several processes may start at once: the first one creates the file, the others wait for its contents."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
    for _ in range(50):  # another process may be writing it this very moment
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it, or set the secret in the environment")
