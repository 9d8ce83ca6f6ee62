"""👍/👎 feedback on answers, kept as candidate eval cases.

Every answer the bot posts is recorded (question, answer text, cited sentence ids, language, the
earlier questions of its thread) under an id that rides on its feedback buttons; a click copies that
record into `feedback` with the rating, the user and the time. One row per (answer, user): a second
click replaces the first, so people can change their mind. `assistant feedback export` writes the
rows as YAML shaped like `evals/dataset.yaml` entries, for a person to review into gold cases:

    candidates:
    - id: slack-C123-1732000000-000100-U456
      lang: en
      question: Who accompanied her?
      history: [Who did the governor meet?]     # only for follow-ups
      answer: "Budi Santoso and Siti Aminah [1]. …"
      citations: [some-article#11]
      rating: up
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import yaml

from assistant.settings import Settings
from assistant.slack.state import connect, create, state_path
from assistant.types import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL,
    lang TEXT NOT NULL, history TEXT NOT NULL, answered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL, user TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    ts REAL NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL,
    lang TEXT NOT NULL, history TEXT NOT NULL,
    PRIMARY KEY (answer_id, user)
);
"""
_HEADER = """\
# Candidate eval cases from Slack feedback (`assistant feedback export`).
# rating up: the cited sentences are likely gold; rating down: review (wrong sources, or a missed answer).
"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        create(self.path, _SCHEMA)

    @classmethod
    def for_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(state_path(settings))

    def record_answer(self, answer_id: str, answer: Answer, history: list[str]) -> None:
        citations = json.dumps([citation.sentence_id for citation in answer.citations])
        with connect(self.path) as db:
            db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (answer_id, answer.question, answer.text, citations, answer.language, json.dumps(history), time.time()),
            )

    def record_feedback(self, answer_id: str, user: str, rating: str) -> str | None:
        """Store a click. Returns the answer's language, or None when the answer is unknown (e.g.
        the database was reset since it was posted) and nothing was stored."""
        with connect(self.path) as db:
            stored = db.execute(
                "INSERT OR REPLACE INTO feedback "
                "SELECT id, ?, ?, ?, question, answer, citations, lang, history FROM answers WHERE id = ?",
                (user, rating, time.time(), answer_id),
            ).rowcount
            row = db.execute("SELECT lang FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return row[0] if stored and row else None

    def cases(self) -> list[dict]:
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT answer_id, user, lang, question, history, answer, citations, rating FROM feedback ORDER BY ts, answer_id, user"
            ).fetchall()
        cases = []
        for answer_id, user, lang, question, history, answer, citations, rating in rows:
            case = {"id": case_id(answer_id, user), "lang": lang, "question": question}
            if json.loads(history):
                case["history"] = json.loads(history)
            case.update(answer=answer, citations=json.loads(citations), rating=rating)
            cases.append(case)
        return cases


def case_id(answer_id: str, user: str) -> str:
    return "slack-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{answer_id.split(':', 1)[-1]}-{user}").strip("-")


def export_feedback(settings: Settings, path: str) -> int:
    """Write all feedback as candidate eval cases (YAML; "-" is stdout). Returns how many."""
    database = state_path(settings)
    cases = FeedbackStore(database).cases() if database.exists() else []
    text = _HEADER + yaml.safe_dump({"candidates": cases}, allow_unicode=True, sort_keys=False, width=100)
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")
    return len(cases)
