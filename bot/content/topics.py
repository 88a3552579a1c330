"""IPT psychoeducation topics: loaded from `ipt_topics.yml`, with the helpers the bot needs.

Plain Python, importable without Rasa. A topic `<key>` is the retrieval sub-intent `ipt/<key>`;
its bubbles are the responses `utter_ipt/<key>`, `utter_ipt/<key>_more`, `utter_ipt/<key>_more2`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

CONTENT_FILE = Path(__file__).with_name("ipt_topics.yml")

RETRIEVAL_INTENT = "ipt"
MORE_INTENT = "ipt_more"
MENU_INTENT = "learn_ipt"
TOPIC_ENTITY = "ipt_topic"
MENU_RESPONSE = "utter_learn_ipt"
# After the last bubble of a topic. A retrieval response with no NLU examples (like the `_more`
# bubbles), so the ResponseSelector never picks it and the validator does not flag it as unused.
MORE_END_KEY = "more_end"
MORE_END_RESPONSE = f"utter_{RETRIEVAL_INTENT}/{MORE_END_KEY}"

_MORE_SUFFIX = re.compile(r"^(?P<topic>.+?)_more(?P<n>\d*)$")


@dataclass(frozen=True)
class Bubble:
    key: str  # response key inside the retrieval intent, e.g. "area_grief_more"
    text: str
    related: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    group: str
    bubbles: Tuple[Bubble, ...]
    related: Tuple[str, ...] = ()
    inventory: bool = False
    extra: Tuple[Dict[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Content:
    groups: Dict[str, str]
    topics: Dict[str, Topic]
    menu_text: str
    menu_topics: Tuple[str, ...]
    more_end_text: str

    def bubble_keys(self) -> List[str]:
        return [b.key for t in self.topics.values() for b in t.bubbles]


def bubble_key(topic: str, index: int) -> str:
    """Response key of the bubble at `index` of a topic: key, key_more, key_more2, ..."""
    if index == 0:
        return topic
    return f"{topic}_more" if index == 1 else f"{topic}_more{index}"


def split_bubble_key(key: str) -> Tuple[str, int]:
    """The topic and bubble index of a response key (inverse of `bubble_key`)."""
    match = _MORE_SUFFIX.match(key)
    if not match:
        return key, 0
    n = match.group("n")
    return match.group("topic"), int(n) if n else 1


def response_name(key: str) -> str:
    return f"utter_{RETRIEVAL_INTENT}/{key}"


def key_from_response_name(name: Optional[str]) -> Optional[str]:
    prefix = f"utter_{RETRIEVAL_INTENT}/"
    if name and name.startswith(prefix):
        return name[len(prefix):]
    return None


def topic_payload(key: str) -> str:
    """Button payload that shows a bubble deterministically (no NLU guessing involved)."""
    return f"/{MORE_INTENT}" + json.dumps({TOPIC_ENTITY: key}, separators=(",", ":"))


def load(path: Path = CONTENT_FILE) -> Content:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    topics: Dict[str, Topic] = {}
    for key, spec in raw["topics"].items():
        bubbles = []
        for i, item in enumerate(spec["bubbles"]):
            if isinstance(item, str):
                item = {"text": item}
            bubbles.append(
                Bubble(
                    key=bubble_key(key, i),
                    text=" ".join(item["text"].split()),
                    related=tuple(item.get("related", ())),
                )
            )
        topics[key] = Topic(
            key=key,
            title=spec["title"],
            group=spec["group"],
            bubbles=tuple(bubbles),
            related=tuple(spec.get("related", ())),
            inventory=bool(spec.get("inventory", False)),
            extra=tuple(spec.get("extra", ())),
        )
    return Content(
        groups=dict(raw["groups"]),
        topics=topics,
        menu_text=" ".join(raw["menu"]["text"].split()),
        menu_topics=tuple(raw["menu"]["topics"]),
        more_end_text=" ".join(raw["more_end"]["text"].split()),
    )


@lru_cache(maxsize=1)
def content() -> Content:
    return load()


def next_bubble_key(key: str, data: Optional[Content] = None) -> Optional[str]:
    """The bubble after `key` in its topic, or None when `key` is the last (or unknown)."""
    data = data or content()
    topic, index = split_bubble_key(key)
    if topic not in data.topics:
        return None
    bubbles = data.topics[topic].bubbles
    return bubbles[index + 1].key if index + 1 < len(bubbles) else None


def is_bubble_key(key: Optional[str], data: Optional[Content] = None) -> bool:
    data = data or content()
    if not key:
        return False
    topic, index = split_bubble_key(key)
    return topic in data.topics and index < len(data.topics[topic].bubbles)


def buttons_for(topic: Topic, index: int, data: Content) -> List[Dict[str, str]]:
    """The buttons under one bubble: tell me more, related topics, the inventory, all topics."""
    bubble = topic.bubbles[index]
    last = index == len(topic.bubbles) - 1
    buttons: List[Dict[str, str]] = []
    if not last:
        buttons.append({"title": "Tell me more", "payload": topic_payload(topic.bubbles[index + 1].key)})
    if bubble.related:
        related = bubble.related
    elif last:
        related = topic.related
    else:
        related = topic.related[:1]
    for key in related:
        buttons.append({"title": data.topics[key].title, "payload": topic_payload(key)})
    if last:
        if topic.inventory:
            buttons.append({"title": "Start the inventory", "payload": "/start_inventory"})
        buttons.extend({"title": b["title"], "payload": b["payload"]} for b in topic.extra)
    buttons.append({"title": "All IPT topics", "payload": f"/{MENU_INTENT}"})
    return buttons


def menu_buttons(data: Content) -> List[Dict[str, str]]:
    buttons = [{"title": data.topics[k].title, "payload": topic_payload(k)} for k in data.menu_topics]
    buttons.append({"title": "Main menu", "payload": "/help"})
    return buttons


def more_end_buttons() -> List[Dict[str, str]]:
    return [
        {"title": "All IPT topics", "payload": f"/{MENU_INTENT}"},
        {"title": "Start the inventory", "payload": "/start_inventory"},
        {"title": "Main menu", "payload": "/help"},
    ]


def responses(data: Optional[Content] = None) -> Dict[str, List[Dict[str, object]]]:
    """Every psychoeducation response, as Rasa domain `responses` (name -> variations)."""
    data = data or content()
    out: Dict[str, List[Dict[str, object]]] = {
        MENU_RESPONSE: [{"text": data.menu_text, "buttons": menu_buttons(data)}],
        MORE_END_RESPONSE: [{"text": data.more_end_text, "buttons": more_end_buttons()}],
    }
    for topic in data.topics.values():
        for i, bubble in enumerate(topic.bubbles):
            out[response_name(bubble.key)] = [
                {"text": bubble.text, "buttons": buttons_for(topic, i, data)}
            ]
    return out
