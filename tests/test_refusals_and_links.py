"""Refusals that still help (the closest related sentences, never as citations) and citations that
link to the exact sentence of a web article (URL text fragments)."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
from urllib.parse import unquote, urlsplit

import pytest

from assistant.links import sentence_link
from tests.conftest import ROOT

# -- helpful refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question, missing, related_word",
    [
        ("Berapa nilai investasi yang dijanjikan perusahaan-perusahaan AS itu?", "jumlah uang", "perusahaan"),
        ("Kapan pertemuan berikutnya?", "kapan", "Pertemuan"),
        ("Where did Ambassador Kamala Shirin Lakhdhir serve before coming to Indonesia?", "where", "Kamala"),
    ],
)
def test_on_topic_refusal_says_what_is_missing_and_quotes_related_sentences(bot, question, missing, related_word):
    answer = bot.ask(question)
    assert answer.abstained and not answer.citations
    assert 1 <= len(answer.related) <= 2
    assert missing in answer.brief
    assert not re.search(r"\[\d+\]", answer.text), "a related sentence must not look like a citation"
    for hit in answer.related:
        assert hit.text in answer.text
    assert related_word in " ".join(hit.text for hit in answer.related)


@pytest.mark.parametrize("question", ["Who won the 2022 FIFA World Cup?", "Gimana cara masak rendang biar empuk?", "", "?!?!", "Thanks!"])
def test_off_topic_questions_and_bad_input_get_no_related_sentence(bot, question):
    answer = bot.ask(question)
    assert answer.abstained and not answer.related and not answer.citations


def test_related_sentences_reach_json_the_repl_and_the_terminal(bot, seed_settings):
    question = "Berapa nilai investasi yang dijanjikan perusahaan-perusahaan AS itu?"
    answer = bot.ask(question)
    payload = json.loads(json.dumps(answer.to_dict()))
    assert payload["abstained"] and payload["citations"] == []
    assert [item["sentence_id"] for item in payload["related"]] == [hit.sentence_id for hit in answer.related]
    assert "Terkait, bukan jawaban:" in str(answer)

    env = {"ASSISTANT_DATA_DIR": str(seed_settings.data_dir), "HF_HUB_OFFLINE": "1", "PATH": "", "COLUMNS": "200"}
    shown = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", question], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "Terkait (bukan jawaban)" in shown.stdout and answer.related[0].text[:40] in shown.stdout


# -- text-fragment links ------------------------------------------------------------------------------

TRICKY_SENTENCES = [
    "Menkomdigi Meutya Hafid bertemu pejabat AS.",
    "“Kami siap,” kata Meutya, yang didampingi Wamenkomdigi Nezar Patria.",
    "Inflasi naik 2,5% - tertinggi sejak 2019, kata BI & OJK.",
    "Le ministre a rencontré Zoë Ñúñez à Đà Nẵng, puis à São Paulo, avant de rentrer à Jakarta pada Senin (18/11) untuk rapat kerja lanjutan.",
    "The deal — worth US$1.2 billion, or 50% more than planned — was signed in New York on Monday, said a spokes-woman for the company.",
]


def _fragment_terms(link: str) -> list[str]:
    fragment = urlsplit(link).fragment
    assert fragment.startswith(":~:text=")
    directive = fragment[len(":~:text=") :]
    # The spec's separators stay literal; every `,` `&` `-` inside a term is percent-encoded.
    assert "&" not in directive and "-" not in directive and " " not in directive
    return [unquote(term) for term in directive.split(",")]


@pytest.mark.parametrize("sentence", TRICKY_SENTENCES)
def test_fragment_decodes_to_words_of_the_sentence_in_order(sentence):
    link = sentence_link("https://example.org/berita/artikel.html?id=7#top", sentence)
    assert link.startswith("https://example.org/berita/artikel.html?id=7#:~:text=")
    terms = _fragment_terms(link)
    assert 1 <= len(terms) <= 2
    words = sentence.split()
    if len(terms) == 1:
        assert terms[0] == " ".join(words)
    else:
        start, end = terms[0].split(), terms[1].split()
        assert words[: len(start)] == start and words[-len(end) :] == end
        assert len(start) + len(end) < len(words)


def test_local_files_get_no_link():
    assert sentence_link("/home/me/artikel.txt", "Sebuah kalimat.") == ""
    assert sentence_link("seeds/artikel.txt", "Sebuah kalimat.") == ""


WEB_ARTICLE = """<!doctype html><html><head><title>Komdigi gelar rapat kerja</title></head><body>
<article><h1>Komdigi gelar rapat kerja</h1>
<p>Jakarta - Kementerian Komunikasi dan Digital menggelar rapat kerja di Jakarta pada Senin (18/11).</p>
<p>"Kami ingin layanan digital yang aman, cepat, dan terjangkau," kata Menteri Komunikasi dan Digital dalam rapat itu.</p>
<p>Rapat kerja tersebut dihadiri 45 pejabat dari 12 direktorat jenderal dan badan di lingkungan kementerian.</p>
<p>Rapat berikutnya dijadwalkan berlangsung pada bulan Desember di Bandung, Jawa Barat.</p>
</article></body></html>"""


@pytest.fixture
def web_article():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = WEB_ARTICLE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/berita/rapat-kerja.html"
    server.shutdown()
    server.server_close()


def test_citations_of_a_web_article_link_to_their_sentence(fresh_settings, web_article):
    from assistant import Assistant
    from ingest import ingest

    ingest([web_article], settings=fresh_settings)
    answer = Assistant.load(fresh_settings).ask("Berapa pejabat yang menghadiri rapat kerja?")
    assert not answer.abstained
    citation = answer.citations[0]
    assert citation.url.startswith(web_article + "#:~:text=")
    assert answer.to_dict()["citations"][0]["url"] == citation.url
    assert all(term in citation.text for term in _fragment_terms(citation.url))


def test_citations_of_a_local_file_have_no_link(bot):
    answer = bot.ask("Kapan pertemuan berlangsung?")
    assert answer.citations and all(citation.url == "" for citation in answer.citations)
