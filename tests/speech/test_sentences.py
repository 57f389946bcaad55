"""Sentences from spans: words with their spans and spoken forms, lexicons first, sentences cut where they end."""

from __future__ import annotations

from altostratus.speech.lexicons import Lexicons, parse_lexicon
from altostratus.speech.sentences import build_sentences
from altostratus.speech.spans import plain_text
from altostratus.speech.ssml import parse
from altostratus.speech.utterances import Mark, Pause, Run, Sentence


def sentences(text: str, lexicons: Lexicons | None = None) -> list[Sentence]:
    spans = parse(text).spans if text.startswith("<speak") else plain_text(text)
    return build_sentences(spans, text.encode(), lexicons or Lexicons(), "en-US")


def test_sentences_end_at_their_punctuation_but_not_after_titles() -> None:
    found = sentences("Dr. Smith is here. He came at 3 p.m. Is that late?")
    assert found[0].value == "Dr. Smith is here."
    assert found[-1].value == "Is that late?"
    first = found[0].words()
    assert first[0].value == "Dr" and first[0].text.lower().startswith("doctor")


def test_word_spans_are_utf8_bytes_and_values_are_the_written_words() -> None:
    text = "Zoë paid €5 for crème."
    source = text.encode()
    words = sentences(text)[0].words()
    for word in words:
        assert source[word.start : word.end].decode() == word.value
    assert words[0].value == "Zoë"


def test_numbers_and_money_are_normalised() -> None:
    words = sentences("It costs $3.50 today.")[0].words()
    spoken = " ".join(w.text for w in words).lower()
    assert "three dollars" in spoken and "fifty" in spoken and "$" not in spoken


def test_styles_make_runs_and_pauses_and_marks_sit_between() -> None:
    [sentence] = sentences("<speak>a <prosody rate='slow'>b</prosody><break time='300ms'/><mark name='x'/>c</speak>")
    kinds = [type(p).__name__ for p in sentence.pieces]
    assert kinds == ["Run", "Run", "Pause", "Mark", "Run"]
    assert isinstance(sentence.pieces[2], Pause) and sentence.pieces[2].ms == 300
    assert isinstance(sentence.pieces[3], Mark)


def test_a_pause_between_sentences_opens_the_next_one() -> None:
    found = sentences("<speak>One. <break time='1s'/>Two.</speak>")
    assert [s.value for s in found] == ["One.", "Two."]
    assert isinstance(found[1].pieces[0], Pause) and found[1].pieces[0].ms == 1000


def test_a_lexicon_grapheme_may_span_words_and_beats_normalising() -> None:
    content = """<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
    alphabet="ipa" xml:lang="en">
    <lexeme><grapheme>New York</grapheme><alias>the big apple</alias></lexeme>
    <lexeme><grapheme>42</grapheme><alias>the answer</alias></lexeme></lexicon>"""
    lexicons = Lexicons([parse_lexicon(content, ["en-US"])])
    words = sentences("I love New York, and 42.", lexicons)[0].words()
    assert [w.text for w in words if w.value in ("New York", "42")] == ["the big apple,", "the answer."]


def test_runs_keep_their_language() -> None:
    [sentence] = sentences("<speak>Hello <lang xml:lang='de-DE'>Guten Tag</lang></speak>")
    runs = [p for p in sentence.pieces if isinstance(p, Run)]
    assert [r.language for r in runs] == [None, "de-DE"]
