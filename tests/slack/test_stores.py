"""The small stores behind exactly-once, the rate limit and feedback, and reading a thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import yaml

from assistant.settings import Settings
from assistant.slack.feedback import FeedbackStore, export_feedback
from assistant.slack.state import PerUserRateLimit, SqliteSeenEvents, message_key, state_path
from assistant.slack.threads import BotIdentity, takes_part, thread_history
from assistant.types import Answer, Citation, Turn

BOT = BotIdentity(user_id="UBOT", bot_id="BBOT")


def test_exactly_one_claim_wins_across_threads_and_store_instances(tmp_path):
    stores = [SqliteSeenEvents(tmp_path / "slack.sqlite3") for _ in range(2)]  # as two processes would
    key = message_key("C1", "1732000000.000100")
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: stores[n % 2].claim(key), range(64)))
    assert results.count(True) == 1
    assert stores[0].claim(message_key("C1", "1732000000.000101"))


def test_old_claims_are_pruned(tmp_path):
    store = SqliteSeenEvents(tmp_path / "slack.sqlite3", keep_seconds=-1)
    assert store.claim("k")
    store.prune()
    assert store.claim("k")


def test_rate_limit_per_user_in_a_rolling_minute():
    now = [1000.0]
    limit = PerUserRateLimit(2, clock=lambda: now[0])
    assert [limit.wait_seconds("U1"), limit.wait_seconds("U1"), limit.wait_seconds("U2")] == [0, 0, 0]
    now[0] += 20
    assert limit.wait_seconds("U1") == 40
    now[0] += 40
    assert limit.wait_seconds("U1") == 0
    assert PerUserRateLimit(0).wait_seconds("U1") == 0  # 0 turns the limit off


def test_feedback_export_writes_candidate_cases(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = FeedbackStore(state_path(settings))
    cited = Citation(1, "doc#11", "doc", 11, "Meutya Hafid didampingi Nezar Patria.", 0.9)
    answer = Answer("Who accompanied her?", "Nezar Patria [1].", False, (cited,), "en")
    store.record_answer("message:C1:1732000000.000100", answer, ["Who did the minister meet?"])
    store.record_answer("message:C1:1732000000.000200", Answer("Siapa presidennya?", "Artikel tidak menyebutkan hal itu.", True, (), "id"), [])
    assert store.record_feedback("message:C1:1732000000.000100", "U1", "up") == "en"
    assert store.record_feedback("message:C1:1732000000.000200", "U1", "down") == "id"
    assert store.record_feedback("message:C9:unknown", "U1", "up") is None

    out = tmp_path / "candidates.yaml"
    assert export_feedback(settings, str(out)) == 2
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["candidates"] == [
        {
            "id": "slack-C1-1732000000-000100-U1",
            "lang": "en",
            "question": "Who accompanied her?",
            "history": ["Who did the minister meet?"],
            "answer": "Nezar Patria [1].",
            "citations": ["doc#11"],
            "rating": "up",
        },
        {
            "id": "slack-C1-1732000000-000200-U1",
            "lang": "id",
            "question": "Siapa presidennya?",
            "answer": "Artikel tidak menyebutkan hal itu.",
            "citations": [],
            "rating": "down",
        },
    ]


def test_export_without_any_feedback_is_empty_and_creates_nothing(tmp_path, capsys):
    assert export_feedback(Settings(data_dir=tmp_path / "never-used"), "-") == 0
    assert yaml.safe_load(capsys.readouterr().out) == {"candidates": []}
    assert not (tmp_path / "never-used").exists()


def test_thread_history_orders_by_exact_ts_and_stops_before_the_question():
    thread = [
        {"ts": "1732000000.000300", "user": "U1", "text": "Who accompanied her?"},
        {"ts": "1732000000.000100", "user": "U1", "text": "<@UBOT> Who did the minister meet?"},
        {"ts": "1732000000.000200", "user": "UBOT", "bot_id": "BBOT", "text": "Marisa Lago &amp; Kamala [1]."},
        {"ts": "1732000000.000250", "user": "UX", "bot_id": "BOTHER", "text": "another bot"},
        {"ts": "1732000000.000400", "user": "U2", "text": "later"},
    ]
    assert thread_history(thread, "1732000000.000300", BOT) == [
        Turn("user", "Who did the minister meet?"),
        Turn("assistant", "Marisa Lago & Kamala [1]."),
    ]
    assert takes_part(thread, BOT)
    assert not takes_part([{"ts": "1.1", "user": "U1", "text": "lunch?"}], BOT)
