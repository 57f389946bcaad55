"""The speech service's errors, each with the code and status Polly sends."""

from __future__ import annotations

from altostratus.core.errors import BadRequest, NotFound, ValidationError


class InvalidParameter(ValidationError):
    """A parameter is outside what is allowed (Polly answers these as ValidationException)."""


class InvalidSsml(BadRequest):
    """The SSML is not well formed, or uses a tag or attribute that is not allowed."""

    code = "InvalidSsmlException"


class TextLengthExceeded(BadRequest):
    """The text is longer than the operation accepts."""

    code = "TextLengthExceededException"


class InvalidSampleRate(BadRequest):
    """The sample rate is not one the output format allows."""

    code = "InvalidSampleRateException"


class EngineNotSupported(BadRequest):
    """The voice does not speak with the engine asked for."""

    code = "EngineNotSupportedException"


class LanguageNotSupported(BadRequest):
    """The voice does not speak the language asked for."""

    code = "LanguageNotSupportedException"


class MarksNotSupportedForFormat(BadRequest):
    """Speech marks were asked for with an audio format, or an audio format with speech marks."""

    code = "MarksNotSupportedForFormatException"


class SsmlMarksNotSupportedForTextType(BadRequest):
    """SSML marks were asked for with plain text."""

    code = "SsmlMarksNotSupportedForTextTypeException"


class LexiconNotFound(NotFound):
    """No lexicon has this name."""

    code = "LexiconNotFoundException"


class InvalidLexicon(BadRequest):
    """The lexicon is not valid PLS."""

    code = "InvalidLexiconException"


class UnsupportedPlsAlphabet(BadRequest):
    """The lexicon's alphabet is not ipa or x-sampa."""

    code = "UnsupportedPlsAlphabetException"


class UnsupportedPlsLanguage(BadRequest):
    """The lexicon's language is not one a voice here speaks."""

    code = "UnsupportedPlsLanguageException"


class LexiconSizeExceeded(BadRequest):
    """The lexicon is larger than allowed (4,000 characters)."""

    code = "LexiconSizeExceededException"


class MaxLexemeLengthExceeded(BadRequest):
    """A lexeme's grapheme or pronunciation is longer than allowed."""

    code = "MaxLexemeLengthExceededException"


class MaxLexiconsNumberExceeded(BadRequest):
    """More lexicons than allowed would be stored, or applied to one request."""

    code = "MaxLexiconsNumberExceededException"


class SynthesisTaskNotFound(BadRequest):
    """No synthesis task has this id."""

    code = "SynthesisTaskNotFoundException"


class InvalidTaskId(BadRequest):
    """The task id is not well formed."""

    code = "InvalidTaskIdException"


class InvalidS3Bucket(BadRequest):
    """The output bucket does not exist, or its name is not valid."""

    code = "InvalidS3BucketException"


class InvalidS3Key(BadRequest):
    """The output key prefix is not valid."""

    code = "InvalidS3KeyException"


class InvalidNextToken(BadRequest):
    """The NextToken is not one this server gave."""

    code = "InvalidNextTokenException"
