"""Reading what people write in Slack: message text back to plain words (`question_text`), and a
thread (`conversations.replies`) as conversation history for the answerer.

Slack sends message text with `&`, `<`, `>` escaped as entities and its own markup in angle
brackets: `<@U123>` (a mention), `<!here>`, `<#C123|general>`, `<https://x|label>`. The answerer
reads words, so markup is reduced to what a person sees before a question is asked: a broadcast
like `<!channel>` would otherwise become the words "channel" and pull the answer toward the wrong
sentence. (Text going *out* is escaped in `blocks`.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.types import Turn


def question_text(text: str, bot_user_id: str | None) -> str:
    """What the person asked, as plain text: Slack markup reduced to what it shows, the bot's own
    mention dropped, entities decoded, white space collapsed.

        <@UBOT> / <!here> / <!channel> / <!everyone>   (nothing)
        <@U123|bob>   @bob        <#C123|general>   #general      <!subteam^S1|@team>   @team
        <https://x.example|the report>   the report   <https://x.example>   https://x.example

    A channel link that opens or closes the message says where it was posted, not what is asked,
    and is dropped ("<!channel> Siapa Duta Besar AS? <#C999|umum>" asks what the plain question
    asks); formatting marks around words (*bold*, _italic_, ~strike~, `code`) go too.
    """
    text = _without_edge_channel_links(text)

    def plain(match: re.Match) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            if target[1:] == bot_user_id or not label:
                return " "
            return "@" + label.lstrip("@")
        if target.startswith("#"):
            return "#" + label.lstrip("#") if label else " "
        if target.startswith("!"):  # broadcasts, user groups, dates: their fallback text, if any
            return label or " "
        return label or target  # a link: its label, or the address itself

    plain_text = _FORMATTING.sub(r"\1", _MARKUP.sub(plain, text))
    return re.sub(r"\s+", " ", unescape(plain_text)).strip()


_FORMATTING = re.compile(r"(?<![\w*_~`])[*_~`]+([^\s*_~`](?:[^*_~`]*[^\s*_~`])?)[*_~`]+(?![\w*_~`])")
"""Slack's formatting marks around a run of words: *bold*, _italic_, ~strike~, `code`."""
_MARKUP = re.compile(r"<([^<>]*)>")
"""One piece of Slack markup. A `<` a person typed arrives as `&lt;`, so every raw `<` is markup."""


def _without_edge_channel_links(text: str) -> str:
    """Channel links among the markup that opens or closes the message, dropped."""
    pieces = re.split(r"(<[^<>]*>)", text)
    for order in (range(len(pieces)), range(len(pieces) - 1, -1, -1)):
        for index in order:
            piece = pieces[index]
            if not piece.strip():
                continue
            if piece.startswith("<#"):
                pieces[index] = " "
            elif not (piece.startswith(("<!", "<@")) and piece.endswith(">")):
                break
    return "".join(pieces)


def mentions(text: str, user_id: str) -> bool:
    return bool(user_id) and re.search(rf"<@{re.escape(user_id)}(\|[^>]*)?>", text) is not None


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


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
