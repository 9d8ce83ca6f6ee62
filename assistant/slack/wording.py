"""What the Slack bot says in its own words (the answerer's own messages live in
`assistant.answering.messages`). Indonesian for Indonesian questions, English otherwise."""

from __future__ import annotations

from assistant.types import Language

WORDING: dict[str, dict[str, str]] = {
    "sentence": {"en": "sentence {n} of the article", "id": "kalimat ke-{n} dalam artikel"},
    "more_sources": {"en": "{n} more cited sentences not shown", "id": "{n} kalimat rujukan lain tidak ditampilkan"},
    "you_asked": {"en": "You asked", "id": "Anda bertanya"},
    "helpful": {"en": "Helpful", "id": "Membantu"},
    "not_helpful": {"en": "Not helpful", "id": "Tidak membantu"},
    "searching": {"en": "Searching the article…", "id": "Mencari di artikel…"},
    "rate_limited": {
        "en": "You're asking faster than I can keep up. Please wait about {seconds} s and ask again.",
        "id": "Anda bertanya terlalu cepat. Tunggu sekitar {seconds} detik, lalu tanyakan lagi.",
    },
    "apology": {
        "en": "Sorry, something went wrong while I was answering. It has been logged; please try again.",
        "id": "Maaf, terjadi kesalahan saat saya menjawab. Kesalahan sudah dicatat; silakan coba lagi.",
    },
    "thanks": {"en": "Thanks for the feedback!", "id": "Terima kasih atas masukannya!"},
    "feedback_lost": {
        "en": "I can no longer find that answer, so the feedback was not saved.",
        "id": "Jawaban itu sudah tidak ada, jadi masukan tidak disimpan.",
    },
    "greeting": {
        "en": "Hi! Ask me about the article. I answer from its text and quote the sentences I rely on.",
        "id": "Halo! Tanyakan tentang artikel. Saya menjawab dari isinya dan mengutip kalimat rujukannya.",
    },
    "prompts_title": {"en": "Try asking", "id": "Coba tanyakan"},
}

SUGGESTED_PROMPTS = (
    {"title": "What is it about?", "message": "What is the article about?"},
    {"title": "Ringkas artikel", "message": "Ringkas artikel ini"},
    {"title": "Who is quoted?", "message": "Who is quoted in the article?"},
)
"""Shown when someone opens the assistant side panel. Questions any article answers: the prompts
must not assume what the ingested article is about."""


def wording(key: str, language: Language = "en", **values) -> str:
    texts = WORDING[key]
    return (texts["id"] if language == "id" else texts["en"]).format(**values)
