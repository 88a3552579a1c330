"""Reading back what the tracker store kept, to compare it with what the simulated people saw."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

from bot.deploy.loadgen import Turn


@dataclass
class StoredTurn:
    load_id: str | None
    text: str
    bot_texts: list[str] = field(default_factory=list)


def stored_turns(url: str, senders: set[str]) -> dict[str, list[StoredTurn]]:
    """Per conversation, its user events in order, each with the bot messages stored after it."""
    engine = create_engine(url, future=True)
    result: dict[str, list[StoredTurn]] = {s: [] for s in senders}
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT sender_id, type_name, data FROM events WHERE sender_id = ANY(:senders) ORDER BY id"),
                {"senders": list(senders)})
            for sender, kind, data in rows:
                event = json.loads(data)
                if kind == "user":
                    load_id = (event.get("metadata") or {}).get("load_id")
                    result[sender].append(StoredTurn(load_id, event.get("text") or ""))
                elif kind == "bot" and result[sender] and event.get("text"):
                    result[sender][-1].bot_texts.append(event["text"])
    finally:
        engine.dispose()
    return result


def text_parts(texts: list[str]) -> list[str]:
    """Messages as a person sees them: Rasa's channels split a text on blank lines."""
    return [part.strip() for t in texts for part in t.strip().split("\n\n") if part.strip()]


def reply_texts(replies: list[dict[str, Any]]) -> list[str]:
    return text_parts([r["text"] for r in replies if r.get("text")])


def compare(turns: list[Turn], stored: dict[str, list[StoredTurn]]) -> list[str]:
    """Every difference between the turns people sent and what is stored; empty when none.

    Expected, per conversation, in the order sent: each answered turn's message stored exactly
    once with exactly the bot messages the person received; each failed turn (its server died
    while handling it, so it may or may not have been saved) stored at most once; nothing else.
    """
    problems: list[str] = []
    by_sender: dict[str, list[Turn]] = {}
    for turn in turns:
        by_sender.setdefault(turn.sender, []).append(turn)
    for sender, sent in by_sender.items():
        kept = list(stored.get(sender, []))
        ids = [k.load_id for k in kept]
        for load_id, n in {i: ids.count(i) for i in ids}.items():
            if n > 1:
                problems.append(f"{sender}: message {load_id} stored {n} times")
        known = {t.load_id for t in sent}
        problems += [f"{sender}: a stored user message nobody sent ({k.text!r})"
                     for k in kept if k.load_id not in known]
        position = 0
        for turn in sent:  # in the order the person sent them
            here = kept[position] if position < len(kept) else None
            if here is not None and here.load_id == turn.load_id:
                position += 1
                if turn.ok and text_parts(here.bot_texts) != reply_texts(turn.replies):
                    problems.append(f"{sender}: turn {turn.text!r}: stored bot messages {text_parts(here.bot_texts)} "
                                    f"but the person received {reply_texts(turn.replies)}")
            elif turn.ok:
                problems.append(f"{sender}: answered turn {turn.text!r} ({turn.load_id}) is not stored in order")
        if position != len(kept):
            problems.append(f"{sender}: stored messages out of order: {[k.text for k in kept]}")
    return problems
