"""Deletion that deletes (issue 14, item 6): after "delete my data", no row of any table and no log line
holds the conversation id or the words of the conversation; crisis hand-offs are kept, closed and
anonymous; the export's redaction uses the names the person gave and keeps crisis line numbers."""
from __future__ import annotations

import json
import logging

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import MetaData, select

from bot import logging_filter
from bot.crisis.handoff import HandoffRequest, HandoffSpool
from bot.journey.state import CheckinEntry, JourneyState, PersonEntry
from bot.policies.crisis import CrisisPolicy
from bot.store.db import get_engine, session_scope
from bot.store.erasure import PREFIX, erase_conversation, pseudonym
from bot.store.journey_repository import JourneyStore
from bot.store.repository import AppStore
from bot.store.staff_repository import StaffStore
from bot.store.tracker_store import AppTrackerStore
from bot.web.dashboard import export
from bot.web.dashboard import routes as dashboard_routes

SENDER = "whatsapp:+15559876543"
OWN_NAME = "Zephyrine"
PERSON = "Quillon Marsh"
WORDS = ("Brackenfell", "Ostrander")  # said by the person, written by staff
MARKERS = (SENDER, "5559876543", OWN_NAME, PERSON, "Quillon", "Marsh", *WORDS)
CRISIS_LINES = "If you are in danger, call or text 988, or the hotline 1-800-799-7233."


@pytest.fixture
def setting(monkeypatch, tmp_path, db_url):
    monkeypatch.setenv("ERASURE_KEY", "a-test-key")
    monkeypatch.setenv("HANDOFF_SPOOL", str(tmp_path / "spool.jsonl"))
    monkeypatch.setenv("DATABASE_URL", db_url)  # the dashboard's export reads the names from here
    monkeypatch.delenv(logging_filter.ALLOW_ENV, raising=False)
    yield db_url, tmp_path / "spool.jsonl"
    logging_filter.uninstall()


def conversation() -> DialogueStateTracker:
    return DialogueStateTracker.from_events(SENDER, [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered(f"hi, I'm {OWN_NAME}", {"name": "greet", "confidence": 1.0}, input_channel="rest"),
        SlotSet("display_name", OWN_NAME), ActionExecuted("utter_greet"), BotUttered("Hi."),
        ActionExecuted("action_listen"),
        UserUttered(f"my brother {PERSON} and the {WORDS[0]} thing, I can't go on",
                    {"name": "crisis", "confidence": 1.0, "crisis_category": "suicide"}, input_channel="rest"),
        ActionExecuted("utter_crisis"), BotUttered(CRISIS_LINES), ActionExecuted("utter_crisis_resources"),
        ActionExecuted("action_crisis_handoff"), ActionExecuted("action_listen"),
        SlotSet("handoff_status", "taken"),
        BotUttered(f"Hello {OWN_NAME}, this is Dr Lee.", metadata={"from_staff": "Dr Lee"}),
    ])


def build(url: str, spool_path) -> tuple[AppTrackerStore, DialogueStateTracker, str, int, list]:
    """A conversation with a journey, a taken hand-off with its notification, a review flag, a staff note,
    a review, audit entries, an export and a spooled hand-off."""
    tracker_store = AppTrackerStore(url=url)  # as the Rasa server makes it (this installs the log filter)
    tracker = conversation()
    import asyncio

    asyncio.run(tracker_store.save(tracker))
    app = AppStore(url)
    app.touch_person("rest", SENDER)
    app.set_display_name("rest", SENDER, OWN_NAME)
    state = JourneyStore(url).save(JourneyState(
        sender_id=SENDER, display_name=OWN_NAME, phase="middle", focus="role_dispute",
        people=[PersonEntry(name=PERSON, relationship="brother", closeness="inner", hard=f"{WORDS[0]} fights")],
        checkins=[CheckinEntry(kind="weekly", mood=3, week=1, details={"answer": f"talked to {PERSON}"})],
        draft={"name": "Quillon"}))
    handoff_id = app.open_handoff(HandoffRequest("rest", SENDER, "suicide", "US",
                                                 f"my brother {PERSON} and the {WORDS[0]} thing"), ["webhook"])
    app.set_handoff_status(handoff_id, "taken", "Dr Lee")
    app.flag_for_review("rest", SENDER, "risk_while_taken", f"{WORDS[0]} again")
    staff = StaffStore(url)
    user = staff.create_user("lee@clinic.test", "Dr Lee", "clinician", "x")
    staff.sync_conversations()
    note_id = staff.add_note(SENDER, user.email, f"Spoke with {OWN_NAME} about {PERSON}; {WORDS[1]} plan.")
    staff.set_review(SENDER, "follow_up", [WORDS[1]], user.email)
    staff.audit("view", user, SENDER, None, "127.0.0.1")
    staff.audit("note", user, SENDER, {"note": note_id}, "127.0.0.1")
    docs = dashboard_routes._documents(staff, [SENDER], True)  # the dashboard's redacted export
    staff.audit("export", user, SENDER, {"format": "json", "redacted": True, "conversations": 1}, "127.0.0.1")
    HandoffSpool(spool_path).append(HandoffRequest("rest", SENDER, "suicide", "US", f"{WORDS[0]} while down"))
    assert state.image_token and JourneyStore(url).by_image_token(state.image_token) is not None
    return tracker_store, tracker, state.image_token, handoff_id, docs


def every_value(url: str) -> list[tuple[str, str]]:
    """(table, value) for every non-empty value of every row of every table in the database."""
    engine = get_engine(url)
    meta = MetaData()
    meta.reflect(bind=engine)
    found = []
    with engine.connect() as connection:
        for table in meta.sorted_tables:
            for row in connection.execute(select(table)):
                found += [(table.name, str(value)) for value in row if value not in (None, "")]
    return found


def holding(values: list[tuple[str, str]], markers=MARKERS) -> list[tuple[str, str]]:
    return [(table, value[:120]) for table, value in values
            if any(marker.lower() in value.lower() for marker in markers)]


def test_delete_my_data_leaves_nothing_that_identifies_the_conversation(setting, caplog):
    url, spool_path = setting
    caplog.set_level(logging.DEBUG)
    tracker_store, tracker, token, handoff_id, docs = build(url, spool_path)
    values = every_value(url)
    tables = {table for table, _ in holding(values)}
    # The conversation really is everywhere before (so the check below can fail).
    assert {"events", "person", "journey", "journey_person", "journey_checkin", "handoff", "review_flag",
            "staff_note", "staff_audit", "conversation"} <= tables
    assert SENDER in spool_path.read_text()

    # The redacted export: no name the person gave, in messages or notes; the crisis lines intact.
    text = json.dumps(docs)
    assert OWN_NAME not in text and "Quillon" not in text and "Marsh" not in text and SENDER not in text
    assert "988" in text and "1-800-799-7233" in text
    assert "[redacted]" in docs[0]["notes"][0]["text"]

    # "delete my data" while staff hold the hand-off: the policy lets the rules answer ...
    for event in [UserUttered("delete my data", {"name": "delete_my_data", "confidence": 1.0})]:
        tracker.update(event)
    assert CrisisPolicy.next_action(tracker) == (None, [])
    for event in [ActionExecuted("utter_confirm_delete"), BotUttered("Delete everything?"),
                  ActionExecuted("action_listen"), UserUttered("yes", {"name": "affirm", "confidence": 1.0})]:
        tracker.update(event)
    assert CrisisPolicy.next_action(tracker) == (None, [])
    # ... and the turn that sent utter_data_deleted erases it, as the Rasa server saves it.
    for event in [ActionExecuted("utter_data_deleted"), BotUttered("Done."), ActionExecuted("action_listen")]:
        tracker.update(event)
    import asyncio

    asyncio.run(tracker_store.save(tracker))

    left = holding(every_value(url))
    assert left == [], f"identifying values left after erasure: {left}"
    alias = pseudonym(SENDER)
    kept = AppStore(url).get_handoff(handoff_id)
    assert kept.sender_id == alias and kept.status == "closed" and kept.category == "suicide"
    assert AppStore(url).list_handoffs("taken") == []
    audit_targets = {e["target"] for e in StaffStore(url).audit_entries()[0] if e["action"] in ("view", "note",
                                                                                                  "export")}
    assert audit_targets == {alias}
    assert JourneyStore(url).by_image_token(token) is None  # the picture's address no longer works
    assert asyncio.run(tracker_store.retrieve(SENDER)) is None
    spooled = HandoffSpool(spool_path).pending()
    assert [r.sender_id for r in spooled] == [alias] and all(w not in spool_path.read_text() for w in WORDS)
    lines = [record.getMessage() for record in caplog.records]
    assert lines, "nothing was logged: the log check would prove nothing"
    leaked = [line for line in lines if any(marker.lower() in line.lower() for marker in MARKERS)]
    assert leaked == []


def test_erasure_touches_no_other_conversation(setting):
    url, spool_path = setting
    app = AppStore(url)
    for sender in (SENDER, "other"):
        app.touch_person("rest", sender)
        JourneyStore(url).save(JourneyState(sender_id=sender, people=[PersonEntry(name="Sam")]))
        app.open_handoff(HandoffRequest("rest", sender, "suicide", "US", "words"), [])
        StaffStore(url).add_note(sender, "x@clinic.test", "a note")
        StaffStore(url).audit("view", None, sender, None, email="x@clinic.test")
        HandoffSpool(spool_path).append(HandoffRequest("rest", sender, "suicide", "US", "spooled words"))
    erased = erase_conversation(SENDER, url, spool_path)
    assert erased.counts["journey"] == 1 and erased.counts["handoff"] == 1 and erased.counts["spool"] == 1
    assert app.find_person("rest", "other") is not None
    assert [n["text"] for n in StaffStore(url).notes("other")] == ["a note"]
    assert [h.message for h in app.list_handoffs() if h.sender_id == "other"] == ["words"]
    assert StaffStore(url).audit_entries(target="other")[1] == 1
    assert {r.sender_id for r in HandoffSpool(spool_path).pending()} == {"other", pseudonym(SENDER)}


def test_the_audit_log_allows_only_a_pseudonym_for_a_target(setting):
    url, _ = setting
    StaffStore(url).audit("view", None, SENDER, {"a": 1}, email="x@clinic.test")
    from sqlalchemy import text

    for statement in ("UPDATE staff_audit SET target = 'someone-else'", "UPDATE staff_audit SET target = NULL",
                      f"UPDATE staff_audit SET target = '{PREFIX}x', action = 'other'",
                      "DELETE FROM staff_audit"):
        with pytest.raises(Exception, match="append-only"):
            with session_scope(url) as session:
                session.execute(text(statement))
    with session_scope(url) as session:
        session.execute(text(f"UPDATE staff_audit SET target = '{PREFIX}abc'"))
    assert StaffStore(url).audit_entries()[0][0]["target"] == f"{PREFIX}abc"


def test_the_keyed_hash_depends_on_the_key(monkeypatch):
    monkeypatch.setenv("ERASURE_KEY", "one")
    first = pseudonym(SENDER)
    assert first.startswith(PREFIX) and SENDER not in first and first == pseudonym(SENDER)
    monkeypatch.setenv("ERASURE_KEY", "two")
    assert pseudonym(SENDER) != first


def test_while_a_hand_off_waits_deletion_is_answered_and_risk_still_wins():
    waiting = DialogueStateTracker.from_events("p", [
        ActionExecuted("action_listen"), UserUttered("i want to die", {"name": "crisis", "confidence": 1.0}),
        ActionExecuted("utter_crisis"), ActionExecuted("utter_crisis_resources"),
        ActionExecuted("action_crisis_handoff"), ActionExecuted("action_listen"),
        UserUttered("delete my data", {"name": "delete_my_data", "confidence": 1.0})])
    assert CrisisPolicy.next_action(waiting) == (None, [])  # the rules ask to confirm, though a hand-off waits
    risk = DialogueStateTracker.from_events("p", [*waiting.events][:-1] + [
        UserUttered("i have pills", {"name": "crisis", "confidence": 1.0})])
    assert CrisisPolicy.next_action(risk)[0] == "utter_crisis"  # a risk message still gets the crisis reply


def test_export_redaction_uses_the_journey_names_and_keeps_crisis_lines(setting):
    url, _ = setting
    JourneyStore(url).save(JourneyState(sender_id="r1", display_name="zoya",
                                        people=[PersonEntry(name="Benedikt Aalto")]))
    summary = {"sender_id": "r1", "handoffs": []}
    transcript = [{"from": "person", "text": "benedikt and aalto and Zoya, call me on 07700 900123",
                   "timestamp": 1.0},
                  {"from": "assistant", "text": "Samaritans: call 116 123. US: 988 or 1-800-799-7233.",
                   "timestamp": 2.0}]
    notes = [{"author": "lee@clinic.test", "text": "Zoya mentioned Benedikt", "created_at": None}]
    doc = export.conversation_document(summary, transcript, notes, True, url=url)
    text = json.dumps(doc)
    assert "enedikt" not in text and "alto" not in text and "oya" not in text and "900123" not in text
    assert "116 123" in text and "988" in text and "1-800-799-7233" in text
    plain = export.conversation_document(summary, transcript, notes, False, url=url)
    assert "Benedikt" in json.dumps(plain)  # not redacted when not asked
