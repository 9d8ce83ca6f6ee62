"""Everything the assistant says in its own words, in Indonesian and English: one catalogue for the
answerer, the CLI and the Slack bot.

Replies to input with no detectable language (empty, emoji, a wall of one character) carry both.
"""

from __future__ import annotations

from assistant.types import Language

MESSAGES: dict[str, dict[str, str]] = {
    "not_in_article": {
        "en": "The article does not say. I could not find this in it, so I won't guess.",
        "id": "Artikel tidak menyebutkan hal itu. Saya tidak menemukannya di artikel, jadi saya tidak akan menebak.",
    },
    "empty": {
        "en": "Please ask a question about the article. / Silakan ajukan pertanyaan tentang artikel.",
        "id": "Silakan ajukan pertanyaan tentang artikel. / Please ask a question about the article.",
    },
    "too_long": {
        "en": "That question is too long (over 2,000 characters). Please ask it more briefly. / "
        "Pertanyaan itu terlalu panjang (lebih dari 2.000 karakter). Silakan ajukan dengan lebih singkat.",
        "id": "Pertanyaan itu terlalu panjang (lebih dari 2.000 karakter). Silakan ajukan dengan lebih singkat. / "
        "That question is too long (over 2,000 characters). Please ask it more briefly.",
    },
    "no_words": {
        "en": "I could not find a question in that. Please ask about the article in words. / "
        "Saya tidak menemukan pertanyaan di situ. Silakan bertanya tentang artikel dengan kata-kata.",
        "id": "Saya tidak menemukan pertanyaan di situ. Silakan bertanya tentang artikel dengan kata-kata. / "
        "I could not find a question in that. Please ask about the article in words.",
    },
    "instruction": {
        "en": "I can only answer questions about the article, from what the article says.",
        "id": "Saya hanya bisa menjawab pertanyaan tentang artikel, berdasarkan isi artikel.",
    },
    "other_language": {
        "en": "I answer questions in Indonesian or English. / Saya menjawab pertanyaan dalam bahasa Indonesia atau Inggris.",
        "id": "Saya menjawab pertanyaan dalam bahasa Indonesia atau Inggris. / I answer questions in Indonesian or English.",
    },
    "index_unavailable": {
        "en": "The article index is unavailable right now. Please try again in a moment.",
        "id": "Indeks artikel sedang tidak tersedia. Silakan coba lagi sebentar lagi.",
    },
    "thanks": {
        "en": "You're welcome! Ask me anything else about the article.",
        "id": "Sama-sama! Silakan tanyakan hal lain tentang artikel.",
    },
    "greeting": {
        "en": "Hi! I answer questions about the article, in English or Indonesian, and quote the sentences "
        "each answer rests on. Try: \"What is the article about?\"",
        "id": "Halo! Saya menjawab pertanyaan tentang artikel, dalam bahasa Indonesia atau Inggris, dengan "
        "mengutip kalimat yang menjadi dasarnya. Coba: \"Artikel ini tentang apa?\"",
    },
    "summary": {"en": "In short, the article's opening says", "id": "Singkatnya, menurut pembuka artikel"},
    "according_to": {"en": "According to the article:", "id": "Menurut artikel:"},
    "see_sentences": {"en": "The article answers this in", "id": "Artikel menjawabnya di"},
    "and": {"en": "and", "id": "dan"},
    # A refusal of an on-topic question says what the article does not give, then quotes what it does.
    "missing": {"en": "The article doesn't say.", "id": "Artikel tidak menyebutkan hal itu."},
    "missing_who": {"en": "The article doesn't say who the {subject} is.", "id": "Artikel tidak menyebut siapa {subject}."},
    "missing_names": {"en": "The article doesn't give those names.", "id": "Artikel tidak menyebut nama-namanya."},
    "missing_names_of": {"en": "The article doesn't name the {what}.", "id": "Artikel tidak menyebut nama {what}."},
    "missing_count_of": {"en": "The article doesn't give the number of {what}.", "id": "Artikel tidak menyebut jumlah {what}."},
    "missing_number": {"en": "The article doesn't give that number.", "id": "Artikel tidak menyebut angkanya."},
    "missing_amount": {"en": "The article doesn't give an amount.", "id": "Artikel tidak menyebut jumlah uangnya."},
    "missing_percent": {"en": "The article doesn't give a percentage.", "id": "Artikel tidak menyebut persentasenya."},
    "missing_when": {"en": "The article doesn't say when.", "id": "Artikel tidak menyebut kapan."},
    "missing_time": {"en": "The article doesn't give the time of day.", "id": "Artikel tidak menyebut pukul berapa."},
    "missing_duration": {"en": "The article doesn't say how long.", "id": "Artikel tidak menyebut berapa lama."},
    "missing_where": {"en": "The article doesn't say where.", "id": "Artikel tidak menyebut di mana."},
    "missing_why": {"en": "The article doesn't give a reason.", "id": "Artikel tidak menyebut alasannya."},
    "missing_role": {"en": "The article doesn't give that role.", "id": "Artikel tidak menyebut jabatannya."},
    "missing_whether": {"en": "The article doesn't say whether that is so.", "id": "Artikel tidak menyebut apakah demikian."},
    "related_intro": {
        "en": "The closest it comes (related, not an answer):",
        "id": "Yang paling dekat di artikel (terkait, bukan jawaban):",
    },
    "related_heading": {"en": "Related (not an answer)", "id": "Terkait (bukan jawaban)"},
    # -- the Slack bot's own words --
    "sentence": {"en": "sentence {n} of the article", "id": "kalimat ke-{n} dalam artikel"},
    "related": {"en": "Related", "id": "Terkait"},
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
    "feedback_thanks": {"en": "Thanks for the feedback!", "id": "Terima kasih atas masukannya!"},
    "feedback_lost": {
        "en": "I can no longer find that answer, so the feedback was not saved.",
        "id": "Jawaban itu sudah tidak ada, jadi masukan tidak disimpan.",
    },
    "panel_greeting": {
        "en": "Hi! Ask me about the article. I answer from its text and quote the sentences I rely on.",
        "id": "Halo! Tanyakan tentang artikel. Saya menjawab dari isinya dan mengutip kalimat rujukannya.",
    },
    "prompts_title": {"en": "Try asking", "id": "Coba tanyakan"},
}


def message(key: str, language: Language = "en", **values: object) -> str:
    """The catalogue entry `key` in `language` (English unless Indonesian), with `{name}` fields filled."""
    texts = MESSAGES[key]
    text = texts["id"] if language == "id" else texts["en"]
    return text.format(**values) if values else text
