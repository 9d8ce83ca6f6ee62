"""Block Kit for answers and notices: pure functions from `Answer` to a `chat.postMessage` payload.

An answer reads top to bottom as: the brief answer with its `[n]` markers (`Answer.brief`: the
extractive answer without its inline quotes, which the source blocks show); for each cited sentence a
quote of it and a context line ("[1] · sentence 12 of the article · <source link>", the sentence
reference itself a link when the citation has a `url`); then 👍/👎 buttons. Abstentions are the short
message, then the article's closest sentences if the answerer found any (`Answer.related`), each a
context line marked as related reading ("Related: “…”"), never quoted as an answer; then the buttons.

Slack rejects a message whose section text exceeds 3,000 characters or that has more than 50 blocks,
so long text is split into several sections and, past the block budget, trailing sources are
replaced by a "N more cited sentences not shown" note: a reply is trimmed, never refused.

Every piece of article or user text goes through `escape`, so a sentence or question containing
`<!channel>`, `<@U123>` or `<http://x|y>` shows as text and can never ping anyone or disguise a link;
the `text` fallback (notifications, screen readers) is escaped too. The only markup in a reply is the
markup this module writes itself. (Slack text coming *in* is read in `threads`.)
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from assistant.messages import message
from assistant.types import Answer, Citation, Hit, Language

MAX_SECTION_CHARS = 3000
MAX_BLOCKS = 50
MAX_FALLBACK_CHARS = 3000
FEEDBACK_ACTIONS = {"feedback_up": "up", "feedback_down": "down"}
"""Button action_id → stored rating."""
_MAX_TITLE_CHARS = 150


def answer_message(answer: Answer, answer_id: str, *, echo_question: bool = False) -> dict:
    """`text` + `blocks` for an answer. `answer_id` rides on the feedback buttons.

    `echo_question` repeats the question above the answer, for replies (the slash command's) that
    do not sit under the message that asked.
    """
    language = answer.language
    head = []
    if echo_question:
        asked = _truncate(escape(answer.question), MAX_SECTION_CHARS - 40)
        head.append(_context(f"*{message('you_asked', language)}:* {asked}"))
    body = [_section(chunk) for chunk in split_mrkdwn(escape(answer.brief)) or ["…"]]
    body += [related_block(hit, language) for hit in answer.related]
    sources = [citation_blocks(citation, language) for citation in answer.citations]
    blocks = _fit(head + body, sources, language)
    blocks.append(feedback_buttons(answer_id, language))
    return {"text": _truncate(escape(answer.text), MAX_FALLBACK_CHARS), "blocks": blocks}


def notice_message(text: str) -> dict:
    """A plain reply in the bot's own words (rate limit, apology, index down): escaped all the same."""
    chunks = split_mrkdwn(escape(text)) or ["…"]
    return {"text": _truncate(escape(text), MAX_FALLBACK_CHARS), "blocks": [_section(chunk) for chunk in chunks][:MAX_BLOCKS]}


def citation_blocks(citation: Citation, language: Language) -> list[dict]:
    """The quoted sentence (answering spans in bold), then where it stands and where it comes from."""
    quote = _bold_spans(escape(" ".join(citation.text.split())), citation.highlights)
    blocks = [_section(f"> {chunk}") for chunk in split_mrkdwn(quote, MAX_SECTION_CHARS - 2)]
    sentence = message("sentence", language, n=citation.position + 1)
    where = [f"*[{citation.marker}]*", link(citation.url, sentence) or escape(sentence)]
    title = _truncate(citation.title or "source", _MAX_TITLE_CHARS)
    source_link = link(citation.source, title)
    if source_link:
        where.append(source_link)
    elif citation.title:
        where.append(escape(title))
    blocks.append(_context(" · ".join(where)))
    return blocks


def related_block(hit: Hit, language: Language) -> dict:
    """A sentence near the question that does not answer it, as related reading under a refusal."""
    quote = _truncate(escape(" ".join(hit.text.split())), MAX_SECTION_CHARS - 100) or "…"
    return _context(f"{message('related', language)}: “{quote}” · {escape(message('sentence', language, n=hit.position + 1))}")


def feedback_buttons(answer_id: str, language: Language) -> dict:
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            _button("feedback_up", f"👍 {message('helpful', language)}", answer_id),
            _button("feedback_down", f"👎 {message('not_helpful', language)}", answer_id),
        ],
    }


def split_mrkdwn(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Chunks of at most `limit` characters, cut at a line break or space where one is near, and
    never inside an `&amp;`-style entity (the text is already escaped). Blank chunks are dropped:
    Slack refuses a section without text."""
    chunks = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
        if cut < limit // 2:
            cut = limit
            entity_start = text.rfind("&", cut - 4, cut)
            if entity_start > 0 and ";" not in text[entity_start:cut]:
                cut = entity_start
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    chunks.append(text)
    return [chunk for chunk in chunks if chunk.strip()]


def _fit(head: list[dict], sources: list[list[dict]], language: Language) -> list[dict]:
    """Head blocks, then whole sources while they fit; one block is kept for the buttons."""
    budget = MAX_BLOCKS - 1
    if len(head) >= budget:  # keep one block for a "more sources" note
        head = head[: budget - 2] + [_section("…")]
    blocks = list(head)
    for shown, source in enumerate(sources):
        left_out = len(sources) - shown
        # A note about what is left out needs a block of its own unless this is the last source.
        room = budget - len(blocks) - (0 if left_out == 1 else 1)
        if len(source) > room:
            blocks.append(_context(message("more_sources", language, n=left_out)))
            break
        blocks.extend(source)
    return blocks[:budget]


def _bold_spans(escaped_sentence: str, spans: tuple[str, ...]) -> str:
    """Each span in bold, at its first place in the sentence that does not cut an `&amp;`-style
    entity (bolding the "a" of "&amp;" would break it)."""
    for span in spans:
        escaped_span = escape(span).strip()
        if not escaped_span or "*" in escaped_span:
            continue
        entities = [match.span() for match in _ENTITY.finditer(escaped_sentence)]
        for match in re.finditer(re.escape(escaped_span), escaped_sentence):
            start, end = match.span()
            if not any(left < start < right or left < end < right for left, right in entities):
                escaped_sentence = f"{escaped_sentence[:start]}*{escaped_span}*{escaped_sentence[end:]}"
                break
    return escaped_sentence


_ENTITY = re.compile(r"&(amp|lt|gt);")


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    chunks = split_mrkdwn(text, limit - 1)
    return (chunks[0] if chunks else "") + "…"


def escape(text: str) -> str:
    """Slack's three control characters, as its docs ask: https://api.slack.com/reference/surfaces/formatting#escaping"""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def _section(mrkdwn: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _context(mrkdwn: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def _button(action_id: str, label: str, value: str) -> dict:
    return {"type": "button", "action_id": action_id, "value": value, "text": {"type": "plain_text", "text": label, "emoji": True}}
