"""The docs say only what is true: README.md, docs/**/*.md and bot/**/README.md against the Makefile, the
files and the code.

- every `make <target>` written in code (inline or a fenced block) is a target of the Makefile;
- every relative link points to an existing file, and its #anchor to a heading there;
- README.md stays the front door: at most 250 lines;
- every setting-like name in backticks (`DATABASE_URL`) is read somewhere in bot/, deploy/, scripts/ or
  the Makefile;
- the privacy guide names every table of the app's models.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = sorted([README, *(PROJECT_ROOT / "docs").rglob("*.md"), *(PROJECT_ROOT / "bot").rglob("README.md")])
README_MAX_LINES = 250

# Upper-snake names in backticks that are not our settings (set by the CI service).
NOT_SETTINGS = {"CI"}

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
MAKE_CALL = re.compile(r"(?:^|[\s;&|(])make\s+([a-z][a-z0-9-]*)", re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
SETTING = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def code_of(text: str) -> list[str]:
    """Fenced blocks and inline code spans of a Markdown text."""
    blocks = FENCE.findall(text)
    return blocks + INLINE_CODE.findall(FENCE.sub("", text))


def make_targets_mentioned(text: str) -> set[str]:
    return {target for code in code_of(text) for target in MAKE_CALL.findall(code)}


def relative_links(text: str) -> list[str]:
    links = LINK.findall(FENCE.sub("", text))
    return [link for link in links if not re.match(r"[a-z][a-z0-9+.-]*:|#", link)]


def settings_mentioned(text: str) -> set[str]:
    return {span for span in INLINE_CODE.findall(FENCE.sub("", text)) if SETTING.fullmatch(span)} - NOT_SETTINGS


def anchors_of(text: str) -> set[str]:
    """GitHub's ids of a Markdown text's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", FENCE.sub("", text), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def makefile_targets() -> set[str]:
    text = (PROJECT_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*)\s*:(?!=)", text, re.M))


def source_text() -> str:
    roots = [PROJECT_ROOT / "bot", PROJECT_ROOT / "deploy", PROJECT_ROOT / "scripts"]
    parts = [(PROJECT_ROOT / "Makefile").read_text()]
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and path.suffix in {".py", ".sh", ".yml", ".yaml", ".conf", ".example", ""} \
                    and path.suffix != ".md" and "__pycache__" not in path.parts:
                try:
                    parts.append(path.read_text(encoding="utf-8"))
                except UnicodeDecodeError:
                    continue
    return "\n".join(parts)


def doc_id(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def test_the_checks_read_the_docs():
    """The extractors find what they look for, so the checks below cannot pass by reading nothing."""
    sample = "Run `make run`.\n```bash\nRASA_SERVERS=3 make run-prod\n```\nSee [x](docs/a.md), " \
             "[y](https://e.org) and `DATABASE_URL`, not `utter_x` nor `CI`.\n"
    assert make_targets_mentioned(sample) == {"run", "run-prod"}
    assert relative_links(sample) == ["docs/a.md"]
    assert settings_mentioned(sample) == {"DATABASE_URL"}
    assert anchors_of("## The first admin\n## Production (`make run-prod`)") == {
        "the-first-admin", "production-make-run-prod"}
    everything = "\n".join(p.read_text(encoding="utf-8") for p in DOCS)
    assert len(make_targets_mentioned(everything)) >= 10
    assert len(relative_links(everything)) >= 20
    assert len(settings_mentioned(everything)) >= 30


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_every_make_target_in_the_docs_exists(path):
    missing = make_targets_mentioned(path.read_text(encoding="utf-8")) - makefile_targets()
    assert not missing, f"{doc_id(path)} names make targets the Makefile lacks: {sorted(missing)}"


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_every_relative_link_points_to_a_file(path):
    broken = [link for link in relative_links(path.read_text(encoding="utf-8"))
              if not (path.parent / link.split("#", 1)[0]).exists()]
    assert not broken, f"{doc_id(path)} links to missing files: {broken}"


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_every_anchor_names_a_heading(path):
    wrong = []
    for link in relative_links(path.read_text(encoding="utf-8")):
        target, _, anchor = link.partition("#")
        target_path = path.parent / target
        if anchor and target.endswith(".md") and target_path.exists():
            if anchor not in anchors_of(target_path.read_text(encoding="utf-8")):
                wrong.append(link)
    assert not wrong, f"{doc_id(path)} links to headings that do not exist: {wrong}"


def test_the_readme_is_a_front_door():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


def test_every_setting_in_the_docs_is_read_by_the_code():
    code = source_text()
    unread = {}
    for path in DOCS:
        for name in settings_mentioned(path.read_text(encoding="utf-8")):
            if not re.search(rf"\b{name}\b", code):
                unread.setdefault(name, doc_id(path))
    assert not unread, f"settings named in the docs that no code reads: {unread}"


def test_the_privacy_guide_lists_every_table():
    models = "".join((PROJECT_ROOT / "bot" / "store" / name).read_text() for name in ("models.py", "staff_models.py"))
    tables = set(re.findall(r"__tablename__ = \"(\w+)\"", models))
    guide = (PROJECT_ROOT / "docs" / "operators" / "privacy.md").read_text(encoding="utf-8")
    assert len(tables) >= 10
    missing = {table for table in tables if f"| `{table}` |" not in guide}
    assert not missing, f"docs/operators/privacy.md does not list the tables {sorted(missing)}"


def test_the_deployment_guide_names_every_variable_the_compose_file_takes():
    compose = (PROJECT_ROOT / "deploy" / "docker-compose.yml").read_text()
    taken = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
    guide = (PROJECT_ROOT / "docs" / "operators" / "deployment.md").read_text(encoding="utf-8")
    section = guide.split("## Docker compose", 1)[1].split("\n## ", 1)[0]
    assert len(taken) >= 10
    missing = {name for name in taken if f"`{name}`" not in section}
    assert not missing, f"docs/operators/deployment.md (Docker compose) does not name {sorted(missing)}"
