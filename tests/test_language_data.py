"""Language knowledge is data, article knowledge is nowhere in code; the dev articles split as a
reader splits them; a lexicon change re-stems the index; a second article leaves the first's answers."""

import dataclasses
import re
from pathlib import Path

import pytest

from assistant.lexicon import DATA_DIR, default_lexicon
from evals.dataset import load_suite
from ingest.sources import read_article

ROOT = Path(__file__).resolve().parents[1]

# The seed article's people, places and organisations. General contractions of offices (Menkomdigi,
# Dubes) may live in the contraction list; these names may not live anywhere in the package.
SEED_NAMES = (
    "Meutya", "Hafid", "Marisa", "Lago", "Kamala", "Shirin", "Lakhdhir", "Nezar", "Patria", "Mira", "Tayyiba",
    "Ismail", "Eric Hsu", "Susannah", "Christopher Feather", "Denpasar", "Jakarta", "Nusantara",
)  # fmt: skip


def test_no_seed_article_name_in_package_code_or_data():
    files = [*sorted((ROOT / "assistant").rglob("*.py")), *sorted(path for path in DATA_DIR.iterdir() if path.is_file())]
    offenders = []
    for path in files:
        if path.name == "freedict_eng_ind.tsv":
            continue  # the dictionary's own headwords (e.g. "marshall") are general English, not ours
        text = path.read_text(encoding="utf-8").lower()
        for name in SEED_NAMES:
            if re.search(rf"\b{re.escape(name.lower())}\b", text):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, offenders


@pytest.mark.parametrize("article", load_suite()[1:], ids=lambda article: article.doc_id)
def test_ingest_reproduces_the_readers_sentence_split(article):
    assert [sentence.text for sentence in read_article(str(article.source)).sentences] == list(article.reference)


def test_a_changed_word_list_re_stems_the_index_on_the_next_ingest(fresh_settings, monkeypatch):
    from assistant import Assistant
    from ingest import ingest, pipeline

    source = str(next(article.source for article in load_suite() if article.doc_id == "id-bencana-banjir"))
    first = ingest([source], settings=fresh_settings)
    lexicon = default_lexicon()
    changed = dataclasses.replace(lexicon, contractions={**lexicon.contractions, "banjir": ("bah",)}, digest="changed")
    monkeypatch.setattr(pipeline, "default_lexicon", lambda: changed)
    second = ingest([source], settings=fresh_settings)
    assert second.switched and second.documents[0].version != first.documents[0].version
    bot = Assistant.load(fresh_settings)
    assert bot.manifest["lexicon"] == "changed"
    assert any("bah" in sentence.stems.split() for sentence in bot.searcher.sentences.values())
    assert all("offtopic" in document for document in bot.documents.values())  # calibration redone, not lost


QUESTIONS_ABOUT_THE_SEED = (
    "Siapa Duta Besar AS untuk Indonesia?",
    "Who accompanied the minister?",
    "Berapa perusahaan AS yang tertarik?",
    "Di mana Menkomdigi bertemu pejabat AS?",
    "Apa saja yang dicakup kerja sama ini?",
)


def test_a_second_article_does_not_change_answers_about_the_first(bot, fresh_settings):
    from assistant import Assistant
    from ingest import ingest

    seed, other = load_suite()[0], load_suite()[1]
    ingest([str(other.source), str(seed.source)], settings=fresh_settings)
    both = Assistant.load(fresh_settings)
    for question in QUESTIONS_ABOUT_THE_SEED:
        alone, together = bot.ask(question), both.ask(question)
        assert [c.sentence_id for c in together.citations] == [c.sentence_id for c in alone.citations], question
        assert together.text == alone.text
