"""Honest staffing: is anyone from the clinic on duty now?

`CLINIC_HOURS` lists the on-duty hours, e.g. "mon-fri 09:00-17:00; sat 10:00-14:00", in the time
zone `CLINIC_TIMEZONE` (an IANA name, default UTC). Unset means nobody is on duty: the crisis reply
then says that nobody from the clinic can reply now and that the lines are the way to get help.
A malformed value is a start-up error (`parse_hours` raises ValueError with what is wrong).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from bot.settings import get_settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Shift:
    days: frozenset[int]
    start: time
    end: time


def parse_hours(value: Optional[str]) -> list[Shift]:
    shifts = []
    for part in filter(None, (p.strip().lower() for p in (value or "").split(";"))):
        match = _PART.match(part)
        if not match or match.group(1) not in DAYS or (match.group(2) and match.group(2) not in DAYS):
            raise ValueError(f"CLINIC_HOURS: cannot read {part!r}; write e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00'")
        first = DAYS.index(match.group(1))
        last = DAYS.index(match.group(2) or match.group(1))
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        days = frozenset(span)
        start, end = time(int(match.group(3)), int(match.group(4))), time(int(match.group(5)) % 24, int(match.group(6)))
        shifts.append(Shift(days, start, end))
    return shifts


def clinic_timezone(value: Optional[str] = None) -> ZoneInfo:
    name = value or get_settings().clinic_timezone
    try:
        return ZoneInfo(name)
    except Exception as error:  # ZoneInfoNotFoundError or a bad key
        raise ValueError(f"CLINIC_TIMEZONE: unknown time zone {name!r} (use an IANA name such as Europe/London)") \
            from error


def is_open(now: Optional[datetime] = None, hours: Optional[str] = None, zone: Optional[str] = None) -> bool:
    """Whether `now` (default: the current time) falls in the clinic's on-duty hours."""
    shifts = parse_hours(hours if hours is not None else get_settings().clinic_hours)
    if not shifts:
        return False
    local = (now or datetime.now(timezone.utc)).astimezone(clinic_timezone(zone))
    moment = local.time()
    for shift in shifts:
        if local.weekday() in shift.days and (
                shift.start <= moment < shift.end if shift.start < shift.end else moment >= shift.start
                or moment < shift.end):
            return True
    return False
