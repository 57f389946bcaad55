"""Lexicons with unmodified boto3: PutLexicon, GetLexicon, ListLexicons, DeleteLexicon, and their use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.polly_audio import heard, heard_with, seconds, speak
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="{alphabet}" xml:lang="en-US">
{lexemes}
</lexicon>"""
ALIAS = "<lexeme><grapheme>W3C</grapheme><alias>World Wide Web Consortium</alias></lexeme>"
IPA = "<lexeme><grapheme>Xyzzy</grapheme><phoneme>bəˈnænə</phoneme></lexeme>"
XSAMPA = '<lexeme><grapheme>Qwrt</grapheme><phoneme>b@"n{n@</phoneme></lexeme>'


@pytest.fixture(scope="module")
def polly(server: LiveServer) -> Any:
    return server.client("polly")


def test_put_get_list_delete(polly: Any) -> None:
    content = PLS.format(alphabet="ipa", lexemes=ALIAS + IPA)
    polly.put_lexicon(Name="webwords", Content=content)
    got = polly.get_lexicon(Name="webwords")
    assert got["Lexicon"] == {"Name": "webwords", "Content": content}
    attributes = got["LexiconAttributes"]
    assert attributes["Alphabet"] == "ipa" and attributes["LanguageCode"] == "en-US"
    assert attributes["LexemesCount"] == 2 and attributes["Size"] == len(content)
    assert attributes["LexiconArn"].endswith(":lexicon/webwords") and attributes["LastModified"]
    names = [item["Name"] for item in polly.list_lexicons()["Lexicons"]]
    assert "webwords" in names
    polly.delete_lexicon(Name="webwords")
    assert "webwords" not in [item["Name"] for item in polly.list_lexicons()["Lexicons"]]
    with pytest.raises(polly.exceptions.LexiconNotFoundException):
        polly.get_lexicon(Name="webwords")
    with pytest.raises(polly.exceptions.LexiconNotFoundException):
        polly.delete_lexicon(Name="webwords")


def test_an_alias_is_spoken_instead_of_the_grapheme(polly: Any) -> None:
    polly.put_lexicon(Name="alias", Content=PLS.format(alphabet="ipa", lexemes=ALIAS))
    words = heard(polly, "The W3C writes standards.", LexiconNames=["alias"])
    assert {"world", "wide", "web"} <= set(words), words


@pytest.mark.parametrize(("alphabet", "lexeme", "word"), [("ipa", IPA, "Xyzzy"), ("x-sampa", XSAMPA, "Qwrt")])
def test_a_phoneme_is_the_pronunciation(polly: Any, alphabet: str, lexeme: str, word: str) -> None:
    name = f"say{alphabet.replace('-', '')}"
    polly.put_lexicon(Name=name, Content=PLS.format(alphabet=alphabet, lexemes=lexeme))
    assert "banana" in heard_with(polly, "banana", f"I ate a {word}.", LexiconNames=[name])
    plain = speak(polly, f"{word}.")
    assert seconds(plain) > 0


def test_a_replaced_lexicon_is_used_at_once_and_the_first_named_wins(polly: Any) -> None:
    first = "<lexeme><grapheme>thing</grapheme><alias>apple</alias></lexeme>"
    second = "<lexeme><grapheme>thing</grapheme><alias>banana</alias></lexeme>"
    polly.put_lexicon(Name="first", Content=PLS.format(alphabet="ipa", lexemes=first))
    polly.put_lexicon(Name="second", Content=PLS.format(alphabet="ipa", lexemes=second))
    assert "apple" in heard_with(polly, "apple", "The thing is here.", LexiconNames=["first", "second"])
    assert "banana" in heard_with(polly, "banana", "The thing is here.", LexiconNames=["second", "first"])
    polly.put_lexicon(Name="first", Content=PLS.format(alphabet="ipa", lexemes=second))
    assert "banana" in heard_with(polly, "banana", "The thing is here.", LexiconNames=["first"])


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("<lexicon", "InvalidLexiconException"),
        (PLS.format(alphabet="klingon", lexemes=ALIAS), "UnsupportedPlsAlphabetException"),
        (PLS.format(alphabet="ipa", lexemes=ALIAS).replace("en-US", "xx-XX"), "UnsupportedPlsLanguageException"),
        (PLS.format(alphabet="ipa", lexemes="<lexeme><grapheme>a</grapheme></lexeme>"), "InvalidLexiconException"),
        (PLS.format(alphabet="ipa", lexemes=ALIAS * 60), "LexiconSizeExceededException"),
        (
            PLS.format(alphabet="ipa", lexemes=f"<lexeme><grapheme>{'a' * 101}</grapheme><alias>b</alias></lexeme>"),
            "MaxLexemeLengthExceededException",
        ),
        (
            '<!DOCTYPE lexicon [<!ENTITY a "aaaa">]>' + PLS.format(alphabet="ipa", lexemes=ALIAS).split("?>", 1)[1],
            "InvalidLexiconException",
        ),
    ],
)
def test_bad_lexicons_get_polly_s_errors(polly: Any, content: str, code: str) -> None:
    fails(lambda: polly.put_lexicon(Name="bad", Content=content), code, 400)


def test_names_and_limits(polly: Any) -> None:
    fails(
        lambda: polly.synthesize_speech(Text="Hi.", VoiceId="Joe", OutputFormat="mp3", LexiconNames=["nosuch"]),
        "LexiconNotFoundException",
        404,
    )
    content = PLS.format(alphabet="ipa", lexemes=ALIAS)
    fails(lambda: polly.put_lexicon(Name="bad_name!", Content=content), "ValidationException", 400)
    for n in range(6):
        polly.put_lexicon(Name=f"many{n}", Content=content)
    six = [f"many{n}" for n in range(6)]
    fails(
        lambda: polly.synthesize_speech(Text="Hi.", VoiceId="Joe", OutputFormat="mp3", LexiconNames=six),
        # botocore's model caps LexiconNameList at 5: the request is invalid before any lexicon is looked up.
        "ValidationException",
        400,
    )
