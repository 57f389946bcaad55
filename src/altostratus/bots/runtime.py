"""Talking to a built bot: one turn at a time, with the session kept between turns in the metadata store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from altostratus.bots.builds import LocaleBuilds
from altostratus.bots.conversation_log import ConversationLog, turn_record
from altostratus.bots.definitions import LocaleDefinition
from altostratus.bots.dialog import DialogManager, Hooks, Turn
from altostratus.bots.hooks import BotIdentity, HookCall, RunsFunctions
from altostratus.bots.interpretations import Moment, UnderstandsUtterances
from altostratus.bots.releases import DRAFT, BotAlias, Releases
from altostratus.bots.session import IntentState, Session
from altostratus.bots.store import BotNotFound, BotStore, SessionKey
from altostratus.core.clock import Clock
from altostratus.core.errors import ValidationError

# The alias every Lex V2 bot has, pointing at its draft version.
TEST_ALIAS = "TSTALIASID"
TEST_ALIAS_NAME = "TestBotAlias"
MAX_TEXT = 1024
# Lex reads the user's time zone from this request attribute; relative dates are resolved in it.
TIME_ZONE_ATTRIBUTE = "x-amz-lex:time-zone"
DEFAULT_VOICE = "Joe"


@dataclasses.dataclass(frozen=True)
class TurnRequest:
    """What a user said, to which bot, alias, locale and session, with the attributes the client sent."""

    key: SessionKey
    text: str
    request_attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    session_attributes: Mapping[str, str] | None = None
    input_mode: str = "Text"


@dataclasses.dataclass(frozen=True)
class Served:
    """What one alias serves for one locale: the definition and NLU, and where its code hooks go."""

    bot_name: str
    locale: LocaleDefinition
    nlu: UnderstandsUtterances
    function: str | None
    alias_name: str
    version: str
    idle_seconds: int


class BotRuntime:
    """Runs conversations with built bots."""

    def __init__(
        self,
        store: BotStore,
        builds: LocaleBuilds,
        hooks: RunsFunctions | None,
        clock: Clock,
        log: ConversationLog | None = None,
        releases: Releases | None = None,
    ) -> None:
        self._store = store
        self._builds = builds
        self._hooks = hooks
        self._clock = clock
        self._log = log
        self._releases = releases

    def turn(self, request: TurnRequest) -> Turn:
        """Answer one utterance; an expired or unknown session starts afresh, as Lex does."""
        text = request.text.strip()
        if not text or len(request.text) > MAX_TEXT:
            raise ValidationError(f"text has {len(request.text)} characters; expected 1 to {MAX_TEXT}")
        key = request.key
        served = self._built(key)
        locale = served.locale
        session = self._store.session(key) or Session(key.session_id)
        if request.session_attributes is not None:
            session.attributes = dict(request.session_attributes)
        moment = Moment(self._now(request.request_attributes), _zone_name(request.request_attributes))
        manager = DialogManager(locale, served.nlu)
        hooks = self._hooks_for(key, served, request)
        turn = manager.turn(session, text, moment=moment, hooks=hooks)
        self._store.save_session(key, session, served.idle_seconds)
        if self._log is not None:
            at = self._clock.now()
            self._log.record(turn_record(at, key, request.input_mode, request.text, turn, locale.fallback.name))
        return turn

    def session(self, key: SessionKey) -> Session:
        """The session as it stands; BotNotFound when there is none (or it expired)."""
        self._check_alias(key)
        found = self._store.session(key)
        if found is None:
            raise BotNotFound(f"Session {key.session_id!r} does not exist or has expired")
        return found

    def delete_session(self, key: SessionKey) -> Session:
        """Forget the session and return it as it was."""
        found = self.session(key)
        self._store.delete_session(key)
        return found

    def put_session(self, key: SessionKey, session: Session) -> Session:
        """Replace the session's state with the one given (Lex's PutSession); its intent must be the locale's."""
        served = self._built(key)
        locale = served.locale
        if (
            session.intent is not None
            and locale.intent(session.intent) is None
            and session.intent != locale.fallback.name
        ):
            raise ValidationError(f"sessionState.intent.name {session.intent!r} is not an intent of {key.locale_id}")
        if session.state is None and session.intent is not None:
            session.state = IntentState.IN_PROGRESS
        session.last_turn_at = self._clock.now()
        self._store.save_session(key, session, served.idle_seconds)
        return session

    def voice_of(self, key: SessionKey) -> str:
        """The voice the locale answers in (Joe, the neural voice, unless the definition names one)."""
        return self._built(key).locale.voice_id or DEFAULT_VOICE

    def _built(self, key: SessionKey) -> Served:
        """What the alias serves: the test alias and DRAFT aliases the last build, others their version."""
        bot = self._store.get(key.bot_id)
        alias = self._alias(key)
        if alias is None or alias.version == DRAFT:
            locale, nlu = self._builds.built(key.bot_id, key.locale_id)
            version, definition = DRAFT, bot.definition
        else:
            frozen = self._releases.version(key.bot_id, alias.version) if self._releases else None
            found = None if frozen is None else frozen.definition.locale(key.locale_id)
            if frozen is None or found is None or key.locale_id not in frozen.models:
                raise BotNotFound(f"Locale {key.locale_id!r} is not in version {alias.version} of this bot")
            locale, nlu, version, definition = (
                found,
                self._builds.model(frozen.models[key.locale_id], found),
                alias.version,
                frozen.definition,
            )
        settings = None if alias is None else alias.locales.get(key.locale_id)
        if alias is not None and settings is not None and not settings.enabled:
            raise BotNotFound(f"Locale {key.locale_id!r} is not enabled on bot alias {alias.name!r}")
        function = (settings.function if settings else None) or locale.code_hook
        alias_name = TEST_ALIAS_NAME if alias is None else alias.name
        return Served(definition.name, locale, nlu, function, alias_name, version, definition.idle_session_seconds)

    def _check_alias(self, key: SessionKey) -> BotAlias | None:
        """The alias (None for the test alias); BotNotFound for a bot or alias that does not exist."""
        self._store.get(key.bot_id)
        return self._alias(key)

    def _alias(self, key: SessionKey) -> BotAlias | None:
        if key.alias_id == TEST_ALIAS:
            return None
        if self._releases is None:
            raise BotNotFound(f"Bot alias {key.alias_id!r} does not exist; this bot has {TEST_ALIAS}")
        return self._releases.alias(key.bot_id, key.alias_id)

    def _hooks_for(self, key: SessionKey, served: Served, request: TurnRequest) -> Hooks | None:
        if served.function is None or self._hooks is None:
            return None
        identity = BotIdentity(
            key.bot_id, served.bot_name, key.alias_id, served.alias_name, key.locale_id, served.version
        )
        attributes = dict(request.request_attributes)
        call = HookCall(identity, served.function, request.text, [], attributes, request.input_mode)
        return Hooks(self._hooks, call)

    def _now(self, attributes: Mapping[str, str]) -> dt.datetime:
        return self._clock.now().astimezone(_zone(attributes))


def _zone_name(attributes: Mapping[str, str]) -> str:
    return attributes.get(TIME_ZONE_ATTRIBUTE, "UTC")


def _zone(attributes: Mapping[str, str]) -> ZoneInfo:
    name = _zone_name(attributes)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"requestAttributes {TIME_ZONE_ATTRIBUTE}={name!r}; expected an IANA time zone") from None
