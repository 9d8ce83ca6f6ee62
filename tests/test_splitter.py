"""Sentence splitting and news-page furniture, on the real article and on tricky Indonesian text."""

import pytest

from ingest.article import parse_article
from ingest.splitter import MAX_SENTENCE_CHARS, split_sentences
from tests.conftest import DOC_ID


def test_seed_article_has_13_body_sentences_with_exact_offsets(seed_text):
    article = parse_article(seed_text, doc_id=DOC_ID, title="t", source="seed")
    assert len(article.sentences) == 13
    for position, sentence in enumerate(article.sentences):
        assert sentence.position == position
        assert seed_text[sentence.start : sentence.end] == sentence.text
        assert sentence.sentence_id == f"{DOC_ID}#{position:02d}"
    assert article.sentences[0].text.startswith("Jakarta (ANTARA) - Menteri Komunikasi")
    assert article.sentences[-1].text.endswith("Christopher Feather.")


def test_read_also_lines_and_related_list_are_metadata_not_sentences(seed_text):
    article = parse_article(seed_text, doc_id=DOC_ID, title="t", source="seed")
    texts = " ".join(s.text for s in article.sentences)
    assert "Baca juga" not in texts
    assert "Berita Terkait" not in texts
    assert "Kamis, 14 November 2024" not in texts
    assert "Banyak pemain global tertarik investasi infrastruktur data" in article.related_headlines
    assert "Dubes Jepang soroti pentingnya pertukaran personel militer dengan Indonesia" in article.related_headlines
    assert len(article.related_headlines) == 8  # two "Baca juga" headlines recur in the list


def test_quotation_spanning_two_sentences_splits_inside_the_quote(seed_text):
    article = parse_article(seed_text, doc_id=DOC_ID, title="t", source="seed")
    assert article.sentences[6].text.endswith("termasuk smart city.")
    assert article.sentences[7].text.endswith("transformasi ini,” jelasnya.")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr. Budi datang ke No. 5 di Jl. Sudirman. Ia pulang.", ["Dr. Budi datang ke No. 5 di Jl. Sudirman.", "Ia pulang."]),
        ("Harganya Rp1.000 atau 3,5 persen. Lalu naik.", ["Harganya Rp1.000 atau 3,5 persen.", "Lalu naik."]),
        ("Rapat pada Senin (18/11) pukul 10.00 WIB. Selesai.", ["Rapat pada Senin (18/11) pukul 10.00 WIB.", "Selesai."]),
        ("Surat a.n. Menteri dikirim. Sudah.", ["Surat a.n. Menteri dikirim.", "Sudah."]),
        ("Ada buku, pena, dll. Semua dibawa.", ["Ada buku, pena, dll.", "Semua dibawa."]),
        ('"Kami senang," kata dia. "Ini penting." Lalu ia pergi.', ['"Kami senang," kata dia.', '"Ini penting."', "Lalu ia pergi."]),
        ("“Ini langkah baik.” Ia menambahkan.", ["“Ini langkah baik.”", "Ia menambahkan."]),
        ('Ia bilang "bagus." kata dia.', ['Ia bilang "bagus." kata dia.']),
        ("Susilo B. Yudhoyono hadir. Ok.", ["Susilo B. Yudhoyono hadir.", "Ok."]),
        ("Apa kabar? Baik! Terima kasih.", ["Apa kabar?", "Baik!", "Terima kasih."]),
        ("MANILA, Sept. 15 - Nurses walked out. The talks failed.", ["MANILA, Sept. 15 - Nurses walked out.", "The talks failed."]),
        ("The vote is due on Friday, Dec. 12, in Hanoi. It may slip.", ["The vote is due on Friday, Dec. 12, in Hanoi.", "It may slip."]),
        ("Spokesperson Maj. Jose Ramirez spoke at 3 p.m. Nobody was hurt.", ["Spokesperson Maj. Jose Ramirez spoke at 3 p.m.", "Nobody was hurt."]),
        ("Kapolsek Iptu Andi Saputra tiba. Kombes Rudi menyusul.", ["Kapolsek Iptu Andi Saputra tiba.", "Kombes Rudi menyusul."]),
        ("Izin terbit dengan Nomor. SK.84/2024 pada Mei. Lalu dicabut.", ["Izin terbit dengan Nomor. SK.84/2024 pada Mei.", "Lalu dicabut."]),
        ("Rumah tersebar di 5 RT. Warga mengungsi.", ["Rumah tersebar di 5 RT.", "Warga mengungsi."]),
    ],
)
def test_indonesian_rules(text, expected):
    spans = split_sentences(text)
    assert [s.text for s in spans] == expected
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_sentences_never_cross_lines():
    assert [s.text for s in split_sentences("Judul tanpa titik\nKalimat pertama. Kalimat kedua.")] == [
        "Judul tanpa titik",
        "Kalimat pertama.",
        "Kalimat kedua.",
    ]


def test_a_run_without_sentence_ends_is_cut_into_readable_pieces():
    """A flattened table or a page without punctuation becomes citable pieces, cut at a comma or a
    space, never longer than MAX_SENTENCE_CHARS (a 1 MB line used to keep ingest busy for minutes)."""
    line = ", ".join(f"baris {n} kolom nilai {n * 7}" for n in range(40000))  # about 1 MB, one line
    spans = split_sentences(f"Judul\n{line}\nKalimat biasa. Kalimat kedua.")
    pieces = [s for s in spans if s.text.startswith("baris") or s.text[0].isdigit() or s.text.startswith("kolom")]
    assert len(pieces) > 1000
    assert max(len(s.text) for s in spans) <= MAX_SENTENCE_CHARS
    assert all(s.text.endswith(",") or s is pieces[-1] for s in pieces)  # cut after a comma, not mid-word
    assert [s.text for s in spans[-2:]] == ["Kalimat biasa.", "Kalimat kedua."]
    unbroken = "x" * 5000
    assert [len(s.text) for s in split_sentences(unbroken)] == [MAX_SENTENCE_CHARS] * 6 + [200]


def test_reference_markers_are_not_cited_and_offsets_still_span_the_original():
    """A Wikipedia passage's "[1]" would read as the answer's own citation marker."""
    text = (
        "Candi Borobudur dibangun pada abad ke-9.[1][2] Candi itu terletak di Magelang[butuh rujukan] dan dikunjungi"
        " jutaan orang [note 3]. Tiketnya Rp50.000.[a]"
    )
    article = parse_article(text, doc_id="borobudur", title="t", source="t")
    assert [s.text for s in article.sentences] == [
        "Candi Borobudur dibangun pada abad ke-9.",
        "Candi itu terletak di Magelang dan dikunjungi jutaan orang.",
        "Tiketnya Rp50.000.",
    ]
    first, second, _ = article.sentences
    assert text[first.start : first.end] == "Candi Borobudur dibangun pada abad ke-9.[1][2]"
    assert text[second.start : second.end].endswith("jutaan orang [note 3].")
