"""The conversation corpus (issue 13, item 6): conversations written as people write them, played
through REST against the trained model, one test per conversation.

Each conversation (tests/data/conversations/*.yml) has a persona note, the person's messages, and
what should be true at the end: the people stored (and who has died), the focus, the dispute stage,
the phase, words the formulation must contain, and where a crisis reply is meant to come (if
anywhere). Every turn must get a reply; no other turn may get a crisis reply. An everyday message
that draws the safety question is answered "No, I'm safe" and then sent again, as a person would;
those questions are counted (at most `safety_questions` per conversation, default 1). A conversation
the assistant gets wrong today says so in `known_issue`: it must still get a reply to every turn,
and the rest of its checks are an expected failure (passing again by itself once fixed): the
conversation is written as the person would write it, not bent to the assistant.

All conversations are played once, a few at a time, by a session fixture; the tests then check
each one. The turn counts (no message text) go to results/conversation_corpus.md.
"""
from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.store.journey_repository import JourneyStore
from tests.conftest import texts

pytestmark = pytest.mark.integration

CORPUS = PROJECT_ROOT / "tests" / "data" / "conversations"
RESULTS = PROJECT_ROOT / "results" / "conversation_corpus.md"
NEW_SESSION = "/session_start"  # a turn written as {session: new}: the person left and comes back later
SAFE = "No, I'm safe"
WORKERS = 6
# Words no English message should ever get back (the language guard's reply, the last-resort menu).
NEVER_SAID = ("only chat in English",)


def load_corpus() -> list[dict]:
    """Every conversation, read with all values as strings ("yes" stays "yes", not True)."""
    conversations = []
    for path in sorted(CORPUS.glob("*.yml")):
        for conversation in yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader):
            conversation["file"] = path.name
            conversations.append(conversation)
    return conversations


CONVERSATIONS = load_corpus()


def kind(replies: list[dict], name: str) -> bool:
    return any((m.get("custom") or {}).get("type") == name for m in replies)


@dataclass
class Played:
    """What happened when one conversation was played."""

    sent: int = 0  # every message the person typed, "No, I'm safe" answers included
    turn_of_focus: Optional[int] = None  # messages sent until the focus was stored
    turn_of_middle: Optional[int] = None  # messages sent until the initial phase was over
    silent: list[int] = field(default_factory=list)  # turns (1-based, as written) with no reply
    crisis: list[int] = field(default_factory=list)
    safety: list[int] = field(default_factory=list)
    never_said: list[tuple[int, str]] = field(default_factory=list)
    state: object = None
    error: Optional[str] = None


def play(assistant, conversation: dict) -> Played:
    sender, store, result = assistant.new_sender(), JourneyStore(assistant.db_url), Played()
    crisis_expected = {int(t) for t in conversation.get("expect", {}).get("crisis_at", "").split()}
    try:
        for index, turn in enumerate(conversation["turns"], 1):
            if isinstance(turn, dict):  # {session: new}: leaving and coming back in a new session
                assistant.say(sender, NEW_SESSION)
                continue
            replies = assistant.say(sender, turn)
            result.sent += 1
            if kind(replies, "safety_check") and not kind(replies, "crisis") and index not in crisis_expected:
                result.safety.append(index)
                assistant.say(sender, SAFE)
                replies = assistant.say(sender, turn)  # the same answer again is taken as the answer
                result.sent += 2
            if not replies:
                result.silent.append(index)
            if kind(replies, "crisis"):
                result.crisis.append(index)
            said = texts(replies)
            result.never_said += [(index, words) for words in NEVER_SAID if words in said]
            state = store.load(sender)
            if state and state.focus and result.turn_of_focus is None:
                result.turn_of_focus = result.sent
            if state and state.phase != "initial" and result.turn_of_middle is None:
                result.turn_of_middle = result.sent
        result.state = store.load(sender)
    except Exception as error:  # noqa: BLE001 - reported by the conversation's test
        result.error = f"{type(error).__name__}: {error}"
    return result


@pytest.fixture(scope="session")
def played(assistant) -> dict[str, Played]:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = dict(zip([c["id"] for c in CONVERSATIONS],
                           pool.map(lambda c: play(assistant, c), CONVERSATIONS), strict=True))
    write_summary(results, time.monotonic() - started)
    return results


def _median(values: list[int]) -> str:
    return f"{statistics.median(values):g}" if values else "-"


def write_summary(results: dict[str, Played], seconds: float) -> None:
    """Counts only (no message text): per conversation and the medians."""
    rows = []
    for conversation in CONVERSATIONS:
        r = results[conversation["id"]]
        expect = conversation.get("expect", {})
        rows.append(f"| {conversation['id']} | {expect.get('focus', '-') or '-'} | {r.sent} | "
                    f"{r.turn_of_focus or '-'} | {r.turn_of_middle or '-'} | {len(r.safety)} | {len(r.crisis)} |")
    to_focus = [r.turn_of_focus for r in results.values() if r.turn_of_focus]
    to_middle = [r.turn_of_middle for r in results.values() if r.turn_of_middle]
    lines = [
        "# Conversation corpus: turn counts",
        "",
        "Written by `tests/integration/test_conversation_corpus.py` (conversations in",
        "`tests/data/conversations/`), played through REST against the trained model. A turn is one message",
        "the person typed, counted from the first \"hello\"; a safety question answered \"No, I'm safe\" adds",
        "two (the answer and the message sent again).",
        "",
        f"- conversations: {len(results)}; played in {seconds:.0f} s",
        f"- median turns to an agreed focus: {_median(to_focus)} ({len(to_focus)} conversations reach one)",
        f"- median turns to the end of the initial phase: {_median(to_middle)} ({len(to_middle)} reach it)",
        f"- safety questions drawn by everyday messages: {sum(len(r.safety) for r in results.values())}",
        f"- crisis replies: {sum(len(r.crisis) for r in results.values())}",
        "",
        "| conversation | expected focus | turns | to focus | to end of initial phase | safety questions "
        "| crisis replies |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[7:12]))


def test_the_corpus_is_big_and_varied_enough():
    assert len(CONVERSATIONS) >= 40
    assert len({c["id"] for c in CONVERSATIONS}) == len(CONVERSATIONS), "conversation ids must be unique"
    focuses = {c.get("expect", {}).get("focus") for c in CONVERSATIONS}
    assert {"grief", "role_dispute", "role_transition", "interpersonal_deficits"} <= focuses
    for conversation in CONVERSATIONS:
        assert conversation.get("persona") and conversation.get("turns"), conversation["id"]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["id"] for c in CONVERSATIONS])
def test_conversation(request, played, conversation):
    result, expect = played[conversation["id"]], conversation.get("expect", {})
    # Every conversation, known issue or not: no error and a reply to every turn.
    assert result.error is None, result.error
    assert not result.silent, f"turns with no reply: {result.silent}"
    assert not result.never_said, f"replies that should never come to English messages: {result.never_said}"
    if conversation.get("known_issue"):  # the assistant gets the rest of this conversation wrong today
        request.applymarker(pytest.mark.xfail(reason=conversation["known_issue"], strict=False))
    crisis_expected = [int(t) for t in expect.get("crisis_at", "").split()]
    assert result.crisis == crisis_expected, f"crisis replies at turns {result.crisis}, expected {crisis_expected}"
    allowed = int(expect.get("safety_questions", "1"))
    assert len(result.safety) <= allowed, f"safety questions at turns {result.safety} (allowed {allowed})"

    state = result.state
    if "people" in expect:
        assert state is not None, "nothing was stored"
        assert [p.name for p in state.people] == list(expect["people"])
        assert sorted(p.name for p in state.people if p.deceased) == sorted(expect.get("deceased", []))
    for key in ("focus", "second_focus", "dispute_stage", "phase"):
        if key in expect:
            wanted = expect[key] or None
            assert getattr(state, key, None) == wanted, f"{key}: {getattr(state, key, None)!r}, expected {wanted!r}"
    formulation = (getattr(state, "formulation", None) or "").lower()
    for words in expect.get("formulation_contains", []):
        assert words.lower() in formulation, f"{words!r} not in the formulation: {formulation!r}"
    for words in expect.get("formulation_lacks", []):
        assert words.lower() not in formulation, f"{words!r} in the formulation: {formulation!r}"
