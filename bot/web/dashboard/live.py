"""The dashboard's live feed: one poller of the database per web process, fanned out to every open page.

Each open page (a conversation, the queue, or any page's hand-off badge) subscribes with the
conversation it shows (if any) and how many transcript lines it already has. One asyncio task reads
the database about once a second for all subscribers together: one grouped query for the message
counts of the watched conversations, the new lines of a conversation only when its count grew (once,
shared by everyone watching it), and the queue's state once. Each subscriber gets what is new for it
on its own `asyncio.Queue`; the route turns that into Server-Sent Events (`routes.live`).

The task starts with the first subscriber and stops when the last one leaves. Database work runs in
a thread, so a slow query never holds up the event loop.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from bot.store.staff_repository import StaffStore

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
INBOX_LIMIT = 500  # items waiting for one slow page; beyond that its stream ends and the browser reconnects


@dataclass(eq=False)
class Subscriber:
    """One open page. `after`: transcript lines it has; `queue_version`: the queue state it last got."""

    conversation: Optional[str]
    after: int = 0
    queue: bool = True
    queue_version: Optional[str] = None
    overflowed: bool = False
    inbox: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(INBOX_LIMIT))

    def put(self, kind: str, payload: Any) -> None:
        """Queue an item; a page too far behind is marked `overflowed` (its stream then ends, and the
        browser reconnects from the last line it got)."""
        if self.overflowed:
            return
        try:
            self.inbox.put_nowait((kind, payload))
        except asyncio.QueueFull:
            self.overflowed = True


@dataclass
class Snapshot:
    """What one poll read: message counts, new lines by conversation (from an offset), queue state."""

    counts: dict[str, int]
    lines: dict[str, tuple[int, list[dict[str, Any]]]]
    queue: Optional[dict[str, Any]]


class LiveFeed:
    """The poller and its subscribers. `store` makes the repository to read (default `StaffStore()`)."""

    def __init__(self, store: Callable[[], StaffStore] = StaffStore, interval: float = POLL_SECONDS) -> None:
        self.store = store
        self.interval = interval
        self.subscribers: set[Subscriber] = set()
        self.polls = 0  # how many times the database was read (for tests and diagnostics)
        self._task: Optional[asyncio.Task] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # --- subscribing ------------------------------------------------------------------------

    def subscribe(self, conversation: Optional[str] = None, after: int = 0, queue: bool = True,
                  start: bool = True) -> Subscriber:
        subscriber = Subscriber(conversation or None, max(0, after), queue)
        self.subscribers.add(subscriber)
        if start:
            self._ensure_running()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._run(), name="staff-live-feed")

    async def _run(self) -> None:
        while self.subscribers:
            try:
                await self.poll_once()
            except Exception as error:  # noqa: BLE001 - the feed must outlive a database hiccup
                logger.warning("Live feed: reading the database failed (%s); trying again.", type(error).__name__)
            await asyncio.sleep(self.interval)

    # --- one poll for everyone --------------------------------------------------------------

    async def poll_once(self) -> None:
        """Read the database once for all current subscribers and hand each what is new for it."""
        subscribers = [s for s in self.subscribers if not s.overflowed]
        if not subscribers:
            return
        wanted: dict[str, int] = {}
        for s in subscribers:
            if s.conversation:
                wanted[s.conversation] = min(wanted.get(s.conversation, s.after), s.after)
        want_queue = any(s.queue for s in subscribers)
        snapshot = await asyncio.to_thread(self._read, wanted, want_queue)
        self.polls += 1
        self.fan_out(subscribers, snapshot)

    def _read(self, wanted: dict[str, int], want_queue: bool) -> Snapshot:
        store = self.store()
        counts = store.message_counts(list(wanted)) if wanted else {}
        lines = {}
        for sender_id, after in wanted.items():
            if counts.get(sender_id, 0) > after:
                lines[sender_id] = (after, store.transcript_lines(sender_id, after))
        return Snapshot(counts, lines, store.queue_status() if want_queue else None)

    @staticmethod
    def fan_out(subscribers: list[Subscriber], snapshot: Snapshot) -> None:
        for s in subscribers:
            if s.conversation:
                count = snapshot.counts.get(s.conversation, 0)
                if count < s.after:  # erased at the person's request, or restarted: the page must reload
                    s.put("reset", {"count": count})
                    s.after = count
                elif s.conversation in snapshot.lines:
                    offset, lines = snapshot.lines[s.conversation]
                    for index in range(s.after, offset + len(lines)):
                        s.put("line", (index, lines[index - offset]))
                    s.after = max(s.after, offset + len(lines))
            if s.queue and snapshot.queue is not None and snapshot.queue["version"] != s.queue_version:
                s.queue_version = snapshot.queue["version"]
                s.put("queue", snapshot.queue)


feed = LiveFeed()


def live_feed() -> LiveFeed:
    """The process's feed (a dependency, so tests can use their own)."""
    return feed
