"""The hand-off state machine and the crisis policy: the crisis reply's slots, and pausing during a hand-off."""
import pytest
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff.state import handoff_state
from bot.policies.crisis import CrisisPolicy

CRISIS_TURN = [
    UserUttered("i want to die", {"name": "crisis", "confidence": 1.0}),
    ActionExecuted("utter_crisis"), ActionExecuted("utter_crisis_resources"),
    ActionExecuted("action_crisis_handoff"), ActionExecuted("action_listen"),
]


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("p", [ActionExecuted("action_listen"), *events])


def test_no_handoff_without_a_crisis():
    assert handoff_state(tracker(UserUttered("hi", {"name": "greet"})).events) is None


@pytest.mark.parametrize("extra, state", [
    ([], "requested"),
    ([SlotSet("handoff_status", "taken")], "taken"),
    ([SlotSet("handoff_status", "closed")], "closed"),
    ([SlotSet("handoff_status", "closed"), *CRISIS_TURN], "requested"),
])
def test_state_follows_the_crisis_and_the_staff(extra, state):
    assert handoff_state(tracker(*CRISIS_TURN, *extra).events) == state


def test_state_reads_dict_events_too():
    events = [{"event": "action", "name": "utter_crisis_resources"},
              {"event": "slot", "name": "handoff_status", "value": "taken"}]
    assert handoff_state(events) == "taken"


def slots(events) -> dict:
    return {e.key: e.value for e in events if isinstance(e, SlotSet)}


def run_turn(turn: DialogueStateTracker, limit: int = 6) -> list[str]:
    """The actions the policy forces until it listens (or abstains), applying its events."""
    done = []
    for _ in range(limit):
        action, events = CrisisPolicy.next_action(turn)
        if action is None:
            break
        turn.update_with_events(events, None) if events else None
        turn.update(ActionExecuted(action))
        done.append(action)
        if action == "action_listen":
            break
    return done


@pytest.mark.parametrize("text, intent, response", [
    ("hello? is anyone there", "greet", "utter_holding_when"),
    ("how long will it take", "inform", "utter_holding_when"),
    ("i don't want to call anyone", "deny", "utter_holding_no_call"),
    ("i cant talk on the phone", "inform", "utter_holding_no_call"),
    ("i'm not in danger, it was a mistake", "inform", "utter_safety_check"),
    ("everything is just a lot", "share_feelings", "utter_holding"),
])
def test_while_waiting_the_holding_reply_answers_what_was_said(text, intent, response):
    waiting = tracker(*CRISIS_TURN, UserUttered(text, {"name": intent}))
    assert run_turn(waiting) == [response, "action_listen"]


def test_while_waiting_no_im_safe_lets_the_person_go_on_with_the_handoff_marked_safe():
    waiting = tracker(*CRISIS_TURN, UserUttered("ok", {"name": "affirm"}), ActionExecuted("utter_holding"),
                      ActionExecuted("action_listen"), UserUttered("no, I'm safe", {"name": "deny"}))
    action, events = CrisisPolicy.next_action(waiting)
    assert action == "utter_safety_check_ok_waiting" and slots(events)["handoff_status"] == "safe"
    waiting.update_with_events(events, None)
    waiting.update(ActionExecuted(action))
    assert run_turn(waiting) == ["action_flag_for_review", "action_listen"]
    waiting.update(UserUttered("what is ipt?", {"name": "ipt"}))
    assert CrisisPolicy.next_action(waiting) == (None, [])  # the assistant is itself again


@pytest.mark.parametrize("intent", ["thank", "crisis", "possible_risk"])
def test_once_staff_took_over_the_assistant_never_talks(intent):
    taken = tracker(*CRISIS_TURN, SlotSet("handoff_status", "taken"),
                    UserUttered("i'm safe for now, just so tired of everything", {"name": intent}))
    actions = run_turn(taken)
    assert "utter_crisis" not in actions and not any(a.startswith("utter_") for a in actions)
    assert actions[-1] == "action_listen"
    assert ("action_flag_for_review" in actions) == (intent != "thank")


def test_a_new_crisis_message_while_waiting_gets_the_crisis_reply_again():
    again = tracker(*CRISIS_TURN, UserUttered("i have the pills", {"name": "crisis", "crisis_category": "overdose"}))
    action, events = CrisisPolicy.next_action(again)
    assert action == "utter_crisis" and slots(events)["crisis_category"] == "overdose"


def test_after_closing_the_assistant_is_back():
    closed = tracker(*CRISIS_TURN, SlotSet("handoff_status", "closed"), UserUttered("hi", {"name": "greet"}))
    assert CrisisPolicy.next_action(closed) == (None, [])


@pytest.mark.parametrize("env, locale", [(None, "US"), ("GB", "GB"), ("uk", "GB"), ("ie", "IE"),
                                         ("CA", "CA"), ("AU", "AU"), ("nz", "NZ")])
def test_a_crisis_message_sets_its_category_speaker_locale_and_staffing(monkeypatch, env, locale):
    if env is None:
        monkeypatch.delenv("CRISIS_LOCALE", raising=False)
    else:
        monkeypatch.setenv("CRISIS_LOCALE", env)
    monkeypatch.delenv("CLINIC_HOURS", raising=False)
    first = tracker(UserUttered("my partner hits me", {"name": "crisis", "crisis_category": "abuse",
                                                       "crisis_speaker": "self"}))
    action, events = CrisisPolicy.next_action(first)
    assert action == "utter_crisis"
    assert slots(events) == {"crisis_category": "abuse", "crisis_speaker": "self", "crisis_locale": locale,
                             "crisis_lines": f"{locale}.abuse.self", "clinic_open": False, "safety_check": None}


def test_in_clinic_hours_the_crisis_reply_says_someone_will_join(monkeypatch):
    monkeypatch.setenv("CLINIC_HOURS", "mon-sun 00:00-24:00")  # all day, whenever the test runs
    first = tracker(UserUttered("i want to die", {"name": "crisis", "crisis_category": "suicide"}))
    assert slots(CrisisPolicy.next_action(first)[1])["clinic_open"] is True


def possible(text: str = "what's the point anymore", *before) -> DialogueStateTracker:
    return tracker(*before, UserUttered(text, {"name": "possible_risk", "confidence": 1.0}))


def after_question(answer: str, intent: str = "inform", question: str = "utter_safety_check") -> DialogueStateTracker:
    return tracker(UserUttered("what's the point anymore", {"name": "possible_risk"}), ActionExecuted(question),
                   ActionExecuted("action_listen"), UserUttered(answer, {"name": intent}))


def test_possible_risk_gets_one_safety_question():
    assert run_turn(possible()) == ["utter_safety_check", "action_listen"]


@pytest.mark.parametrize("answer, intent", [("yes", "affirm"), ("Not sure", "inform"), ("kind of", "inform"),
                                            ("yeah sometimes", "affirm"), ("idk", "inform")])
def test_yes_or_not_sure_gets_the_crisis_reply(answer, intent):
    action, events = CrisisPolicy.next_action(after_question(answer, intent))
    assert action == "utter_crisis" and slots(events)["crisis_category"] == "suicide"


def test_a_risk_message_as_the_answer_gets_the_crisis_reply():
    assert CrisisPolicy.next_action(after_question("i just feel hopeless", "possible_risk"))[0] == "utter_crisis"


@pytest.mark.parametrize("answer, intent", [("No, I'm safe", "deny"), ("no", "deny"), ("nope im ok", "inform"),
                                            ("no i'm not", "deny")])
def test_no_gets_an_acknowledgement_and_a_flag_for_review(answer, intent):
    assert run_turn(after_question(answer, intent)) == ["utter_safety_check_ok", "action_flag_for_review",
                                                        "action_listen"]


def test_no_answer_is_asked_again_once_then_the_conversation_goes_on_flagged():
    first = after_question("why do you ask", "nlu_fallback")
    assert CrisisPolicy.next_action(first)[0] == "utter_safety_check_again"
    second = after_question("we keep arguing about money", "inform", question="utter_safety_check_again")
    action, events = CrisisPolicy.next_action(second)
    assert action == "utter_safety_check_unanswered" and slots(events)["safety_check"] == "unanswered"
    second.update_with_events(events, None)
    second.update(ActionExecuted(action))
    assert run_turn(second) == ["action_flag_for_review", "action_listen"]


def test_the_safety_question_keeps_a_running_form_and_no_resumes_it():
    from rasa.shared.core.events import ActiveLoop

    form = [ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
            SlotSet("journey_step", "person_hard"), ActionExecuted("journey_form"), ActionExecuted("action_listen")]
    asking = possible("idk, i'm so tired of everything", *form)
    action, events = CrisisPolicy.next_action(asking)
    assert action == "utter_safety_check" and not any(isinstance(e, ActiveLoop) for e in events)
    answered = tracker(*form, UserUttered("idk, i'm so tired of everything", {"name": "possible_risk"}),
                       ActionExecuted("utter_safety_check"), ActionExecuted("action_listen"),
                       UserUttered("no", {"name": "deny"}))
    assert run_turn(answered) == ["utter_safety_check_ok", "action_flag_for_review", "journey_form"]


def test_other_messages_are_left_to_the_other_policies():
    assert CrisisPolicy.next_action(tracker(UserUttered("hi", {"name": "greet"}))) == (None, [])


def in_phq9_item9(answer: str) -> DialogueStateTracker:
    from rasa.shared.core.events import ActiveLoop

    return tracker(ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
                   SlotSet("journey_step", "phq9_9"), ActionExecuted("journey_form"), ActionExecuted("action_listen"),
                   UserUttered(answer, {"name": "nlu_fallback", "confidence": 0.3}))


@pytest.mark.parametrize("answer", ["1", "several days", "More than half the days", "nearly every day", "yes",
                                    "yes i do", "yeah"])
def test_phq9_item9_above_zero_or_yes_starts_the_crisis_reply_and_ends_the_form(answer):
    from rasa.shared.core.events import ActiveLoop

    action, events = CrisisPolicy.next_action(in_phq9_item9(answer))
    assert action == "utter_crisis"
    assert SlotSet("crisis_category", "suicide") in events
    assert ActiveLoop(None) in events and SlotSet("requested_slot", None) in events


@pytest.mark.parametrize("answer", ["0", "not at all", "no", "never"])
def test_phq9_item9_at_zero_leaves_the_form_alone(answer):
    assert CrisisPolicy.next_action(in_phq9_item9(answer)) == (None, [])


@pytest.mark.parametrize("answer", ["what does this mean?", "maybe", "skip", "idk", "kind of"])
def test_phq9_item9_unclear_gets_the_safety_question_and_is_never_skipped(answer):
    assert CrisisPolicy.next_action(in_phq9_item9(answer))[0] == "utter_safety_check"


def test_the_same_answer_to_another_item_is_not_a_crisis():
    other = in_phq9_item9("nearly every day")
    other.update(SlotSet("journey_step", "phq9_2"))
    assert CrisisPolicy.next_action(other) == (None, [])


def test_feeling_hopeless_answered_with_how_often_at_another_item_stays_in_the_form():
    other = in_phq9_item9("nearly every day, i feel hopeless")
    other.update(SlotSet("journey_step", "phq9_2"))
    other.update(UserUttered("nearly every day, i feel hopeless", {"name": "possible_risk"}))
    assert CrisisPolicy.next_action(other) == ("journey_form", [])


def test_a_phq9_crisis_turn_goes_on_to_the_resources_the_hand_off_and_then_listens():
    turn = in_phq9_item9("nearly every day")
    expected = ["utter_crisis", "utter_crisis_resources", "action_crisis_handoff", "action_listen"]
    for action in expected:
        predicted, events = CrisisPolicy.next_action(turn)
        assert predicted == action
        turn.update_with_events(events, None) if events else None
        turn.update(ActionExecuted(predicted))


def test_a_crisis_wins_over_a_running_form_in_rasas_ensemble():
    """A running form's next step is a "no user" prediction that overrules other policies; the crisis
    reply must still win, and its events (ending the form) apply only because it wins."""
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActiveLoop

    domain = Domain.from_dict({"actions": ["utter_crisis", "utter_crisis_resources", "action_crisis_handoff"],
                               "forms": {"journey_form": {"required_slots": []}},
                               "responses": {"utter_crisis": [{"text": "x"}],
                                             "utter_crisis_resources": [{"text": "y"}]}})
    from rasa.engine.graph import ExecutionContext, GraphSchema

    policy = CrisisPolicy({"priority": 7}, LocalModelStorage.__new__(LocalModelStorage), Resource("crisis"),
                          ExecutionContext(GraphSchema({}), "test"))
    in_form = tracker(ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
                      ActionExecuted("journey_form"), ActionExecuted("action_listen"),
                      UserUttered("i want to die", {"name": "crisis", "confidence": 1.0}))
    loop_step = [0.0] * domain.num_actions
    loop_step[domain.index_for_action("journey_form")] = 1.0
    form_prediction = PolicyPrediction(loop_step, "RulePolicy", 6, is_no_user_prediction=True)
    crisis_prediction = policy.predict_action_probabilities(in_form, domain)
    best = DefaultPolicyPredictionEnsemble._pick_best_policy([form_prediction, crisis_prediction])
    assert best.policy_name == "CrisisPolicy"
    assert best.probabilities[domain.index_for_action("utter_crisis")] == 1.0
    assert ActiveLoop(None) in best.events
    abstaining = policy.predict_action_probabilities(tracker(UserUttered("hi", {"name": "greet"})), domain)
    lost = DefaultPolicyPredictionEnsemble._pick_best_policy([form_prediction, abstaining])
    assert lost.policy_name == "RulePolicy" and not any(isinstance(e, ActiveLoop) for e in lost.events)


def test_after_no_in_a_journey_activity_the_next_answers_are_not_asked_about_again():
    from rasa.shared.core.events import ActiveLoop

    form = [ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
            SlotSet("journey_step", "person_good"), ActionExecuted("journey_form"), ActionExecuted("action_listen")]
    answered = tracker(*form, UserUttered("they make me laugh", {"name": "possible_risk"}),
                       ActionExecuted("utter_safety_check"), ActionExecuted("action_listen"),
                       UserUttered("no", {"name": "deny"}), ActionExecuted("utter_safety_check_ok"),
                       ActionExecuted("action_flag_for_review"), ActionExecuted("journey_form"),
                       ActionExecuted("action_listen"),
                       UserUttered("they make me laugh", {"name": "possible_risk"}))
    assert CrisisPolicy.next_action(answered) == ("journey_form", [])
    answered.update(UserUttered("i want to kill myself", {"name": "crisis", "crisis_category": "suicide"}))
    assert CrisisPolicy.next_action(answered)[0] == "utter_crisis"  # clear risk always gets the reply
    fresh = tracker(*form, UserUttered("they make me laugh", {"name": "possible_risk"}))
    assert CrisisPolicy.next_action(fresh)[0] == "utter_safety_check"
