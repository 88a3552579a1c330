"""The journey's entry points for the actions: load the state, run one engine operation, save.

Every operation is one load and one save, so each answer is stored as soon as it is given.
"""
from __future__ import annotations

from typing import Callable, Optional

from bot.journey.engine import COMMANDS, Journey, Reply, Turn
from bot.journey.state import MAX_WEEKS, MIN_WEEKS, JourneyState
from bot.journey.steps import Step
from bot.settings import get_settings
from bot.store.journey_repository import JourneyStore


def weeks_planned() -> int:
    """JOURNEY_WEEKS (12 by default; 12 to 16 allowed, as in the IPT manuals)."""
    return min(max(get_settings().journey_weeks, MIN_WEEKS), MAX_WEEKS)


def image_url(token: Optional[str]) -> Optional[str]:
    """Where the web app serves the closeness circle (PUBLIC_WEB_URL, default http://localhost:WEB_PORT)."""
    if not token:
        return None
    return f"{get_settings().web_url}/journey/circle/{token}.svg"


class JourneyService:
    def __init__(self, store: Optional[JourneyStore] = None) -> None:
        self.store = store or JourneyStore()

    def _run(self, sender_id: str, operation: Callable[[Journey], object], save: bool = True):
        state = self.store.load(sender_id)
        if state.created_at is None:
            state.weeks_planned = weeks_planned()
        journey = Journey(state, image_url)
        token = state.image_token
        result = operation(journey)
        if save or state.image_token != token:  # a renewed picture token (people_replies) is kept
            self.store.save(state)
        return result, journey

    def begin(self, sender_id: str, intent: Optional[str]) -> tuple[list[Reply], bool]:
        """Start what the intent asks for; returns the replies and whether the form should run."""
        replies, journey = self._run(sender_id, lambda j: j.begin(COMMANDS.get(intent or "", "next")))
        return replies, journey.pending

    def ask(self, sender_id: str) -> tuple[list[Reply], Optional[str]]:
        replies, journey = self._run(sender_id, lambda j: j.ask())
        return replies, journey.state.step

    def answer(self, sender_id: str, text: str, intent: Optional[str]) -> Turn:
        turn, _ = self._run(sender_id, lambda j: j.answer(text, intent))
        return turn

    def current_step_object(self, sender_id: str) -> Optional[tuple[Step, JourneyState]]:
        """The step waiting for an answer, with the state it reads (for telling answers from questions)."""
        _, journey = self._run(sender_id, lambda j: None, save=False)
        step = journey.current_step()
        return (step, journey.state) if step else None

    def read_only(self, sender_id: str, operation: str) -> list[Reply]:
        """stop / status / next_offer / people_replies / focus_replies / welcome."""
        replies, _ = self._run(sender_id, lambda j: getattr(j, operation)(), save=operation == "stop")
        return replies
