"""Rasa's SQL tracker store on the app's database URL, and the "delete my data" erase.

endpoints.yml names `bot.store.tracker_store.AppTrackerStore`: it reads `DATABASE_URL` (the same
database as the app tables) instead of Rasa's host/port/db settings. Erasing happens here, in the
Rasa server, because the tracker is saved after the turn's actions (rows deleted by the action
server would be written straight back), and so it needs no action server. When a turn sent
`utter_data_deleted` (the rules send it once the person confirmed), everything stored about the
conversation is removed or made anonymous (bot/store/erasure.py), and nothing of that turn is kept.

Creating the store also installs the log filter (bot/logging_filter.py) in the Rasa server.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import create_engine, make_url
from sqlalchemy.orm import sessionmaker

from bot import logging_filter
from bot.store.db import database_url
from bot.store.erasure import erase_conversation
from bot.store.turn_status import note_store_failure

logger = logging.getLogger(__name__)

ERASE_MARKER = "utter_data_deleted"


def url_parts(url: str) -> dict[str, Any]:
    """Split a database URL into the keyword arguments of Rasa's SQLTrackerStore."""
    parsed = make_url(url)
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }


class AppTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on `DATABASE_URL` that honours a person's request to erase their data."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        event_broker: Optional[EventBroker] = None,
        url: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        logging_filter.install()  # every Rasa server makes this store (endpoints.yml): no message text in logs
        kwargs.pop("host", None)  # Rasa passes the endpoint's `url` as `host`; ours is the URL.
        self.app_url = url or database_url()
        super().__init__(domain=domain, event_broker=event_broker, **url_parts(self.app_url), **kwargs)
        # Rasa's engine does not test pooled connections: after a database restart the first query on
        # each of them would fail. The same engine with pool_pre_ping recovers without a failed turn.
        engine_url = self.engine.url
        self.engine.dispose()
        self.engine = create_engine(engine_url, pool_pre_ping=True, **create_engine_kwargs(engine_url))
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        try:
            return await super().retrieve(sender_id)
        except Exception as error:
            note_store_failure(error)  # the REST channel answers 503 (bot/store/turn_status.py)
            raise

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            if self._erase_requested(tracker):
                erase_conversation(tracker.sender_id, self.app_url)
                logger.info("Erased a person's data and conversation at their request.")
                return
            await super().save(tracker)
        except Exception as error:
            note_store_failure(error)
            raise

    def _erase_requested(self, tracker: DialogueStateTracker) -> bool:
        with self.session_scope() as session:
            unsaved = list(self._additional_events(session, tracker))
        return any(
            isinstance(event, ActionExecuted) and event.action_name == ERASE_MARKER
            for event in unsaved
        )

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of the conversation; returns how many rows went."""
        with self.session_scope() as session:
            removed = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return removed
