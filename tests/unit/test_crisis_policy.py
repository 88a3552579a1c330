"""The hand-off state machine and the crisis policy: the crisis reply's slots, and pausing during a hand-off."""
import pytest
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.crisis.handoff_state import handoff_state
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


def test_while_waiting_every_message_gets_the_holding_answer_once():
    waiting = tracker(*CRISIS_TURN, UserUttered("hello?", {"name": "greet"}))
    assert CrisisPolicy.next_action(waiting) == ("utter_crisis_resources", [])
    waiting.update(ActionExecuted("utter_crisis_resources"))
    assert CrisisPolicy.next_action(waiting) == ("action_listen", [])


def test_once_staff_took_over_the_assistant_stays_silent():
    taken = tracker(*CRISIS_TURN, SlotSet("handoff_status", "taken"), UserUttered("thanks", {"name": "thank"}))
    assert CrisisPolicy.next_action(taken) == ("action_listen", [])


def test_a_new_crisis_message_gets_the_crisis_reply_again_even_during_a_handoff():
    again = tracker(*CRISIS_TURN, SlotSet("handoff_status", "taken"),
                    UserUttered("i have the pills", {"name": "crisis", "crisis_category": "overdose"}))
    action, events = CrisisPolicy.next_action(again)
    assert action == "utter_crisis" and SlotSet("crisis_category", "overdose") in events
    again.update(ActionExecuted("utter_crisis"))
    assert CrisisPolicy.next_action(again) == ("utter_crisis_resources", [])  # as the rule says


def test_after_closing_the_assistant_is_back():
    closed = tracker(*CRISIS_TURN, SlotSet("handoff_status", "closed"), UserUttered("hi", {"name": "greet"}))
    assert CrisisPolicy.next_action(closed) == (None, [])


@pytest.mark.parametrize("env, locale", [(None, "US"), ("GB", "GB"), ("uk", "GB"), ("ie", "IE"),
                                         ("CA", "CA"), ("AU", "AU"), ("nz", "NZ"), ("fr", "US")])
def test_a_crisis_message_sets_its_category_and_the_configured_locale(monkeypatch, env, locale):
    if env is None:
        monkeypatch.delenv("CRISIS_LOCALE", raising=False)
    else:
        monkeypatch.setenv("CRISIS_LOCALE", env)
    first = tracker(UserUttered("my partner hits me", {"name": "crisis", "crisis_category": "abuse"}))
    action, events = CrisisPolicy.next_action(first)
    assert action == "utter_crisis"
    assert events == [SlotSet("crisis_category", "abuse"), SlotSet("crisis_locale", locale)]


def test_a_crisis_found_only_by_diet_is_unspecified():
    first = tracker(UserUttered("everything is grey", {"name": "crisis", "confidence": 0.7}))
    assert CrisisPolicy.next_action(first)[1][0] == SlotSet("crisis_category", "unspecified")


def test_other_messages_are_left_to_the_other_policies():
    assert CrisisPolicy.next_action(tracker(UserUttered("hi", {"name": "greet"}))) == (None, [])


def in_phq9_item9(answer: str) -> DialogueStateTracker:
    from rasa.shared.core.events import ActiveLoop

    return tracker(ActiveLoop("journey_form"), SlotSet("requested_slot", "journey_answer"),
                   SlotSet("journey_step", "phq9_9"), ActionExecuted("journey_form"), ActionExecuted("action_listen"),
                   UserUttered(answer, {"name": "nlu_fallback", "confidence": 0.3}))


@pytest.mark.parametrize("answer", ["1", "several days", "More than half the days", "nearly every day"])
def test_phq9_item9_above_zero_starts_the_crisis_reply_and_ends_the_form(answer):
    from rasa.shared.core.events import ActiveLoop

    action, events = CrisisPolicy.next_action(in_phq9_item9(answer))
    assert action == "utter_crisis"
    assert SlotSet("crisis_category", "suicide") in events
    assert ActiveLoop(None) in events and SlotSet("requested_slot", None) in events


@pytest.mark.parametrize("answer", ["0", "not at all", "what does this mean?"])
def test_phq9_item9_at_zero_or_unclear_leaves_the_form_alone(answer):
    assert CrisisPolicy.next_action(in_phq9_item9(answer)) == (None, [])


def test_the_same_answer_to_another_item_is_not_a_crisis():
    other = in_phq9_item9("nearly every day")
    other.update(SlotSet("journey_step", "phq9_2"))
    assert CrisisPolicy.next_action(other) == (None, [])


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
