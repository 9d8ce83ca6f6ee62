"""The real bot process (`assistant slack --http`) receiving signed Events API, slash command and
interactivity requests over HTTP, answering from the real index into the fake Web API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.support.bot_process import RATE_LIMIT, clean_env
from tests.support.slack_fakes import BOT_USER, button_click, contexts, event_envelope, mention, message_event, sections, slash_command, wait_until

pytestmark = pytest.mark.slow
ACCOMPANIED = "didampingi Wamenkomdigi"
"""From sentence #11 (0-based), "sentence 12 of the article": who accompanied the minister."""


def test_mention_gets_one_threaded_reply_quoting_its_sources(http_bot, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
    assert http_bot.events.event(mention(asked))[0] == 200

    [reply] = fake_slack.wait_for_posts(channel, asked["ts"])
    assert reply["thread_ts"] == asked["ts"]
    assert reply["text"].startswith("Nezar Patria, Mira Tayyiba and Ismail [1].")
    quote = next(text for text in sections(reply) if text.startswith("> "))
    assert "didampingi Wamenkomdigi *Nezar Patria*" in quote
    assert "*[1]* · sentence 12 of the article" in contexts(reply)[0]
    buttons = [element["action_id"] for block in reply["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert buttons == ["feedback_up", "feedback_down"]
    fake_slack.settle(http_bot.events.event, channel)
    assert len(fake_slack.posts(channel)) == 1


def test_a_retried_delivery_is_not_answered_twice(http_bot, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Kapan pertemuan berlangsung?")
    event = mention(asked)
    # Retries racing the first delivery, then one arriving after the answer was posted.
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda attempt: http_bot.events.event(event, event_id="EvRETRY1", retry_num=attempt)[0], [None, 1, 2, 3]))
    assert statuses == [200] * 4
    fake_slack.wait_for_posts(channel, asked["ts"])
    assert http_bot.events.event(event, event_id="EvRETRY1", retry_num=4)[0] == 200
    fake_slack.settle(http_bot.events.event, channel)
    assert len(fake_slack.posts(channel)) == 1


def test_mention_and_its_message_twin_get_one_reply(http_bot, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Berapa perusahaan AS yang tertarik?")
    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda event: http_bot.events.event(event)[0], [mention(asked), message_event(asked)]))
    assert statuses == [200, 200]
    [reply] = fake_slack.wait_for_posts(channel, asked["ts"])
    assert "12 perusahaan" in reply["text"]
    fake_slack.settle(http_bot.events.event, channel)
    assert len(fake_slack.posts(channel)) == 1


def test_follow_up_in_thread_uses_the_thread_as_history(http_bot, fake_slack, channel, user):
    """The same follow-up in two threads: "her" is the minister in one, the ambassador in the other."""
    replies = {}
    for asker, first_question in ((user, "Who did the minister meet?"), (user + "B", "Siapa Duta Besar AS untuk Indonesia?")):
        first = fake_slack.user_message(channel, asker, f"<@{BOT_USER}> {first_question}")
        http_bot.events.event(mention(first))
        fake_slack.wait_for_posts(channel, first["ts"])
        follow_up = fake_slack.user_message(channel, asker, "Who accompanied her?", thread_ts=first["ts"])
        http_bot.events.event(message_event(follow_up))
        replies[first_question] = fake_slack.wait_for_posts(channel, first["ts"], count=2)[1]
        assert fake_slack.calls_to("conversations.replies", channel=channel, ts=first["ts"])

    minister = replies["Who did the minister meet?"]
    assert ACCOMPANIED in " ".join(sections(minister))
    assert "*[1]* · sentence 12 of the article" in " ".join(contexts(minister))
    ambassador = replies["Siapa Duta Besar AS untuk Indonesia?"]
    assert "Eric Hsu" in " ".join(sections(ambassador))
    assert "*[1]* · sentence 13 of the article" in " ".join(contexts(ambassador))


def test_thread_messages_without_the_bot_are_left_alone(http_bot, fake_slack, channel, user):
    parent = fake_slack.user_message(channel, user, "Lunch at noon?")
    reply = fake_slack.user_message(channel, "UOTHER01", "Who accompanied her?", thread_ts=parent["ts"])
    top_level = fake_slack.user_message(channel, user, "Who did Meutya Hafid meet?")
    http_bot.events.event(message_event(reply))
    http_bot.events.event(message_event(top_level))
    fake_slack.settle(http_bot.events.event, channel)
    assert fake_slack.posts(channel) == []


def test_messages_from_bots_are_ignored(http_bot, fake_slack, channel):
    other_bot = {**fake_slack.user_message(channel, "UOTHERBOT", f"<@{BOT_USER}> Who accompanied Meutya Hafid?"), "bot_id": "BOTHER"}
    itself = {**fake_slack.user_message(channel, BOT_USER, f"<@{BOT_USER}> Who accompanied Meutya Hafid?"), "bot_id": "BBOT0001"}
    for event in (mention(other_bot), message_event(other_bot), message_event({**other_bot, "subtype": "bot_message"}), message_event(itself)):
        assert http_bot.events.event(event)[0] == 200
    fake_slack.settle(http_bot.events.event, channel)
    assert fake_slack.posts(channel) == []


def test_direct_message_is_answered(http_bot, fake_slack, channel, user):
    dm = "D" + channel[1:]
    asked = fake_slack.user_message(dm, user, "Di mana pertemuan berlangsung?")
    http_bot.events.event(message_event(asked, channel_type="im"))
    [reply] = fake_slack.wait_for_posts(dm, asked["ts"])
    assert "Kantor Kementerian Komdigi" in reply["text"]
    assert "kalimat ke-4 dalam artikel" in " ".join(contexts(reply))  # an Indonesian question gets Indonesian labels


def test_slash_command_answers_ephemerally_and_echoes_the_question(http_bot, fake_slack, channel, user):
    question = "Berapa perusahaan AS yang tertarik?"
    fields = slash_command(question, user=user, channel=channel, response_url=fake_slack.response_url(channel), trigger_id=f"trig-{channel}")
    status, body = http_bot.events.command(fields)
    assert status == 200 and body == b""
    [response] = wait_until(lambda: fake_slack.responses(channel), what="the /ask response")
    assert response["response_type"] == "ephemeral"
    assert "12 perusahaan" in response["text"]
    assert contexts(response)[0] == "*Anda bertanya:* Berapa perusahaan AS yang tertarik?"
    assert fake_slack.posts(channel) == []


def test_a_slash_command_with_the_word_payload_is_answered(http_bot, fake_slack, channel, user):
    """bolt alone reads any form containing "payload" as a button click and drops the question."""
    question = "Berapa perusahaan AS yang tertarik? (payload)"
    fields = slash_command(question, user=user, channel=channel, response_url=fake_slack.response_url(channel), trigger_id=f"trig-{channel}")
    assert http_bot.events.command(fields)[0] == 200
    [response] = wait_until(lambda: fake_slack.responses(channel), what="the /ask response")
    assert "12 perusahaan" in response["text"]


def test_slack_markup_is_reduced_to_plain_text_before_asking(http_bot, fake_slack, channel, user):
    """`<!channel>` must not become the word "channel" in the question: the reply is the one the
    plain question gets (the ambassador, sentence 13), not the companions of sentence 12."""
    replies = []
    for typed in (
        "Siapa Duta Besar AS?",
        "<!channel> Siapa Duta Besar AS?",
        "<!here> <@U0BOSS> Siapa Duta Besar AS? <!everyone>",
        "<!channel> Siapa Duta Besar AS? <#C999|umum>",
        "*Siapa* _Duta Besar_ AS?",
    ):
        asked = fake_slack.user_message(channel, user + str(len(replies)), f"<@{BOT_USER}> {typed}")
        http_bot.events.event(mention(asked))
        replies.append(fake_slack.wait_for_posts(channel, asked["ts"])[0])
    assert replies[0]["text"].startswith("Kamala Shirin Lakhdhir [1].")
    assert contexts(replies[0])[0].startswith("*[1]* · kalimat ke-13 dalam artikel")
    assert [reply["text"] for reply in replies[1:]] == [replies[0]["text"]] * 4


def test_slack_markup_in_questions_never_pings(http_bot, fake_slack, channel, user):
    typed = "<!channel> <@U0BOSS> <http://evil.example|click me> & who accompanied Meutya Hafid?"
    fields = slash_command(typed, user=user, channel=channel, response_url=fake_slack.response_url(channel), trigger_id=f"trig-{channel}")
    http_bot.events.command(fields)
    [response] = wait_until(lambda: fake_slack.responses(channel), what="the /ask response")
    assert contexts(response)[0] == "*You asked:* click me &amp; who accompanied Meutya Hafid?"  # the markup as the asker saw it
    shown = json.dumps(response, ensure_ascii=False)
    for raw in ("<!channel>", "<@U0BOSS>", "<http://evil.example"):
        assert raw not in shown

    # Markup a person typed as text arrives escaped (&lt;!here&gt;): it stays text, escaped again.
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> {typed} &lt;!here&gt;")
    http_bot.events.event(mention(asked))
    [reply] = fake_slack.wait_for_posts(channel, asked["ts"])
    posted = json.dumps(reply, ensure_ascii=False)
    for raw in ("<!channel>", "<@U0BOSS>", "<http://evil.example", "<!here>"):
        assert raw not in posted


def test_malformed_requests_get_a_4xx_and_one_log_line_without_a_traceback(http_bot, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Siapa Duta Besar AS?")
    envelope = event_envelope(mention(asked), "EvBROKEN1")
    log_before = len(http_bot.log())

    def signed(body: bytes, **options) -> int:
        return http_bot.events.post(body, "application/json", **options)[0]

    assert signed(json.dumps(envelope).encode(), timestamp="yesterday") == 401
    assert signed(json.dumps(envelope).encode()[:-7]) == 400  # cut short: not JSON
    assert signed(json.dumps([envelope]).encode()) == 400
    assert signed(json.dumps({**envelope, "event": None}).encode()) == 400
    assert signed(json.dumps({**envelope, "event": {**envelope["event"], "channel": ["C1"]}}).encode()) == 400
    assert signed(b"") == 400 and signed(b"  \n") == 400  # signed, but empty: not a 404
    assert signed(json.dumps({**envelope, "event_time": 1732000000.5}).encode()) == 400
    without_channel = {key: value for key, value in envelope["event"].items() if key != "channel"}
    assert signed(json.dumps({**envelope, "event": without_channel}).encode()) == 200  # acknowledged, then ignored

    fake_slack.settle(http_bot.events.event, channel)
    assert fake_slack.posts(channel) == []
    log = http_bot.log()[log_before:]
    assert "Traceback" not in log and " ERROR " not in log
    assert log.count("Refused a request to /slack/events with 401") == 1
    assert "the body is empty" in log and "payload.event_time is a fractional number, not a whole number" in log
    assert log.count("Refused a request to /slack/events with 400") == 7
    assert log.count("Ignoring app_mention without the channel") == 1


def test_forged_or_replayed_requests_get_401_and_no_reply(http_bot, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
    body = json.dumps({"type": "event_callback", "team_id": "T0001", "event": mention(asked), "event_id": "EvFORGED"}).encode()
    now = int(time.time())
    assert http_bot.events.post(body, "application/json", signature="v0=" + "0" * 64)[0] == 401
    assert http_bot.events.post(body, "application/json", timestamp=now - 6 * 60)[0] == 401  # correctly signed, but stale
    stale_signature = http_bot.events.sign(str(now - 6 * 60), body)
    assert http_bot.events.post(body, "application/json", timestamp=now, signature=stale_signature)[0] == 401
    # A 5,000-digit timestamp, signed as if it were one: int() of it would raise (a 500 before the fix).
    huge = "9" * 5000
    assert http_bot.events.post(body, "application/json", timestamp=huge, signature=http_bot.events.sign(huge, body))[0] == 401
    fake_slack.settle(http_bot.events.event, channel)
    assert fake_slack.posts(channel) == []


def test_the_start_up_log_describes_the_state_it_uses(http_bot):
    log = http_bot.log()
    database = http_bot.data_dir / "slack.sqlite3"
    assert f"claims in SqliteSeenEvents('{database}'), rate limit PerUserRateLimit({RATE_LIMIT} per user per 60s, in this process)" in log
    assert " object at 0x" not in log


def test_url_verification_is_answered_when_signed(http_bot):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}).encode()
    status, reply = http_bot.events.post(body, "application/json")
    assert status == 200 and json.loads(reply) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert http_bot.events.post(body, "application/json", signature="v0=" + "1" * 64)[0] == 401


def test_rate_limit_gives_a_friendly_notice_in_the_thread(http_bot, fake_slack, channel, user):
    asked = [fake_slack.user_message(channel, user, f"<@{BOT_USER}> Kapan pertemuan berlangsung? ({n})") for n in range(RATE_LIMIT + 1)]
    for message in asked:
        http_bot.events.event(mention(message))
    for message in asked:
        fake_slack.wait_for_posts(channel, message["ts"])
    texts = [fake_slack.posts(channel, message["ts"])[0]["text"] for message in asked]
    notices = [text for text in texts if "Tunggu sekitar" in text]
    assert len(notices) == 1 and "detik" in notices[0]
    assert sum("Senin (18/11)" in text for text in texts) == RATE_LIMIT


def test_feedback_click_is_stored_and_exported(http_bot, fake_slack, channel, user):
    asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
    http_bot.events.event(mention(asked))
    [reply] = fake_slack.wait_for_posts(channel, asked["ts"])

    assert http_bot.events.interaction(button_click(reply, "feedback_down", user=user, response_url=fake_slack.response_url(channel)))[0] == 200
    [thanks] = wait_until(lambda: fake_slack.responses(channel), what="the thank-you")
    assert thanks["text"] == "Thanks for the feedback!" and thanks["response_type"] == "ephemeral"
    # Changing one's mind replaces the rating rather than adding a second case.
    http_bot.events.interaction(button_click(reply, "feedback_up", user=user, response_url=fake_slack.response_url(channel)))
    wait_until(lambda: len(fake_slack.responses(channel)) == 2, what="the second thank-you")

    exported = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "feedback", "export"],
        env=clean_env(ASSISTANT_DATA_DIR=str(http_bot.data_dir)),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    cases = [case for case in yaml.safe_load(exported)["candidates"] if case["question"] == "Who accompanied Meutya Hafid?"]
    assert cases == [
        {
            "id": f"slack-{channel}-{asked['ts'].replace('.', '-')}-{user}",
            "lang": "en",
            "question": "Who accompanied Meutya Hafid?",
            "answer": reply["text"],
            "citations": ["antara-komdigi-as-kerja-sama-digital#11"],
            "rating": "up",
        }
    ]


def test_fifty_events_at_once_get_fifty_replies(http_bot, fake_slack, channel):
    """50 mentions from 50 people, each delivered twice at once (app_mention + message twin)."""
    asked = [fake_slack.user_message(channel, f"UBURST{n:03d}", f"<@{BOT_USER}> Siapa yang mendampingi Menkomdigi? #{n}") for n in range(50)]
    deliveries = [event for message in asked for event in (mention(message), message_event(message))]
    started = time.monotonic()
    with ThreadPoolExecutor(len(deliveries)) as pool:
        statuses = list(pool.map(lambda event: http_bot.events.event(event)[0], deliveries))
    acked = time.monotonic() - started
    assert statuses == [200] * len(deliveries)
    wait_until(lambda: len(fake_slack.posts(channel)) >= 50, timeout=60, what="50 replies")
    answered = time.monotonic() - started
    fake_slack.settle(http_bot.events.event, channel)
    replies = fake_slack.posts(channel)
    assert sorted(reply["thread_ts"] for reply in replies) == sorted(message["ts"] for message in asked)
    assert all(ACCOMPANIED in reply["text"] for reply in replies)
    print(f"\n50 questions x 2 deliveries: all acked in {acked:.2f}s, 50 replies in {answered:.2f}s")
