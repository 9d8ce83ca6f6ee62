"""Block Kit replies: escaping of every piece of article and user text, Slack's size limits, links,
related reading under a refusal; and Slack text coming in, reduced to plain words."""

from __future__ import annotations

import json

import pytest

from assistant.slack.blocks import MAX_BLOCKS, MAX_SECTION_CHARS, answer_message, escape, link, notice_message, split_mrkdwn
from assistant.slack.threads import question_text
from assistant.types import Answer, Citation, Hit

INJECTIONS = ("<!channel>", "<!here>", "<@U0BOSS>", "<http://evil.example|click me>", "<#C0GENERAL>")


def citation(marker: int = 1, text: str = "Meutya Hafid didampingi Nezar Patria.", **fields) -> Citation:
    values = dict(sentence_id=f"doc#{marker:02d}", doc_id="doc", position=marker - 1, text=text, score=0.9, title="Doc", source="seeds/doc.txt")
    return Citation(marker=marker, **{**values, **fields})


def answer(text: str = "Nezar Patria [1].", citations: tuple[Citation, ...] = (citation(),), **fields) -> Answer:
    values = dict(question="Who accompanied her?", abstained=False, language="en")
    return Answer(text=text, citations=citations, **{**values, **fields})


def all_mrkdwn(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def check_limits(message: dict) -> None:
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        elements = block.get("elements", [])
        texts = [block["text"]["text"]] if "text" in block else [element.get("text", "") for element in elements if isinstance(element.get("text"), str)]
        assert all(0 < len(text) <= MAX_SECTION_CHARS for text in texts)


def test_answer_reads_answer_then_quoted_sources_then_buttons():
    message = answer_message(answer(citations=(citation(highlights=("Nezar Patria",)),)), "message:C1:1.2")
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["section", "section", "context", "actions"]
    assert message["blocks"][1]["text"]["text"] == "> Meutya Hafid didampingi *Nezar Patria*."
    assert message["blocks"][2]["elements"][0]["text"] == "*[1]* · sentence 1 of the article · Doc"
    assert {button["value"] for button in message["blocks"][3]["elements"]} == {"message:C1:1.2"}
    assert message["text"] == "Nezar Patria [1]."


@pytest.mark.parametrize("injection", INJECTIONS)
def test_article_and_question_text_is_escaped_everywhere(injection):
    hostile = citation(text=f"Menurut {injection} & kawan-kawan.", title=f"Judul {injection}", highlights=(injection,))
    message = answer_message(answer(text=f"Ya {injection} [1].", citations=(hostile,), question=f"Apa {injection}?"), "k", echo_question=True)
    shown = all_mrkdwn(message)
    assert injection not in shown
    assert escape(injection) in shown
    assert "&amp; kawan-kawan" in shown
    assert injection not in message["text"]


def test_sources_link_only_to_http_urls():
    web = answer_message(answer(citations=(citation(source="https://www.antaranews.com/berita/1?a=1&b=2|x"),)), "k")
    assert "<https://www.antaranews.com/berita/1?a=1&amp;b=2%7Cx|Doc>" in all_mrkdwn(web)
    for source in ("seeds/doc.txt", "javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/a"):
        message = answer_message(answer(citations=(citation(source=source),)), "k")
        assert "<" not in message["blocks"][2]["elements"][0]["text"]
    assert link("https://example.com/a>b", "x") == "<https://example.com/a%3Eb|x>"


def test_abstentions_are_short_with_no_sources():
    message = answer_message(answer(text="The article does not say. I could not find this in it, so I won't guess.", citations=(), abstained=True), "k")
    assert [block["type"] for block in message["blocks"]] == ["section", "actions"]


def test_long_answers_are_split_not_refused():
    long_text = ("Kerja sama digital & AI " * 2000).strip()  # ~48,000 characters, with entities to keep whole
    message = answer_message(answer(text=long_text, citations=(citation(text=long_text),)), "k")
    check_limits(message)
    body = "".join(block["text"]["text"] for block in message["blocks"] if block["type"] == "section")
    assert body.count("&amp;") > 1000 and "&am " not in body and "&a " not in body
    assert message["blocks"][-1]["type"] == "actions"
    assert len(message["text"]) <= MAX_SECTION_CHARS


def test_too_many_sources_are_trimmed_with_a_note():
    many = tuple(citation(marker, f"Sentence {marker}.") for marker in range(1, 61))
    message = answer_message(answer(citations=many), "k")
    check_limits(message)
    assert message["blocks"][-1]["type"] == "actions"
    note = message["blocks"][-2]["elements"][0]["text"]
    shown = sum(1 for block in message["blocks"] if block["type"] == "section" and block["text"]["text"].startswith("> "))
    assert note == f"{60 - shown} more cited sentences not shown"


def test_split_mrkdwn_prefers_spaces_and_keeps_entities_whole():
    assert split_mrkdwn("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]
    chunks = split_mrkdwn("&amp;" * 30, 12)
    assert all(chunk == "&amp;" * (len(chunk) // 5) for chunk in chunks) and "".join(chunks) == "&amp;" * 30


def test_notices_are_escaped_too():
    message = notice_message("Try <!here> again")
    assert message["text"] == "Try &lt;!here&gt; again" and message["blocks"][0]["text"]["text"] == message["text"]


def test_question_text_is_the_plain_text_a_person_sees():
    assert question_text("<@UBOT> Siapa &lt;b&gt; &amp; <@UOTHER|ana>?", "UBOT") == "Siapa <b> & @ana?"
    assert question_text("<@UBOT|askbot>   who?", "UBOT") == "who?"
    # Broadcasts and bare mentions carry no words; channels, links and user groups keep their label.
    assert question_text("<!channel> <!here> <!everyone> <@U0BOSS> Siapa Duta Besar AS?", "UBOT") == "Siapa Duta Besar AS?"
    assert question_text("In <#C0NEWS|berita>, <https://x.example/a?b=1&amp;c=2|the report> says <https://x.example>", "UBOT") == (
        "In #berita, the report says https://x.example"
    )
    assert question_text("<!subteam^S1|@editors> <!date^1732000000^{date}|18 Nov 2024> <#C0BARE>?", "UBOT") == "@editors 18 Nov 2024 ?"
    assert question_text("a &lt;!channel&gt; typed as text", "UBOT") == "a <!channel> typed as text"


def test_markup_around_a_question_leaves_the_plain_question():
    plain = "Siapa Duta Besar AS?"
    for typed in (
        "<!channel> Siapa Duta Besar AS? <#C999|umum>",
        "<#C999|umum> <@UBOT> Siapa Duta Besar AS?",
        "*Siapa* _Duta Besar_ ~AS~?",
        "`Siapa Duta Besar AS?`",
    ):
        assert question_text(typed, "UBOT") == plain, typed
    # Marks inside words, and arithmetic, are text.
    assert question_text("snake_case_name and 2*3*4", "UBOT") == "snake_case_name and 2*3*4"


def test_a_refusal_shows_related_sentences_as_related_reading_in_the_askers_language():
    near = Hit("doc#12", "doc", 12, "Dubes AS untuk Indonesia Kamala Shirin Lakhdhir didampingi <tim> & staf.", 0.7)
    refusal = {"question": "Siapa Presiden AS?", "text": "Artikel tidak menyebutkan hal itu.", "abstained": True, "citations": (), "related": (near,)}
    for language, expected in (
        ("id", "Terkait: “Dubes AS untuk Indonesia Kamala Shirin Lakhdhir didampingi &lt;tim&gt; &amp; staf.” · kalimat ke-13 dalam artikel"),
        ("en", "Related: “Dubes AS untuk Indonesia Kamala Shirin Lakhdhir didampingi &lt;tim&gt; &amp; staf.” · sentence 13 of the article"),
    ):
        message = answer_message(answer(**{**refusal, "language": language}), "k")
        assert [block["type"] for block in message["blocks"]] == ["section", "context", "actions"]
        assert message["blocks"][1]["elements"][0]["text"] == expected
        assert "Kamala" not in message["text"]  # related reading is not part of the answer
    assert [block["type"] for block in answer_message(answer(**{**refusal, "related": ()}), "k")["blocks"]] == ["section", "actions"]


def test_a_citation_with_a_url_links_its_sentence_reference_there():
    url = "https://www.antaranews.com/berita/4480121#:~:text=Dubes%20AS"
    message = answer_message(answer(citations=(citation(url=url, position=12),)), "k")
    assert message["blocks"][-2]["elements"][0]["text"] == f"*[1]* · <{url}|sentence 13 of the article> · Doc"
    for no_link in ("", "javascript:alert(1)"):
        message = answer_message(answer(citations=(citation(url=no_link, position=12),)), "k")
        assert message["blocks"][-2]["elements"][0]["text"] == "*[1]* · sentence 13 of the article · Doc"


def test_cases_the_property_tests_found():
    """tests/scale/test_slack_input_properties.py found each of these once."""
    # A highlight that also occurs inside an entity is bolded where it stands, never inside "&amp;".
    message = answer_message(answer(citations=(citation(text="Q&A a", highlights=("A",)),)), "k")
    assert message["blocks"][1]["text"]["text"] == "> Q&amp;*A* a"
    message = answer_message(answer(citations=(citation(text="&", highlights=("a",)),)), "k")
    assert message["blocks"][1]["text"]["text"] == "> &amp;"
    # Whitespace and control characters inside a source URL are percent-encoded, so the link holds.
    assert link("http://x/a\nb|c", "t") == "<http://x/a%0Ab%7Cc|t>"
    # A blank answer or title never makes an empty section, nor crashes the truncation.
    message = answer_message(answer(text=" \r\n ", citations=(citation(title=" " * 400, source="http://x/y"),)), "k")
    check_limits(message)
    assert message["blocks"][0]["text"]["text"] == "…"
    assert notice_message("\r")["blocks"][0]["text"]["text"] == "…"


def test_each_cited_sentence_is_quoted_once_when_the_answer_has_a_brief_form():
    sentence = "Meutya Hafid didampingi Nezar Patria."
    full = f"Nezar Patria [1].\nAccording to the article: “{sentence}” [1]"
    message = answer_message(answer(text=full, summary="Nezar Patria [1]."), "message:C1:1.3")
    blocks_text = json.dumps(message["blocks"], ensure_ascii=False)
    assert blocks_text.count("didampingi") == 1
    assert message["blocks"][0]["text"]["text"] == "Nezar Patria [1]."
