"""Links that open a web article at the cited sentence, with a URL text fragment.

Browsers scroll to and highlight the passage named by `#:~:text=` (the Text Fragments spec, WICG
scroll-to-text-fragment). A fragment names the passage by its text: the whole sentence when it is
short, else its first and last words (`textStart,textEnd`), which select everything between them and
keep the link short. Matching is on whole words, so the words are taken exactly as the sentence has them.
"""

from __future__ import annotations

from urllib.parse import quote, urldefrag

EDGE_WORDS = 5
"""Words quoted from each end of a long sentence (`textStart,textEnd`)."""

WHOLE_SENTENCE_WORDS = 2 * EDGE_WORDS + 2
"""Sentences up to this many words are quoted whole: a range would save little."""


def is_web_source(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def sentence_link(source: str, sentence: str) -> str:
    """`source` with a text fragment selecting `sentence`; empty for a source that is not a web page."""
    if not is_web_source(source) or not sentence.strip():
        return ""
    page, _ = urldefrag(source)  # the page's own fragment would not survive ours
    words = sentence.split()
    if len(words) <= WHOLE_SENTENCE_WORDS:
        directive = fragment_term(" ".join(words))
    else:
        directive = f"{fragment_term(' '.join(words[:EDGE_WORDS]))},{fragment_term(' '.join(words[-EDGE_WORDS:]))}"
    return f"{page}#:~:text={directive}"


def fragment_term(text: str) -> str:
    """Percent-encode one term of a text directive. Beyond what a URL fragment needs, the spec
    reserves `&` (directive separator), `,` (term separator) and `-` (prefix/suffix marker);
    `quote` leaves `-` alone, so it is encoded by hand."""
    return quote(text, safe="").replace("-", "%2D")
