"""The Polly API (boto3's `polly`, rest-json) over the speech service, its lexicons and synthesis tasks.

Handlers parse, call, wrap. SynthesizeSpeech checks the whole request before answering, then streams the
audio sentence by sentence (AudioStream is the body; Content-Type and x-amzn-RequestCharacters are headers).
Beside Polly: VoiceId takes our own voices too (Joe, Slt, espeak-<language>), so it is checked here, not by the
model's enum; SnsTopicArn is refused (no notification service here); OutputUri is this server's object URL.
"""

from __future__ import annotations

from typing import Any

from altostratus.api.context import BodyLimit, Call
from altostratus.api.model_adapters import Handler, RestJsonAdapter, operation_handlers
from altostratus.api.paging import PageTokens
from altostratus.core.ids import arn
from altostratus.speech.errors import InvalidNextToken, InvalidParameter, TextLengthExceeded
from altostratus.speech.lexicon_store import StoredLexicon
from altostratus.speech.service import SpeechService, SynthesisRequest
from altostratus.speech.tasks import SynthesisTask, SynthesisTasks
from altostratus.speech.voices import Voice

TOKENS = PageTokens(InvalidNextToken)
# A task's 200,000 characters as JSON, each escaped as \uXXXX at worst.
TASK_BODY = BodyLimit(1_300_000, TextLengthExceeded)
# 6,000 characters as JSON, each escaped at worst as a surrogate pair (\ud83d\ude00: 12 bytes).
SPEECH_BODY = BodyLimit(128 * 1024, TextLengthExceeded)
LIST_PAGE = 100
DEFAULT_TASKS_PAGE = 100


class PollyApi:
    """Polly's operations: voices, speech, lexicons and synthesis tasks."""

    def __init__(self, speech: SpeechService, tasks: SynthesisTasks, *, region: str) -> None:
        self._speech = speech
        self._tasks = tasks
        self._region = region

    def adapter(self) -> RestJsonAdapter:
        """The rest-json adapter; VoiceId's enum is ours, not Polly's list."""
        return RestJsonAdapter(
            "polly",
            self.handlers(),
            validation_error=InvalidParameter,
            body_limits={"SynthesizeSpeech": SPEECH_BODY, "StartSpeechSynthesisTask": TASK_BODY},
            open_enums=("VoiceId",),
        )

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "polly")

    # ---- voices and speech --------------------------------------------------------------------------

    def describe_voices(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        voices = self._speech.catalog.voices(
            engine=params.get("Engine"),
            language=params.get("LanguageCode"),
            include_additional=bool(params.get("IncludeAdditionalLanguageCodes")),
        )
        offset = TOKENS.offset(params.get("NextToken"))
        page = voices[offset : offset + 250]
        following = offset + 250 if offset + 250 < len(voices) else None
        return {"Voices": [_voice(v) for v in page], **TOKENS.next_page(following)}

    def synthesize_speech(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        synthesis = self._speech.synthesize(_request(params))
        return {
            "AudioStream": synthesis.chunks,
            "ContentType": synthesis.content_type,
            "RequestCharacters": synthesis.characters,
        }

    # ---- lexicons -----------------------------------------------------------------------------------

    def put_lexicon(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._speech.lexicons.put(params["Name"], params["Content"])
        return {}

    def get_lexicon(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        lexicon = self._speech.lexicons.get(params["Name"])
        return {
            "Lexicon": {"Name": lexicon.name, "Content": lexicon.content},
            "LexiconAttributes": self._attributes(lexicon),
        }

    def list_lexicons(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        found, following = self._speech.lexicons.page(TOKENS.offset(params.get("NextToken")), LIST_PAGE)
        listed = [{"Name": lexicon.name, "Attributes": self._attributes(lexicon)} for lexicon in found]
        return {"Lexicons": listed, **TOKENS.next_page(following)}

    def delete_lexicon(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._speech.lexicons.delete(params["Name"])
        return {}

    def _attributes(self, lexicon: StoredLexicon) -> dict[str, Any]:
        return {
            "Alphabet": lexicon.alphabet,
            "LanguageCode": lexicon.language,
            "LastModified": lexicon.modified_at,
            "LexiconArn": arn("polly", self._region, f"lexicon/{lexicon.name}"),
            "LexemesCount": lexicon.lexemes,
            "Size": lexicon.size,
        }

    # ---- synthesis tasks ----------------------------------------------------------------------------

    def start_speech_synthesis_task(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        if params.get("SnsTopicArn"):
            raise InvalidParameter("SnsTopicArn is not supported: this server has no notification service")
        task = self._tasks.start(_request(params), params["OutputS3BucketName"], params.get("OutputS3KeyPrefix", ""))
        return {"SynthesisTask": _task(task)}

    def get_speech_synthesis_task(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"SynthesisTask": _task(self._tasks.get(params["TaskId"]))}

    def list_speech_synthesis_tasks(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        limit = params.get("MaxResults", DEFAULT_TASKS_PAGE)
        offset = TOKENS.offset(params.get("NextToken"))
        found, following = self._tasks.page(offset, limit, params.get("Status"))
        return {"SynthesisTasks": [_task(task) for task in found], **TOKENS.next_page(following)}


def _request(params: dict[str, Any]) -> SynthesisRequest:
    return SynthesisRequest(
        text=params["Text"],
        voice_id=params["VoiceId"],
        output_format=params["OutputFormat"],
        text_type=params.get("TextType", "text"),
        engine=params.get("Engine"),
        sample_rate=params.get("SampleRate"),
        mark_types=tuple(params.get("SpeechMarkTypes", ())),
        lexicon_names=tuple(params.get("LexiconNames", ())),
        language=params.get("LanguageCode"),
    )


def _voice(voice: Voice) -> dict[str, Any]:
    shown = {
        "Id": voice.id,
        "Name": voice.id,
        "Gender": voice.gender,
        "LanguageCode": voice.language,
        "LanguageName": voice.language_name,
        "SupportedEngines": voice.engines,
    }
    if voice.additional_languages:
        shown["AdditionalLanguageCodes"] = list(voice.additional_languages)
    return shown


def _task(task: SynthesisTask) -> dict[str, Any]:
    request = task.request
    shown: dict[str, Any] = {
        "TaskId": task.task_id,
        "TaskStatus": task.status,
        "OutputUri": task.output_uri,
        "CreationTime": task.created_at,
        "RequestCharacters": task.request_characters,
        "Engine": request.get("engine"),
        "LexiconNames": list(request.get("lexicon_names", [])),
        "OutputFormat": request["output_format"],
        "SampleRate": request.get("sample_rate"),
        "SpeechMarkTypes": list(request.get("mark_types", [])),
        "TextType": request.get("text_type", "text"),
        "VoiceId": request["voice_id"],
    }
    if task.reason:
        shown["TaskStatusReason"] = task.reason
    if request.get("language"):
        shown["LanguageCode"] = request["language"]
    return shown
