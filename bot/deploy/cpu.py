"""CPU use from /proc (Linux): how busy the machine was during a benchmark phase, and by whom.

On a shared two-core machine, another job running at the same time changes a load benchmark's
figures completely; the benchmark records the machine's busy cores and its own processes' share,
so a reader can tell, and it can wait for a quiet moment before each phase.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in path.read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pids: list[int]) -> set[int]:
    """The processes and all their descendants (nginx workers, PostgreSQL backends ...)."""
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += _children(pid)
    return seen


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds used so far by `pids` (ended processes count as 0)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / TICK, total / TICK


@dataclass
class CpuWindow:
    """CPU used between `start()` and `stop()`: the machine's busy cores and our processes' cores."""

    ours: set[int]
    busy_cores: float = 0.0
    our_cores: float = 0.0

    def start(self) -> "CpuWindow":
        self.ours = process_tree(list(self.ours))
        self._t = time.monotonic()
        self._ours = cpu_seconds(self.ours)
        self._busy = machine_busy_seconds()[0]
        return self

    def stop(self) -> "CpuWindow":
        elapsed = max(time.monotonic() - self._t, 1e-6)
        self.our_cores = (cpu_seconds(self.ours) - self._ours) / elapsed
        self.busy_cores = (machine_busy_seconds()[0] - self._busy) / elapsed
        return self

    @property
    def other_cores(self) -> float:
        """Busy cores not used by our processes: other jobs on the machine (and PostgreSQL, Redis)."""
        return max(0.0, self.busy_cores - self.our_cores)


def wait_until_quiet(max_busy_cores: float = 0.3, seconds: float = 5.0, timeout: float = 120.0) -> float:
    """Wait until the machine's busy cores stay under `max_busy_cores` for `seconds`; returns the last figure."""
    deadline = time.monotonic() + timeout
    while True:
        before = machine_busy_seconds()[0]
        time.sleep(seconds)
        busy = (machine_busy_seconds()[0] - before) / seconds
        if busy < max_busy_cores or time.monotonic() > deadline:
            return busy


def postgres_backends(database_names: list[str]) -> set[int]:
    """PostgreSQL server processes serving the named databases (their titles name the database)."""
    found = set()
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and any(f" {name} " in title for name in database_names):
            found.add(int(path.parent.name))
    return found
