"""Opening a hand-off, including while the database is down (the spool)."""
from bot.crisis.handoff import HandoffRequest, HandoffSpool, notification_kinds, open_handoff
from bot.store.repository import AppStore

UNREACHABLE_DB = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1"


def test_handoff_is_recorded_with_configured_notifications(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("STAFF_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.delenv("SMTP_HOST", raising=False)
    store = AppStore(sqlite_url)
    handoff_id = open_handoff(HandoffRequest("rest", "p1", "overdose", "GB", "took all my pills"),
                              store, HandoffSpool(tmp_path / "spool.jsonl"))
    assert store.get_handoff(handoff_id).locale == "GB"
    assert notification_kinds() == ["webhook"]


def test_long_messages_are_cut_to_a_safe_length():
    assert len(HandoffRequest("rest", "p", "suicide", "US", "x" * 50_000).message) == 4000


def test_database_down_spools_the_handoff_and_drains_it_later(sqlite_url, tmp_path, caplog):
    spool = HandoffSpool(tmp_path / "spool.jsonl")
    request = HandoffRequest("rest", "p2", "suicide", "US", "i want to end it")
    assert open_handoff(request, AppStore(UNREACHABLE_DB), spool) is None
    assert "DATABASE DOWN" in caplog.text
    assert spool.pending() == [request]

    working = AppStore(sqlite_url)
    assert spool.drain(working) == 1
    assert spool.pending() == []
    [recorded] = working.list_handoffs("requested")
    assert (recorded.sender_id, recorded.message) == ("p2", "i want to end it")


def test_next_handoff_drains_the_spool_first(sqlite_url, tmp_path):
    spool = HandoffSpool(tmp_path / "spool.jsonl")
    spool.append(HandoffRequest("rest", "early", "abuse", "US", "first"))
    open_handoff(HandoffRequest("rest", "late", "abuse", "US", "second"), AppStore(sqlite_url), spool)
    senders = [h.sender_id for h in AppStore(sqlite_url).list_handoffs("requested")]
    assert sorted(senders) == ["early", "late"]
    assert spool.pending() == []
