"""Bolt listeners. Each one turns a Slack payload into a `Question` and hands it to the `Responder`.

Where the bot answers:
- `app_mention` in a channel: in the thread of the mention (a new thread under a top-level mention).
- `message`: a direct message; a channel message that mentions the bot (the twin of `app_mention`,
  de-duplicated by message); a reply in a thread where the bot was mentioned or has answered (a
  follow-up, answered with the thread as history). Anything else, and anything from a bot, is ignored.
- The assistant side panel (bolt's `Assistant`): a greeting and suggested prompts when a thread
  starts, "Searching the article…" as the status while answering. Replies in DM threads arrive here.
- `/ask QUESTION`: answered **ephemerally**, via the command's `response_url`. A slash command is a
  private lookup: the command itself is invisible to the channel, so a public answer would appear
  out of nowhere, and the response_url works in every channel and DM, even ones the bot was never
  invited to. To ask in public and follow up in a thread, mention the bot instead.
- 👍/👎 buttons: the rating is stored with the answer it belongs to; the clicker gets an
  ephemeral thank-you.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_bolt import Assistant as AssistantPanel

from assistant.messages import message
from assistant.slack.blocks import FEEDBACK_ACTIONS
from assistant.slack.feedback import FeedbackStore
from assistant.slack.responder import Question, Responder
from assistant.slack.state import command_key, message_key
from assistant.slack.threads import BotIdentity, is_from_a_bot, mentions, question_text

logger = logging.getLogger(__name__)

ANSWERED_SUBTYPES = (None, "file_share", "thread_broadcast")
"""Message subtypes a person writes; edits, deletions, joins and the like are not questions."""


SUGGESTED_PROMPTS = (
    {"title": "What is it about?", "message": "What is the article about?"},
    {"title": "Ringkas artikel", "message": "Ringkas artikel ini"},
    {"title": "Who is quoted?", "message": "Who is quoted in the article?"},
)
"""Shown when someone opens the assistant side panel. Questions any article answers: the prompts
must not assume what the ingested article is about."""


def register(app: App, responder: Responder, feedback: FeedbackStore, bot: BotIdentity) -> None:
    @app.event("app_mention")
    def on_mention(event: dict) -> None:
        if not is_from_a_bot(event):
            ask_in_thread(responder, event, bot)

    @app.event("message")
    def on_message(event: dict) -> None:
        if is_from_a_bot(event) or event.get("subtype") not in ANSWERED_SUBTYPES or bot.wrote(event):
            return
        is_reply = event.get("thread_ts") not in (None, event.get("ts"))
        if event.get("channel_type") == "im" or mentions(event.get("text", ""), bot.user_id):
            ask_in_thread(responder, event, bot)
        elif is_reply:
            ask_in_thread(responder, event, bot, only_if_taking_part=True)

    panel = AssistantPanel()

    @panel.thread_started
    def on_thread_started(event: dict, say, set_suggested_prompts) -> None:
        thread = event.get("assistant_thread")
        if not isinstance(thread, dict) or not thread.get("channel_id") or not thread.get("thread_ts"):
            logger.warning("Ignoring an assistant_thread_started without its thread's channel and ts")
            return
        say(message("panel_greeting"))
        set_suggested_prompts(prompts=list(SUGGESTED_PROMPTS), title=message("prompts_title"))

    @panel.user_message
    def on_panel_message(payload: dict, set_status) -> None:
        ask_in_thread(responder, payload, bot, status=set_status)

    app.assistant(panel)

    @app.command("/ask")
    def on_ask(ack, command: dict, respond) -> None:
        ack()
        if not command.get("trigger_id") or not command.get("response_url"):  # no key to claim it by, or nowhere to answer
            logger.warning("Ignoring an /ask without a trigger_id or response_url")
            return
        question = Question(
            key=command_key(command["trigger_id"]),
            channel=command.get("channel_id", ""),
            user=command.get("user_id", ""),
            text=question_text(command.get("text", ""), bot.user_id),
            echo_question=True,
        )
        responder.submit(question, post=lambda payload: respond(response_type="ephemeral", **payload))

    @app.action(re.compile("^(" + "|".join(FEEDBACK_ACTIONS) + ")$"))
    def on_feedback(ack, action: dict, body: dict, respond) -> None:
        ack()
        clicker = body.get("user")
        user = clicker.get("id", "") if isinstance(clicker, dict) else str(clicker or "")
        if not action.get("value") or not body.get("response_url"):
            logger.warning("Ignoring a feedback click without an answer id or response_url")
            return
        language = feedback.record_feedback(action["value"], user, FEEDBACK_ACTIONS[action["action_id"]])
        if language is None:
            logger.warning("Feedback for an unknown answer %s", action["value"])
        reply = message("feedback_thanks" if language else "feedback_lost", "id" if language == "id" else "en")
        respond(response_type="ephemeral", replace_original=False, text=reply)


def ask_in_thread(responder: Responder, event: dict, bot: BotIdentity, *, only_if_taking_part: bool = False, status=None) -> None:
    channel, ts, thread_ts, user, text = (event.get(field) for field in ("channel", "ts", "thread_ts", "user", "text"))
    # Slack always sends these four with a person's message; without them there is no question,
    # nothing to claim it by and nowhere to reply. (A payload whose fields have the wrong types never
    # gets this far, over HTTP or Socket Mode: see `inbound`.)
    if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts and isinstance(user, str) and user and isinstance(text, str)) or not (
        thread_ts is None or isinstance(thread_ts, str)
    ):
        logger.warning("Ignoring %s without the channel, ts, user and text of a message", event.get("type", "an event"))
        return
    question = Question(
        key=message_key(channel, ts),
        channel=channel,
        user=user,
        text=question_text(text, bot.user_id),
        ts=ts,
        thread_ts=thread_ts,
        only_if_taking_part=only_if_taking_part,
    )
    responder.submit(question, post=responder.thread_poster(question), status=status)

