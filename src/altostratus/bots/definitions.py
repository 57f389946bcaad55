"""A bot's definition in our own nouns: locales, intents, slots, slot types, prompts and responses.

These are plain frozen values. The Lex V2 models wire and the YAML format both translate into them; the NLU trains
on a `LocaleDefinition`, the dialog manager runs on one.
"""

from __future__ import annotations

import dataclasses
import enum

FALLBACK_INTENT = "FallbackIntent"
FALLBACK_PARENT = "AMAZON.FallbackIntent"
# The built-in slot types a locale may use without defining them (bots/slot_values resolves them).
BUILTIN_SLOT_TYPES = frozenset(
    {
        "AMAZON.Date",
        "AMAZON.Time",
        "AMAZON.Number",
        "AMAZON.AlphaNumeric",
        "AMAZON.City",
        "AMAZON.Country",
        "AMAZON.FirstName",
        "AMAZON.LastName",
        "AMAZON.Confirmation",
        "AMAZON.Duration",
        "AMAZON.EmailAddress",
        "AMAZON.PhoneNumber",
        "AMAZON.FreeFormInput",
        "AMAZON.State",
        "AMAZON.StreetName",
        "AMAZON.UKPostalCode",
    }
)


class Resolution(enum.Enum):
    """How a custom slot type turns what was said into a value (Lex's valueSelectionStrategy)."""

    # The words the user said, when they match a value or synonym (or any words when the type is open).
    ORIGINAL_VALUE = "OriginalValue"
    # The value whose synonym matched best.
    TOP_RESOLUTION = "TopResolution"


@dataclasses.dataclass(frozen=True)
class Message:
    """One thing the bot says: plain text, SSML, or a custom payload (Lex's message)."""

    text: str
    kind: str = "PlainText"  # PlainText | SSML | CustomPayload


@dataclasses.dataclass(frozen=True)
class Response:
    """A message group: one message, said as it is or as one of its variations (picked at random)."""

    message: Message
    variations: tuple[Message, ...] = ()

    def choices(self) -> tuple[Message, ...]:
        """Every message this response may say."""
        return (self.message, *self.variations)


@dataclasses.dataclass(frozen=True)
class Prompt:
    """A question the bot asks, with how many times it asks again when the answer does not fit."""

    responses: tuple[Response, ...]
    max_retries: int = 2
    allow_interrupt: bool = True


@dataclasses.dataclass(frozen=True)
class SlotTypeValue:
    """One value of a custom slot type and the other words that mean it."""

    value: str
    synonyms: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class SlotType:
    """A custom slot type: its values, how they resolve, an optional regex filter, or a built-in parent."""

    name: str
    values: tuple[SlotTypeValue, ...] = ()
    resolution: Resolution = Resolution.ORIGINAL_VALUE
    # A regular expression every value must match (Lex's advancedRecognitionSetting / regexFilter).
    pattern: str | None = None
    # A built-in type this one extends (Lex's parentSlotTypeSignature, e.g. AMAZON.AlphaNumeric).
    parent: str | None = None
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Slot:
    """One piece of information an intent needs."""

    name: str
    slot_type: str
    required: bool = True
    prompt: Prompt | None = None
    # Utterances the user may answer the prompt with, e.g. "I want a {RoomType} room".
    utterances: tuple[str, ...] = ()
    description: str = ""
    # Whether the dialog code hook runs on every turn that elicits this slot.
    dialog_hook: bool = True
    # A value to start from: "#Context.Slot" (an active context's value) or a literal (Lex's defaultValueList).
    default: str | None = None


@dataclasses.dataclass(frozen=True)
class Context:
    """An output context an intent sets when it is fulfilled, active for some turns or seconds."""

    name: str
    turns: int = 5
    seconds: int = 90


@dataclasses.dataclass(frozen=True)
class Intent:
    """Something a user wants, the utterances that say it, and the slots it needs."""

    name: str
    utterances: tuple[str, ...] = ()
    # In the order they are asked (Lex's slotPriorities).
    slots: tuple[Slot, ...] = ()
    confirmation: Prompt | None = None
    declination: Response | None = None
    closing: Response | None = None
    # Said when fulfilment succeeded without a code hook answering (Lex's fulfillmentUpdatesSpecification).
    fulfilled: Response | None = None
    failed: Response | None = None
    dialog_hook: bool = False
    fulfillment_hook: bool = False
    input_contexts: tuple[str, ...] = ()
    output_contexts: tuple[Context, ...] = ()
    # A built-in intent this one is (AMAZON.FallbackIntent).
    parent: str | None = None
    description: str = ""

    def slot(self, name: str) -> Slot | None:
        """The slot called `name`, or None."""
        return next((slot for slot in self.slots if slot.name == name), None)

    @property
    def is_fallback(self) -> bool:
        """Whether this is the locale's fallback intent."""
        return self.parent == FALLBACK_PARENT


@dataclasses.dataclass(frozen=True)
class LocaleDefinition:
    """A bot in one language: what the NLU trains on and the dialog manager runs."""

    locale_id: str
    intents: tuple[Intent, ...] = ()
    slot_types: tuple[SlotType, ...] = ()
    # Below this confidence the fallback intent answers (Lex's nluIntentConfidenceThreshold).
    confidence_threshold: float = 0.4
    voice_id: str | None = None
    description: str = ""
    # The function code hooks call (Lex keeps it per alias and locale; here the test alias uses this one).
    code_hook: str | None = None

    def intent(self, name: str) -> Intent | None:
        """The intent called `name`, or None."""
        return next((intent for intent in self.intents if intent.name == name), None)

    def slot_type(self, name: str) -> SlotType | None:
        """The custom slot type called `name`, or None (built-ins are not listed here)."""
        return next((kind for kind in self.slot_types if kind.name == name), None)

    @property
    def fallback(self) -> Intent:
        """The fallback intent: the one defined, or Lex's default that every locale has."""
        found = next((intent for intent in self.intents if intent.is_fallback), None)
        return found or Intent(FALLBACK_INTENT, parent=FALLBACK_PARENT)


@dataclasses.dataclass(frozen=True)
class HookSetting:
    """The function an alias calls for code hooks in one locale (Lex's codeHookSpecification lambdaARN)."""

    function: str
    interface_version: str = "1.0"


@dataclasses.dataclass(frozen=True)
class BotDefinition:
    """A whole bot: its name, how long an idle session lives, and its locales."""

    name: str
    locales: tuple[LocaleDefinition, ...] = ()
    # Lex's idleSessionTTLInSeconds: 300 by default, 60 to 86,400.
    idle_session_seconds: int = 300
    description: str = ""
    # What CreateBot is told and DescribeBot answers: the IAM role (kept, not assumed: code hooks run as the
    # function's own role) and whether the bot is directed at children under 13 (COPPA).
    role_arn: str = ""
    child_directed: bool = False

    def locale(self, locale_id: str) -> LocaleDefinition | None:
        """The locale called `locale_id`, or None."""
        return next((locale for locale in self.locales if locale.locale_id == locale_id), None)
