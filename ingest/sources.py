"""Read articles from files (.txt, .md, .html) and http(s) URLs into `Article`s.

Every failure is an `IngestError` with a message naming the source; nothing is written before all
sources have been read, so a bad source named directly leaves the index as it was. A bad file found
inside a named folder is skipped and reported instead (`IngestReport.skipped`), so one stray file
does not keep a folder of good articles out.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from assistant.errors import (
    DocumentTooLargeError,
    EmptyDocumentError,
    SourceNotFoundError,
    SourceUnreachableError,
    UndecodableDocumentError,
    UnsupportedDocumentError,
)
from ingest.article import Article, parse_article

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm")
URL_TIMEOUT_SECONDS = 10.0
"""How long one network step (connect, one read) may wait for the server."""
URL_DEADLINE_SECONDS = 30.0
"""How long fetching one URL may take in all: a server that trickles a byte at a time never trips
the per-read timeout, so the whole fetch (name lookup, connect, headers, body) has a deadline."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


CONVERSION_HINTS = {
    ".pdf": "convert it to text first, e.g. `pdftotext -layout article.pdf article.txt` (poppler-utils)",
    ".docx": "save it as plain text (.txt) or HTML from the word processor",
    ".doc": "save it as plain text (.txt) or HTML from the word processor",
    ".odt": "save it as plain text (.txt) or HTML from the word processor",
    ".rtf": "save it as plain text (.txt) from the word processor",
}
"""File types people have articles in that ingest does not read, and how to make them readable."""

_BARE_HOST = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:[/?#]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Sources:
    """What the given sources name: the files and URLs to read, in order, and where each came from."""

    named: list[str]
    """Files and URLs named directly: a problem with one stops the ingest."""
    in_folders: list[str]
    """Files found inside named folders (recursively): a bad one is skipped and reported."""

    @property
    def all(self) -> list[str]:
        return self.named + self.in_folders


def expand_sources(sources: list[str]) -> Sources:
    """Turn folders into the supported files they hold (subfolders too, hidden ones skipped); check
    named files exist and are of a type ingest reads. URLs pass through."""
    named: list[str] = []
    in_folders: list[str] = []
    for source in sources:
        if is_url(source):
            named.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                raise SourceNotFoundError(f"{source}: folder has no {', '.join(SUPPORTED_SUFFIXES)} files (subfolders included).")
            in_folders.extend(str(p) for p in files)
        elif path.is_file():
            check_file_type(path)
            named.append(str(path))
        elif _BARE_HOST.match(source):
            raise SourceNotFoundError(f"{source}: no such file or folder. Did you mean https://{source} ?")
        else:
            raise SourceNotFoundError(f"{source}: no such file or folder.")
    return Sources(named, in_folders)


def check_file_type(path: Path) -> None:
    """A file of a type ingest does not read is refused with how to convert it. Any other extension
    is read as text (a text file named `notes` or `article.text`), and its content is checked."""
    suffix = path.suffix.lower()
    if suffix in CONVERSION_HINTS:
        raise UnsupportedDocumentError(f"{path}: {suffix[1:].upper()} files are not read by ingest; {CONVERSION_HINTS[suffix]}.")


def read_article(source: str) -> Article:
    """Read one file or URL into an Article."""
    if is_url(source):
        return _read_url(source)
    return _read_file(Path(source))


def source_key(source: str) -> str:
    """What makes two sources the same document: the absolute file path, or the URL as given."""
    return source if is_url(source) else str(Path(source).resolve())


def doc_id_for(source: str) -> str:
    """A readable, stable namespace for a document: its file name or URL path, slugified."""
    if is_url(source):
        parsed = urlparse(source)
        last = [part for part in parsed.path.split("/") if part]
        base = last[-1] if last else parsed.netloc
        base = re.sub(r"\.(html?|php|aspx?)$", "", base, flags=re.IGNORECASE)
    else:
        base = Path(source).stem
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return slug or "document"


def _read_file(path: Path) -> Article:
    if not path.is_file():
        raise SourceNotFoundError(f"{path}: no such file.")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLargeError(f"{path}: {size / 1e6:.1f} MB is over the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB limit.")
    raw = path.read_bytes()
    text = _decode(raw, str(path))
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return _article_from_html(text, source=str(path), fallback_title=_title_from_name(path.stem))
    if suffix == ".md":
        title, text = _markdown_to_text(text)
        return _article_from_text(text, source=str(path), title=title or _title_from_name(path.stem))
    headline, text = _split_headline(text)
    return _article_from_text(text, source=str(path), title=headline or _title_from_name(path.stem))


def _read_url(url: str) -> Article:
    raw, content_type = _fetch(url)
    text = _decode(raw, url)
    if "html" in content_type or text.lstrip().startswith("<"):
        return _article_from_html(text, source=url, fallback_title=doc_id_for(url).replace("-", " "))
    headline, text = _split_headline(text)
    return _article_from_text(text, source=url, title=headline or doc_id_for(url).replace("-", " "))


def _fetch(url: str) -> tuple[bytes, str]:
    """The body and Content-Type of `url`, within URL_DEADLINE_SECONDS in all.

    The download runs in a daemon thread so a stall anywhere (even in the name lookup or the
    headers, where urllib offers no deadline) cannot hold ingest past the deadline; the thread
    itself stops at its next read once the deadline has passed.
    """
    deadline = time.monotonic() + URL_DEADLINE_SECONDS
    outcome: dict[str, object] = {}
    done = threading.Event()

    def download() -> None:
        try:
            outcome["result"] = _download(url, deadline)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=download, name="fetch-url", daemon=True).start()
    if not done.wait(URL_DEADLINE_SECONDS):
        raise SourceUnreachableError(f"{url}: could not be fetched within {URL_DEADLINE_SECONDS:g} s (the server is too slow).")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


def _download(url: str, deadline: float) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "article-assistant/0.1"})
    chunks: list[bytes] = []
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=URL_TIMEOUT_SECONDS) as response:
            content_type = response.headers.get("Content-Type", "")
            # read1 returns whatever one read brings, so the deadline is checked between bytes
            # that trickle in; read(n) would wait for all n.
            while chunk := response.read1(64 * 1024):
                if time.monotonic() > deadline:
                    raise TimeoutError("deadline passed")
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise DocumentTooLargeError(f"{url}: response is over the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB limit.")
    except urllib.error.HTTPError as exc:
        raise SourceUnreachableError(f"{url}: could not be fetched (HTTP {exc.code} {exc.reason}).") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceUnreachableError(f"{url}: could not be fetched ({reason}).") from exc
    return b"".join(chunks), content_type


_MAGIC = {b"%PDF-": ".pdf", b"PK\x03\x04": ".docx", b"{\\rtf": ".rtf", b"\xd0\xcf\x11\xe0": ".doc"}
"""How a file of each unsupported type starts, whatever it is named."""


def _decode(raw: bytes, source: str) -> str:
    for magic, suffix in _MAGIC.items():
        if raw.startswith(magic):
            kind = "a PDF" if suffix == ".pdf" else f"a {suffix[1:].upper()} document"
            raise UnsupportedDocumentError(f"{source}: is {kind} whatever its name says, not a text article; {CONVERSION_HINTS[suffix]}.")
    if b"\x00" in raw:
        raise UndecodableDocumentError(f"{source}: looks like a binary file, not a text article.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UndecodableDocumentError(f"{source}: is not valid UTF-8 text (byte {exc.start}).") from exc
    if not text.strip():
        raise EmptyDocumentError(f"{source}: is empty.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _article_from_text(text: str, *, source: str, title: str) -> Article:
    return parse_article(text, doc_id=doc_id_for(source), title=title, source=source)


def _article_from_html(html: str, *, source: str, fallback_title: str) -> Article:
    import trafilatura  # lazy: only HTML sources need it

    text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=False)
    if not text or not text.strip():
        raise EmptyDocumentError(f"{source}: no article text found in the HTML.")
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata and metadata.title else "") or fallback_title
    first_line, _, rest = text.partition("\n")
    if first_line.strip() == title.strip() and rest.strip():  # the headline is the title, not a sentence
        text = rest
    return _article_from_text(text, source=source, title=title)


_HEADLINE = re.compile(r"\A[ \t]*(?P<line>[^\n]{1,200}?)[ \t]*\n[ \t]*\n")
_SENTENCE_END = re.compile(r"[.!?…:;,][\"'”’»)\]]*$")


def _split_headline(text: str) -> tuple[str, str]:
    """(headline, body) of a plain-text article that opens with its headline: a first line without a
    final full stop (or other sentence end), then a blank line. ("", text) otherwise. The headline
    becomes the title, as a Markdown file's first `#` heading does, and is never cited as a sentence."""
    match = _HEADLINE.match(text)
    if not match or _SENTENCE_END.search(match.group("line")) or not text[match.end() :].strip():
        return "", text
    return match.group("line"), text[match.end() :]


def _markdown_to_text(markdown: str) -> tuple[str, str]:
    """Return (title, plain text): the first `# heading` is the title; links and emphasis are unwrapped."""
    title = ""
    lines = []
    for line in markdown.split("\n"):
        heading = re.match(r"^\s*#{1,6}\s+(.*)$", line)
        if heading:
            if not title:
                title = heading.group(1).strip()
            continue
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", line)
        line = re.sub(r"^\s*[-*+>]\s+", "", line)
        lines.append(line)
    return title, "\n".join(lines)


def _title_from_name(stem: str) -> str:
    return re.sub(r"[-_]+", " ", stem).strip()
