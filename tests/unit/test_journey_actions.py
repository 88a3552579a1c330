"""The journey actions, run as the action server runs them, on a real (temporary) SQLite database."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.crisis import ActionCrisisHandoff
from actions.journey import (
    ActionAskJourneyAnswer,
    ActionJourneyBegin,
    ActionJourneyPeople,
    ActionJourneyStatus,
    ActionJourneyStop,
    ActionJourneyWelcome,
    ValidateJourneyForm,
)
from bot.store.journey_repository import JourneyStore
from bot.store.repository import AppStore

DOMAIN = {
    "forms": {"journey_form": {"required_slots": ["journey_answer"]}},
    "slots": {name: {"type": "text", "mappings": [{"type": "custom"}]}
              for name in ("journey_answer", "journey_step", "journey_pending")},
}


def tracker(sender: str, text: str, intent: str = "nlu_fallback", confidence: float = 0.9,
            slots: dict | None = None, latest_action: str = "action_listen",
            form: str | None = "journey_form") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    events = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": text, "input_channel": "rest", "parse_data": latest}]
    if latest_action != "action_listen":  # e.g. an interruption's answer came before the form ran again
        events.append({"event": "action", "name": latest_action})
    events.append({"event": "action", "name": "journey_form"})  # Rasa adds the form's run before validating
    slots = {"requested_slot": "journey_answer", **(slots or {})}
    return Tracker(sender, slots, latest, events, False, None, {"name": form} if form else {}, latest_action)


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


@pytest.fixture
def store(sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HANDOFF_SPOOL", str(tmp_path / "spool.jsonl"))
    monkeypatch.setenv("PUBLIC_WEB_URL", "https://clinic.example")
    return JourneyStore(sqlite_url)


async def answer(sender: str, text: str, **kwargs):
    dispatcher = CollectingDispatcher()
    events = await ValidateJourneyForm().run(dispatcher, tracker(sender, text, **kwargs), DOMAIN)
    return responses(dispatcher), {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def ask(sender: str):
    dispatcher = CollectingDispatcher()
    events = await ActionAskJourneyAnswer().run(dispatcher, tracker(sender, ""), DOMAIN)
    return dispatcher.messages, events


async def test_begin_saves_the_journey_and_asks_through_the_form(store):
    dispatcher = CollectingDispatcher()
    events = await ActionJourneyBegin().run(dispatcher, tracker("p1", "let's start", "start_journey",
                                                                latest_action="action_listen"), DOMAIN)
    assert responses(dispatcher) == ["utter_journey/phase_initial", "utter_journey/phase_initial_steps"]
    assert {"event": "slot", "timestamp": None, "name": "journey_pending", "value": True} in events
    messages, events = await ask("p1")
    assert [m["response"] for m in messages] == ["utter_journey/ask_name"]
    assert events[0]["name"] == "journey_step" and events[0]["value"] == "name"
    assert store.load("p1").activity == "checkin"


async def test_each_answer_is_saved_at_once_and_the_last_one_ends_the_form(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p2", "start", "start_journey"), DOMAIN)
    said, slots = await answer("p2", "Robin")
    assert said == [] and slots == {"journey_answer": None}
    assert store.load("p2").draft == {"name": "Robin"}  # saved before the next question
    await answer("p2", "5")
    await answer("p2", "since the summer")  # when the low mood began, and what happened with people then
    await answer("p2", "my partner moved out")
    said, slots = await answer("p2", "no", intent="deny")
    assert said[0] == "utter_journey/mood_noted"
    assert slots["requested_slot"] is None  # the form ends; the rules offer what is next
    state = store.load("p2")
    assert (state.display_name, state.checkins[0].mood, state.done) == ("Robin", 5, ["checkin"])
    assert state.checkins[0].details == {"mood_onset": "since the summer", "mood_onset_events": "my partner moved out"}


async def test_an_unclear_answer_is_asked_again_with_an_example(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p3", "start", "start_journey"), DOMAIN)
    await answer("p3", "skip")
    said, slots = await answer("p3", "dunno, fine?")
    assert said == ["utter_journey/retry_number"] and slots == {"journey_answer": None}


async def test_a_confident_question_in_a_free_text_step_is_left_to_the_rules(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p4", "start", "start_inventory"), DOMAIN)
    said, slots = await answer("p4", "what is the interpersonal inventory?", intent="ipt", confidence=0.97)
    assert said == [] and slots == {}  # nothing extracted: Rasa rejects the form and the rule answers
    said, slots = await answer("p4", "Sam", intent="share_feelings", confidence=0.99)  # not a command: an answer
    assert slots == {"journey_answer": None} and store.load("p4").draft["person_name"] == "Sam"


async def test_an_answer_that_looks_like_a_question_is_kept_when_the_step_can_read_it(store):
    state = store.load("p5")
    state.done, state.activity = ["checkin", "inventory"], "screening"
    state.draft = {"screen_loss": True, "screen_dispute": False, "screen_transition": False,
                   "screen_isolation": False}
    store.save(state)
    said, slots = await answer("p5", "grief", intent="ipt", confidence=0.99)
    assert slots == {"journey_answer": None} and store.load("p5").draft["focus"] == "grief"


async def test_nothing_is_read_when_coming_back_after_an_interruption(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p6", "start", "start_inventory"), DOMAIN)
    dispatcher = CollectingDispatcher()
    events = await ValidateJourneyForm().run(dispatcher, tracker("p6", "what is IPT", "ipt",
                                                                 latest_action="utter_ipt"), DOMAIN)
    assert events == [] and store.load("p6").draft == {}


async def test_stop_leaves_the_form_and_keeps_the_answers(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p7", "start", "start_inventory"), DOMAIN)
    await answer("p7", "Kim")
    dispatcher = CollectingDispatcher()
    events = await ActionJourneyStop().run(dispatcher, tracker("p7", "stop", "stop"), DOMAIN)
    assert responses(dispatcher) == ["utter_journey/paused"]
    assert {"event": "active_loop", "timestamp": None, "name": None} in events
    assert store.load("p7").draft == {"person_name": "Kim"}
    dispatcher = CollectingDispatcher()
    await ActionJourneyStatus().run(dispatcher, tracker("p7", "where am i", "where_am_i"), DOMAIN)
    assert responses(dispatcher) == ["utter_journey/status_initial", "utter_journey/status_current",
                                     "utter_journey/offer_continue"]


async def test_welcome_back_after_a_restart_reads_only_the_database(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p8", "start", "start_journey"), DOMAIN)
    await answer("p8", "Noor")
    await answer("p8", "7")
    await answer("p8", "no", intent="deny")
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p8", "go on", "continue_journey"), DOMAIN)
    await answer("p8", "Sam")
    dispatcher = CollectingDispatcher()  # a new action object and a new store session: as after a restart
    await ActionJourneyWelcome().run(dispatcher, tracker("p8", "hi", "greet", form=None), DOMAIN)
    welcome = dispatcher.messages[0]
    assert welcome["response"] == "utter_journey/welcome_back_named" and welcome["name"] == "Noor"
    assert "inventory" in welcome["where"]
    dispatcher = CollectingDispatcher()  # "hello" in the middle of a step: a short hello, then the question
    await ActionJourneyWelcome().run(dispatcher, tracker("p8", "hi", "greet"), DOMAIN)
    assert responses(dispatcher) == ["utter_journey/hello_again_named"]


def test_the_action_server_registers_every_custom_action_of_the_domain():
    import yaml
    from rasa_sdk.executor import ActionExecutor

    from bot import PROJECT_ROOT

    executor = ActionExecutor()
    executor.register_package("actions")  # the action server does this at start-up
    declared = set()
    for path in (PROJECT_ROOT / "domain").glob("*.yml"):
        declared |= set(yaml.safe_load(path.read_text())["actions"] if "actions:" in path.read_text() else [])
    assert declared and declared <= set(executor.actions), declared - set(executor.actions)


async def test_the_people_list_comes_with_the_circle_picture(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p9", "start", "start_inventory"), DOMAIN)
    for text in ("Ana", "sister", "inner", "daily", "skip", "skip", "skip", "yes", "no"):
        await answer("p9", text)
    dispatcher = CollectingDispatcher()
    await ActionJourneyPeople().run(dispatcher, tracker("p9", "show my people", "show_people"), DOMAIN)
    listing, picture = dispatcher.messages
    assert "Ana (sister)" in listing["people"]
    token = store.load("p9").image_token
    assert picture["image"] == f"https://clinic.example/journey/circle/{token}.svg"


async def test_phq9_item9_hand_off_says_so_and_keeps_the_answer(store):
    state = store.load("p10")
    state.activity, state.display_name = "checkin", "Lu"
    state.draft = {"mood": 3, "mood_onset": None, "phq9_offer": True, **{f"phq9_{n}": 1 for n in range(1, 9)}}
    store.save(state)
    crisis = tracker("p10", "2", "nlu_fallback", slots={"journey_step": "phq9_9", "crisis_category": "suicide"})
    events = await ActionCrisisHandoff().run(CollectingDispatcher(), crisis, DOMAIN)
    [handoff] = AppStore().list_handoffs("requested")
    assert handoff.message.startswith("PHQ-9 item 9") and handoff.message.endswith("answered: 2")
    assert store.load("p10").checkins[0].phq9_total == 10
    assert {"event": "slot", "timestamp": None, "name": "journey_step", "value": None} in events


async def test_deleting_the_persons_data_removes_the_journey(store):
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p11", "start", "start_inventory"), DOMAIN)
    await answer("p11", "Zed")
    AppStore().delete_person_data("p11")
    assert store.load("p11").created_at is None


async def test_validation_without_a_new_answer_reads_nothing(store):
    """Rasa also calls the validator when the form starts, with the emptied slot: that is not an answer."""
    await ActionJourneyBegin().run(CollectingDispatcher(), tracker("p12", "start", "start_journey"), DOMAIN)
    dispatcher = CollectingDispatcher()
    start = tracker("p12", "let's start", "start_journey", latest_action="action_journey_begin",
                    slots={"requested_slot": None})
    start.events.append({"event": "slot", "name": "journey_answer", "value": None})
    await ValidateJourneyForm().run(dispatcher, start, DOMAIN)
    assert dispatcher.messages == [] and store.load("p12").draft == {}
