"""Slack's text conventions in both directions.

Incoming: Slack sends message text with `&`, `<`, `>` already escaped and mentions as `<@U123>`;
`question_text` turns that back into what the person typed, minus the mention of the bot.

Outgoing: everything that came from an article or a person goes through `escape`, so a sentence or
question containing `<!channel>`, `<@U123>` or `<http://x|y>` shows as text and can never ping
anyone or disguise a link. The only markup in a reply is the markup this package writes itself.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit


def escape(text: str) -> str:
    """Slack's three control characters, as its docs ask: https://api.slack.com/reference/surfaces/formatting#escaping"""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentions(text: str, user_id: str) -> bool:
    return bool(user_id) and re.search(rf"<@{re.escape(user_id)}(\|[^>]*)?>", text) is not None


def question_text(text: str, bot_user_id: str | None) -> str:
    """What the person asked: the message without the bot's own `<@U…>` mention, entities decoded.

    Other markup (another person's mention, `<!channel>`, a link) stays as the characters it is;
    the answerer treats it as words and the reply escapes it again.
    """
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    return re.sub(r"\s+", " ", unescape(text)).strip()


def link(url: str, label: str) -> str | None:
    """A mrkdwn link to an http(s) URL; None for anything else (a file path, `javascript:`, …)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # `|` ends the URL part of `<url|label>` and `>` ends the link: percent-encode them (and `<`,
    # whitespace and control characters, which would break the link) inside the URL; `&` is
    # escaped as Slack asks.
    safe_url = "".join(_URL_CODES.get(char) or (quote(char, safe="") if char.isspace() or not char.isprintable() else char) for char in url.strip())
    return f"<{safe_url}|{escape(label)}>"


_URL_CODES = {"&": "&amp;", "<": "%3C", ">": "%3E", "|": "%7C"}
