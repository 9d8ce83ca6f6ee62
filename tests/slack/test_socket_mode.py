"""The real bot process in Socket Mode: it opens a connection via `apps.connections.open`, receives
envelopes over a local WebSocket and must acknowledge every one (checked per test and at the end)."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.slack.handlers import SUGGESTED_PROMPTS
from tests.support.slack_fakes import BOT_USER, button_click, contexts, event_envelope, mention, message_event, sections, slash_command, wait_until

pytestmark = pytest.mark.slow
ACCOMPANIED = "didampingi Wamenkomdigi"


@pytest.fixture
def deliver(socket_bot, fake_socket):
    """Send one Events API envelope and wait for its ack."""
    ids = itertools.count(1)

    def send(event: dict, *, retry_attempt: int = 0, event_id: str | None = None) -> str:
        envelope_id = fake_socket.send("events_api", event_envelope(event, event_id or f"EvSock{next(ids):05d}"), retry_attempt=retry_attempt)
        assert fake_socket.wait_acked(envelope_id) == {"envelope_id": envelope_id}
        return envelope_id

    return send


def test_mention_is_acked_and_answered_once_even_when_redelivered(deliver, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
    deliver(mention(asked), event_id="EvSockOnce")
    [reply] = fake_slack.wait_for_posts(channel, asked["ts"])
    assert ACCOMPANIED in " ".join(sections(reply))

    deliver(mention(asked), event_id="EvSockOnce", retry_attempt=1)
    deliver(message_event(asked))
    fake_slack.settle(deliver, channel)
    assert len(fake_slack.posts(channel)) == 1


def test_a_marked_up_mention_is_answered_as_the_plain_question(deliver, fake_slack, channel, user):
    replies = []
    for number, typed in enumerate(("Siapa Duta Besar AS?", "<!channel> Siapa Duta Besar AS? <#C999|umum>", "*Siapa* _Duta Besar_ AS?")):
        asked = fake_slack.user_message(channel, f"{user}{number}", f"<@{BOT_USER}> {typed}")
        deliver(mention(asked), event_id=f"EvSockMarkup{number}")
        replies.append(fake_slack.wait_for_posts(channel, asked["ts"])[0]["text"])
    assert replies[0].startswith("Kamala Shirin Lakhdhir [1].") and replies[1:] == [replies[0]] * 2


def test_direct_message_is_answered_in_its_thread(deliver, fake_slack, channel, user):
    dm = "D" + channel[1:]
    asked = fake_slack.user_message(dm, user, "How many US companies are interested in smart cities?")
    deliver(message_event(asked, channel_type="im"))
    [reply] = fake_slack.wait_for_posts(dm, asked["ts"])
    assert "12 perusahaan" in reply["text"]


def test_slash_command_envelope_is_acked_and_answered_ephemerally(socket_bot, fake_socket, fake_slack, channel, user):
    response_url = fake_slack.response_url(channel)
    command = slash_command("When did the meeting take place?", user=user, channel=channel, response_url=response_url, trigger_id=f"trig-{channel}")
    envelope_id = fake_socket.send("slash_commands", command, accepts_response_payload=True)
    fake_socket.wait_acked(envelope_id)
    [response] = wait_until(lambda: fake_slack.responses(channel), what="the /ask response")
    assert response["response_type"] == "ephemeral"
    assert "Senin (18/11)" in response["text"]


def test_button_click_envelope_is_acked_and_stored(socket_bot, deliver, fake_socket, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> When did the meeting take place?")
    deliver(mention(asked))
    [reply] = fake_slack.wait_for_posts(channel, asked["ts"])

    envelope_id = fake_socket.send("interactive", button_click(reply, "feedback_up", user=user, response_url=fake_slack.response_url(channel)))
    fake_socket.wait_acked(envelope_id)
    [thanks] = wait_until(lambda: fake_slack.responses(channel), what="the thank-you")
    assert thanks["text"] == "Thanks for the feedback!"

    from assistant.settings import Settings
    from assistant.slack.feedback import FeedbackStore

    cases = FeedbackStore.for_settings(Settings(data_dir=socket_bot.data_dir)).cases()
    [case] = [case for case in cases if case["question"] == "When did the meeting take place?"]
    assert case["rating"] == "up" and case["citations"] == ["antara-komdigi-as-kerja-sama-digital#03"]


def test_assistant_panel_greets_suggests_and_answers_with_status(deliver, fake_slack, channel, user):
    dm = "D" + channel[1:]
    thread_ts = fake_slack.next_ts()
    deliver(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": user, "context": {"channel_id": channel, "team_id": "T0001"}, "channel_id": dm, "thread_ts": thread_ts},
            "event_ts": thread_ts,
        }
    )
    [prompts] = wait_until(lambda: fake_slack.calls_to("assistant.threads.setSuggestedPrompts", channel_id=dm), what="suggested prompts")
    assert [prompt["message"] for prompt in prompts.params["prompts"]] == [prompt["message"] for prompt in SUGGESTED_PROMPTS]
    [greeting] = fake_slack.wait_for_posts(dm, thread_ts)
    assert greeting["text"].startswith("Hi! Ask me about the article.")

    first = fake_slack.user_message(dm, user, "Who did the minister meet?", thread_ts=thread_ts)
    deliver(message_event(first, channel_type="im"))
    fake_slack.wait_for_posts(dm, thread_ts, count=2)
    follow_up = fake_slack.user_message(dm, user, "Siapa yang mendampinginya?", thread_ts=thread_ts)
    deliver(message_event(follow_up, channel_type="im"))
    answer = fake_slack.wait_for_posts(dm, thread_ts, count=3)[2]
    assert ACCOMPANIED in " ".join(sections(answer))
    assert "kalimat ke-12 dalam artikel" in " ".join(contexts(answer))

    statuses = [call.params["status"] for call in fake_slack.calls_to("assistant.threads.setStatus", channel_id=dm, thread_ts=thread_ts)]
    assert statuses == ["Searching the article…", "Mencari di artikel…"]


def test_fifty_envelopes_at_once_are_all_acked_and_answered_once(socket_bot, fake_socket, fake_slack, channel):
    asked = [fake_slack.user_message(channel, f"USOCK{n:03d}", f"<@{BOT_USER}> Berapa perusahaan AS yang tertarik? #{n}") for n in range(50)]
    events = [event for message in asked for event in (mention(message), message_event(message))]
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        envelope_ids = list(pool.map(lambda pair: fake_socket.send("events_api", event_envelope(pair[1], f"EvBurst{pair[0]:03d}")), enumerate(events)))
    for envelope_id in envelope_ids:
        fake_socket.wait_acked(envelope_id)
    acked = time.monotonic() - started
    wait_until(lambda: len(fake_slack.posts(channel)) >= 50, timeout=60, what="50 replies")
    answered = time.monotonic() - started
    fake_slack.settle(lambda event: fake_socket.wait_acked(fake_socket.send("events_api", event_envelope(event, "EvBurstSentinel"))), channel)
    assert sorted(reply["thread_ts"] for reply in fake_slack.posts(channel)) == sorted(message["ts"] for message in asked)
    print(f"\nSocket Mode, 50 questions x 2 envelopes: all acked in {acked:.2f}s, 50 replies in {answered:.2f}s")


def test_malformed_envelopes_are_acked_and_dropped_with_one_log_line(socket_bot, fake_socket, fake_slack, deliver, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Siapa Duta Besar AS?")
    envelope = event_envelope(mention(asked), "EvSockBroken")
    log_before = len(socket_bot.log())
    broken = [{**envelope, "event": None}, {**envelope, "event": {**envelope["event"], "ts": 1732000000}}, {**envelope, "authorizations": "T0001"}]
    for payload in broken:
        fake_socket.wait_acked(fake_socket.send("events_api", payload))
    fake_socket.wait_acked(fake_socket.send("interactive", {"type": "block_actions", "actions": []}))

    fake_slack.settle(deliver, channel)
    assert fake_slack.posts(channel) == [] and fake_slack.responses(channel) == []
    log = socket_bot.log()[log_before:]
    assert "Traceback" not in log and " ERROR " not in log
    assert log.count("Ignored a Socket Mode") == 4


def test_envelopes_slack_sdk_cannot_read_are_acked_with_one_log_line_each(socket_bot, fake_socket, fake_slack, deliver, channel, user):
    """Payloads that are not objects (a list, a number, null, a string), a missing payload, an
    envelope type nothing handles and an assistant thread without its thread: every one acknowledged
    (the fixture checks none is left), none answered, no traceback."""
    log_before = len(socket_bot.log())
    sent = [
        fake_socket.send("events_api", [1, 2, 3]),
        fake_socket.send("events_api", 42),
        fake_socket.send("events_api", None),
        fake_socket.send("events_api", "just a string"),
        fake_socket.send("events_api", {}, omit=("payload",)),
        fake_socket.send("workflow_magic", {"type": "workflow_magic", "team_id": "T0001"}),
        fake_socket.send("events_api", event_envelope({"type": "assistant_thread_started", "assistant_thread": {}}, "EvSockEmptyThread")),
        fake_socket.send("events_api", event_envelope({"type": "app_home_opened", "user": user, "channel": channel}, "EvSockNobodyListens")),
    ]
    for envelope_id in sent:
        fake_socket.wait_acked(envelope_id)

    fake_slack.settle(deliver, channel)
    assert fake_slack.posts(channel) == []
    log = socket_bot.log()[log_before:]
    assert "Traceback" not in log and " ERROR " not in log, log
    assert log.count("Ignored a Socket Mode") >= 6
