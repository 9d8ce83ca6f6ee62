"""Reading a Slack thread (`conversations.replies`) as conversation history for the answerer."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.slack.mrkdwn import mentions, question_text, unescape
from assistant.types import Turn


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is in this workspace, from `auth.test` at start-up."""

    user_id: str
    bot_id: str

    def wrote(self, message: dict) -> bool:
        return message.get("user") == self.user_id or (bool(self.bot_id) and message.get("bot_id") == self.bot_id)


def is_from_a_bot(message: dict) -> bool:
    """Messages from any bot, including this one, are never questions."""
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message"


def takes_part(messages: list[dict], bot: BotIdentity) -> bool:
    """Has the bot answered in, or been mentioned in, this thread? Then later messages are follow-ups."""
    return any(bot.wrote(message) or mentions(message.get("text", ""), bot.user_id) for message in messages)


def thread_history(messages: list[dict], before_ts: str, bot: BotIdentity) -> list[Turn]:
    """The turns before the message at `before_ts`, oldest first: people's as user turns, this
    bot's as assistant turns; other bots' messages are left out."""
    turns = []
    for message in sorted(messages, key=lambda message: ts_order(message.get("ts", "0"))):
        if ts_order(message.get("ts", "0")) >= ts_order(before_ts):
            continue
        if bot.wrote(message):
            turns.append(Turn("assistant", unescape(message.get("text", ""))))
        elif not is_from_a_bot(message):
            turns.append(Turn("user", question_text(message.get("text", ""), bot.user_id)))
    return [turn for turn in turns if turn.text]


def ts_order(ts: str) -> tuple[int, int]:
    """Slack timestamps ("1732000000.000100") compared exactly: a float loses the last digits."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int(fraction or 0)
