"""Does the article answer this question? Signals that carry over to an article never seen before,
combined by a small logistic model fitted on the multi-article dev set (`python -m evals fit`).

The signals, each computed for the sentence(s) an answer would cite:

- relevance: the best cosine measured against what questions about nothing in particular score on
  the same article (its off-topic calibration, computed at ingest), in standard deviations: a fixed
  cosine threshold fitted on one article does not transfer to another;
- coverage: the share of the question's key terms (either language) that the cited sentences hold,
  and the share the whole article holds ("Berapa umur …?" asks about an age the article never gives);
- focus: whether what is asked for ("the names of the companies", "the population") is in the
  cited sentence, in either language;
- answer type: whether a when/where/how-many/how-much question finds its date, place or amount
  there, and whether an identity question ("Who is the deputy minister?") finds a holder;
- other time: a question about what comes next (or came before) meeting a sentence about the event;
- cross language: whether the question is in the other language than the article (cosines and term
  matches run lower across languages, so the other signals mean something else there).

The model's weights live in `assistant/data/answerability.json`, with the numbers it was fitted on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.lexicon import DATA_DIR, Lexicon, keys, term_occurs, tokenize
from assistant.query import TYPED_KINDS, Query
from assistant.retrieval import ScoredSentence, SentenceSearcher, coverage
from assistant.spans import answer_spans

MODEL_PATH = DATA_DIR / "answerability.json"

FEATURES = (
    "relevance",
    "dense",
    "coverage",
    "article_coverage",
    "focus_supported",
    "typed_without_span",
    "identity_without_holder",
    "other_time_mismatch",
    "lexical",
    "missing_terms",
    "nothing_in_article",
    "cross_language",
)

DEFAULT_CALIBRATION = {"mean": 0.78, "std": 0.02}
"""Used only for an index written before calibration existed; re-ingesting computes the real one."""


def features(query: Query, chosen: Sequence[ScoredSentence], searcher: SentenceSearcher) -> dict[str, float]:
    """The signals for answering `query` with the `chosen` sentences (best first)."""
    best = chosen[0]
    lexicon = searcher.lexicon
    document = searcher.document(best.sentence.doc_id)
    calibration = document.get("offtopic") or DEFAULT_CALIBRATION
    cited_terms = frozenset().union(*(frozenset(item.sentence.stems.split()) for item in chosen))
    typed = [kind for kind in query.kinds if kind in TYPED_KINDS]
    identity = query.kind == "who" and query.subject is not None
    vocabulary = searcher.vocabulary(best.sentence.doc_id)
    in_article = [term_occurs(term, vocabulary) for term in query.terms]
    return {
        "relevance": (best.dense - calibration["mean"]) / calibration["std"],
        "dense": best.dense,
        "coverage": coverage(query, cited_terms),
        "article_coverage": sum(in_article) / len(in_article) if in_article else 1.0,
        "focus_supported": focus_supported(query, cited_terms, lexicon),
        "typed_without_span": float(not all(_has_span(query.part(kind), chosen, lexicon) for kind in typed)),
        "identity_without_holder": float(identity and not _has_span(query, chosen, lexicon)),
        "other_time_mismatch": float(_other_time_mismatch(query, chosen, lexicon)),
        "lexical": best.lexical,
        "missing_terms": float(min(3, in_article.count(False))),
        "nothing_in_article": float(bool(in_article) and not any(in_article)),
        # Asked in the other language than the article's, cosines and term matches run lower.
        "cross_language": float(query.language != document.get("language", query.language)),
    }


def focus_supported(query: Query, terms: frozenset[str], lexicon: Lexicon) -> float:
    """Share of the words the question asks for ("how many HOUSES", "the NAMES of …") that the cited
    sentences hold in either language; 1.0 when the question has no such focus."""
    focus = [word for word in query.focus if not lexicon.is_stopword(word)]
    if not focus:
        return 1.0
    return sum(term_occurs(lexicon.term(word), terms) for word in focus) / len(focus)


def _has_span(query: Query, chosen: Sequence[ScoredSentence], lexicon: Lexicon) -> bool:
    return any(answer_spans(query, item.sentence.text, lexicon) for item in chosen)


def _other_time_mismatch(query: Query, chosen: Sequence[ScoredSentence], lexicon: Lexicon) -> bool:
    if not query.other_time:
        return False
    markers = lexicon.time_markers[(query.other_time, "sentence")]
    marker_keys = set().union(*(keys(word) for word in markers))
    return not any(set(tokenize(item.sentence.text)) & marker_keys for item in chosen)


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over standardised `FEATURES`; answers when the probability ≥ threshold."""

    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float = 0.5
    fitted_on: dict | None = None

    def probability(self, values: dict[str, float]) -> float:
        z = self.bias + sum(w * (values[name] - m) / s for w, name, m, s in zip(self.weights, FEATURES, self.means, self.scales, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answerable(self, values: dict[str, float]) -> bool:
        return self.probability(values) >= self.threshold

    @classmethod
    def fit(
        cls, rows: Sequence[dict[str, float]], labels: Sequence[bool], l2: float = 1.0, threshold: float = 0.5, fitted_on: dict | None = None
    ) -> AnswerabilityModel:
        """Fit by Newton's method on the L2-regularised log loss (numpy; a few dozen iterations)."""
        import numpy as np

        x = np.array([[row[name] for name in FEATURES] for row in rows], dtype=float)
        y = np.array(labels, dtype=float)
        means = x.mean(axis=0)
        scales = x.std(axis=0)
        scales[scales < 1e-9] = 1.0
        z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
        w = np.zeros(z.shape[1])
        penalty = np.eye(z.shape[1]) * l2
        penalty[0, 0] = 0.0  # the bias is not shrunk
        for _ in range(50):
            p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
            gradient = z.T @ (p - y) + penalty @ w
            hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(
            weights=tuple(float(v) for v in w[1:]),
            bias=float(w[0]),
            means=tuple(float(v) for v in means),
            scales=tuple(float(v) for v in scales),
            threshold=threshold,
            fitted_on=fitted_on,
        )

    def to_json(self) -> str:
        payload = {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "means": [round(m, 6) for m in self.means],
            "scales": [round(s, 6) for s in self.scales],
            "threshold": round(self.threshold, 4),
            "fitted_on": self.fitted_on or {},
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if tuple(payload["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on other features ({payload['features']}); refit with: python -m evals fit")
        return cls(
            weights=tuple(payload["weights"]),
            bias=payload["bias"],
            means=tuple(payload["means"]),
            scales=tuple(payload["scales"]),
            threshold=payload["threshold"],
            fitted_on=payload.get("fitted_on"),
        )
