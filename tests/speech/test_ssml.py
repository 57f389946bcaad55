"""SSML parsing: spans with byte offsets and styles, and InvalidSsml naming the line, column and fault."""

from __future__ import annotations

import pytest

from altostratus.speech.errors import InvalidSsml
from altostratus.speech.spans import Boundary, Fixed, Text
from altostratus.speech.ssml import parse
from altostratus.speech.utterances import Mark, Pause, Sound


def texts(ssml: str) -> list[Text]:
    return [span for span in parse(ssml).spans if isinstance(span, Text)]


def test_text_offsets_are_bytes_of_the_source_even_after_entities() -> None:
    ssml = "<speak>Café &amp; crème</speak>"
    source = ssml.encode()
    spans = texts(ssml)
    joined = "".join(s.text for s in spans)
    assert joined == "Café & crème"
    crème = spans[-1]
    index = crème.text.index("c")
    assert source[crème.offsets[index] : crème.offsets[-1]].decode() == "crème"
    ampersand = next(s for s in spans if s.text == "&")
    assert source[ampersand.offsets[0] : ampersand.offsets[-1]] == b"&amp;"


def test_billed_characters_are_those_outside_tags() -> None:
    assert parse("<speak>Hello <break time='1s'/>there</speak>").characters == len("Hello there")


def test_prosody_nests_and_multiplies() -> None:
    spans = texts("<speak><prosody rate='50%'>a <prosody rate='200%' volume='+6dB'>b</prosody></prosody></speak>")
    assert spans[0].style.prosody.rate == 0.5
    assert spans[1].style.prosody.rate == 1.0 and spans[1].style.prosody.volume_db == 6.0


def test_breaks_marks_and_boundaries() -> None:
    spans = parse("<speak><p>a<break time='1.5s'/>b<mark name='m'/></p><s>c</s><amazon:breath/></speak>").spans
    assert Pause(1500) in spans
    mark = next(s for s in spans if isinstance(s, Mark))
    assert mark.name == "m" and mark.end - mark.start == len("<mark name='m'/>")
    assert sum(isinstance(s, Boundary) for s in spans) >= 4
    assert any(isinstance(s, Pause) and s.sound is Sound.BREATH for s in spans)


def test_fixed_words_keep_the_written_value() -> None:
    spans = parse(
        "<speak><sub alias='World Wide Web'>W3C</sub> <phoneme alphabet='ipa' ph='təˈmɑːtoʊ'>tomato</phoneme></speak>"
    ).spans
    fixed = [s for s in spans if isinstance(s, Fixed)]
    assert fixed[0].word.text == "World Wide Web" and fixed[0].word.value == "W3C"
    assert fixed[1].word.phonemes == "təˈmɑːtoʊ" and fixed[1].word.value == "tomato"


def test_whisper_and_language_are_styles() -> None:
    spans = texts("<speak><amazon:effect name='whispered'><lang xml:lang='fr-FR'>oui</lang></amazon:effect></speak>")
    assert spans[0].style.prosody.whispered and spans[0].style.language == "fr-FR"


@pytest.mark.parametrize(
    ("ssml", "fault"),
    [
        ("<speak>a<b>c</b></speak>", "unknown tag <b>"),
        ("<speak><prosody rate='fast'>a</speak>", "mismatched tag"),
        ("<speak><prosody speed='fast'>a</prosody></speak>", "no attribute 'speed'"),
        ("<p>a</p>", "root element must be <speak>"),
        ("<speak><speak>a</speak></speak>", "only be the root"),
        ('<!DOCTYPE speak [<!ENTITY a "b">]><speak>&a;</speak>', "DOCTYPE"),
        ("<speak>&nbsp;</speak>", "undefined entity"),
        ("<speak><say-as>1</say-as></speak>", "interpret-as"),
        ("<speak><say-as interpret-as='digits'><break/>1</say-as></speak>", "may not be inside"),
        ("<speak><break time='11s'/></speak>", "at most 10s"),
        ("<speak><break strength='huge'/></speak>", "strength='huge'"),
        ("<speak><prosody pitch='+300%'>a</prosody></speak>", "pitch"),
        ("<speak><amazon:effect name='drc'>a</amazon:effect></speak>", "whispered"),
        ("<speak><amazon:domain name='news'>a</amazon:domain></speak>", "amazon:domain"),
        ("<speak><w role='verb'>read</w></speak>", "role"),
        ("<speak><phoneme alphabet='ipa' ph='h3llo'>x</phoneme></speak>", "ph="),
        ("<speak>a", "no element found"),
    ],
)
def test_faults_are_named_with_their_position(ssml: str, fault: str) -> None:
    with pytest.raises(InvalidSsml) as raised:
        parse(ssml)
    assert fault in str(raised.value) and "line 1, column" in str(raised.value)
