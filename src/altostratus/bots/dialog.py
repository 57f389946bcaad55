"""The dialog manager: one turn of a conversation, from what the user said to what the bot says next.

It follows Lex V2: an utterance starts an intent (or the fallback, below the confidence threshold); the intent's
slots are elicited in order, each answer read as a value of its slot type, with re-prompts up to the prompt's
retries; then the intent is confirmed when it has a confirmation prompt, and fulfilled. The dialog code hook runs on
every turn of an intent that enables it, the fulfilment hook once, and either may take over the dialog.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections.abc import Callable, Mapping, Sequence

from altostratus.bots.confirmation import read_confirmation
from altostratus.bots.definitions import Intent, LocaleDefinition, Message, Response, Slot
from altostratus.bots.hooks import HookCall, RunsFunctions, call_hook
from altostratus.bots.interpretations import Interpretation, Moment, SlotValue, UnderstandsUtterances
from altostratus.bots.session import ActiveContext, Confirmation, IntentState, Session, Step

PLACEHOLDER = re.compile(r"\{(\w+)\}")
NOT_UNDERSTOOD = "Sorry, I did not understand that."
GIVING_UP = "Sorry, I could not understand. Let's start again."


@dataclasses.dataclass
class Turn:
    """One turn's outcome: the session after it, what the bot says, and how the utterance was read."""

    session: Session
    messages: list[dict[str, str]]
    interpretations: list[Interpretation]
    transcript: str


@dataclasses.dataclass(frozen=True)
class Hooks:
    """Where code hooks go for this alias and locale, and who the bot is in their events."""

    runner: RunsFunctions
    call: HookCall


class DialogManager:
    """Runs turns of one bot locale on its trained NLU."""

    def __init__(
        self,
        locale: LocaleDefinition,
        nlu: UnderstandsUtterances,
        *,
        choose: Callable[[Sequence[Message]], Message] = random.choice,
    ) -> None:
        self._locale = locale
        self._nlu = nlu
        self._choose = choose

    def turn(self, session: Session, text: str, *, moment: Moment, hooks: Hooks | None = None) -> Turn:
        """Answer `text`: update `session` in place and return what to say."""
        now = moment.now
        existing = list(session.contexts)
        session.contexts = session.active_contexts(now)
        found = self.interpret(text, moment, session)
        call = None if hooks is None else dataclasses.replace(hooks.call, transcript=text, interpretations=found)
        runner = None if hooks is None else hooks.runner
        context = _TurnContext(self, session, moment, found, runner, call)
        if not context.continue_intent(text):
            context.start_intent()
        for active in existing:
            active.turns_left -= 1
        session.contexts = [c for c in session.contexts if c.turns_left > 0 and c.expires_at > now]
        session.last_turn_at = now
        return Turn(session, context.messages, found, text)

    def interpret(self, text: str, moment: Moment, session: Session) -> list[Interpretation]:
        """The NLU's interpretations the session's active contexts allow, the fallback first below the threshold."""
        active = {context.name for context in session.active_contexts(moment.now)}
        allowed = []
        for interpretation in self._nlu.interpret(text, moment=moment, active_contexts=sorted(active)):
            intent = self._locale.intent(interpretation.intent)
            if intent is not None and set(intent.input_contexts) <= active:
                allowed.append(interpretation)
        fallback = self._locale.fallback.name
        if not allowed or (allowed[0].intent != fallback and allowed[0].confidence < self._locale.confidence_threshold):
            top = [i for i in allowed if i.intent == fallback] or [Interpretation(fallback, 1.0)]
            allowed = top + [i for i in allowed if i.intent != fallback]
        return allowed[:5]

    def say(self, response: Response | None, session: Session) -> list[dict[str, str]]:
        """A response as messages, one variation picked, with {Slot} replaced by the slot's value."""
        if response is None:
            return []
        message = self._choose(response.choices())
        values = {name: value.interpreted for name, value in session.slots.items() if value is not None}
        content = PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), message.text)
        return [{"contentType": message.kind, "content": content}]

    @property
    def locale(self) -> LocaleDefinition:
        """The locale this manager runs."""
        return self._locale

    @property
    def nlu(self) -> UnderstandsUtterances:
        """The locale's trained NLU."""
        return self._nlu


@dataclasses.dataclass
class _TurnContext:
    """The work of one turn, so that each step reads as one small method."""

    manager: DialogManager
    session: Session
    moment: Moment
    found: list[Interpretation]
    runner: RunsFunctions | None
    call: HookCall | None
    messages: list[dict[str, str]] = dataclasses.field(default_factory=list)

    @property
    def intent(self) -> Intent | None:
        return None if self.session.intent is None else self.manager.locale.intent(self.session.intent)

    def continue_intent(self, text: str) -> bool:
        """Whether the turn answered the step in progress (a slot, a confirmation); False starts a new intent."""
        intent, session = self.intent, self.session
        if intent is None or session.state is not IntentState.IN_PROGRESS:
            return False
        if session.step is Step.ELICIT_SLOT and session.slot_to_elicit:
            return self._answer_slot(intent, session.slot_to_elicit, text)
        if session.step is Step.CONFIRM_INTENT:
            return self._answer_confirmation(intent, text)
        return False

    def start_intent(self) -> None:
        """Begin the best interpretation's intent: the fallback is closed at once, others are advanced."""
        top = self.found[0]
        intent = self.manager.locale.intent(top.intent) or self.manager.locale.fallback
        self.session.start(intent.name, [slot.name for slot in intent.slots])
        if intent.is_fallback:
            self._fulfil(intent, NOT_UNDERSTOOD)
            return
        self._take_values(intent, top.slots)
        self._defaults(intent)
        self._advance(intent)

    def _answer_slot(self, intent: Intent, name: str, text: str) -> bool:
        slot = intent.slot(name)
        if slot is None:
            return False
        value = self.manager.nlu.fill_slot(intent.name, name, text, moment=self.moment)
        same = [i for i in self.found if i.intent == intent.name]
        others = same[0].slots if same else {}
        if value is None and not others and self._switches(intent):
            return False
        self._take_values(intent, {**others, **({name: value} if value is not None else {})})
        if value is None and not others:
            self.session.retries += 1
            if self.session.retries > _retries(slot):
                self._give_up(intent)
                return True
        self._advance(intent)
        return True

    def _answer_confirmation(self, intent: Intent, text: str) -> bool:
        answer = read_confirmation(text)
        same = [i for i in self.found if i.intent == intent.name and i.slots]
        if answer is not None:
            confirmed = answer == "Yes"
            self.session.confirmation = Confirmation.CONFIRMED if confirmed else Confirmation.DENIED
        elif same:
            # A correction ("make that three nights"): take the new values and confirm again.
            self._take_values(intent, same[0].slots)
            self.session.confirmation = Confirmation.NONE
        elif self._switches(intent):
            return False
        else:
            self.session.retries += 1
            if self.session.retries > (intent.confirmation.max_retries if intent.confirmation else 2):
                self._give_up(intent)
                return True
        if self.session.confirmation is Confirmation.DENIED and not self._hooked(intent.dialog_hook):
            self.session.state, self.session.step = IntentState.FAILED, Step.CLOSE
            self.messages += self.manager.say(intent.declination, self.session)
            return True
        self._advance(intent)
        return True

    def _switches(self, intent: Intent) -> bool:
        """Whether the user asked for another intent, confidently, instead of answering."""
        top = self.found[0]
        threshold = self.manager.locale.confidence_threshold
        return top.intent not in (intent.name, self.manager.locale.fallback.name) and top.confidence >= threshold

    def _advance(self, intent: Intent) -> None:
        """The next step: the dialog hook when enabled, else the next slot, the confirmation or fulfilment."""
        if self._hooked(intent.dialog_hook) and self._slot_hook_wanted(intent):
            answer = self._run_hook("DialogCodeHook")
            if self.session.step is not Step.DELEGATE:
                self.messages += answer or self._default_messages(intent)
                self._after_hook(intent)
                return
        missing = next((s for s in intent.slots if s.required and self.session.slots.get(s.name) is None), None)
        if missing is not None:
            if missing.name != self.session.slot_to_elicit:
                self.session.retries = 0
            self.session.step, self.session.slot_to_elicit = Step.ELICIT_SLOT, missing.name
            self.messages += self._prompt(missing)
            return
        if intent.confirmation is not None and self.session.confirmation is Confirmation.NONE:
            if self.session.step is not Step.CONFIRM_INTENT:
                self.session.retries = 0
            self.session.step, self.session.slot_to_elicit = Step.CONFIRM_INTENT, None
            self.messages += self.manager.say(intent.confirmation.responses[0], self.session)
            return
        if self.session.confirmation is Confirmation.DENIED:
            self.session.state, self.session.step = IntentState.FAILED, Step.CLOSE
            self.messages += self.manager.say(intent.declination, self.session)
            return
        self._fulfil(intent, None)

    def _slot_hook_wanted(self, intent: Intent) -> bool:
        slot = None if self.session.slot_to_elicit is None else intent.slot(self.session.slot_to_elicit)
        return slot is None or slot.dialog_hook

    def _fulfil(self, intent: Intent, default: str | None) -> None:
        """Fulfil the intent: by its fulfilment hook when enabled, else by saying its closing response."""
        session = self.session
        session.state, session.step, session.slot_to_elicit = IntentState.READY_FOR_FULFILLMENT, Step.CLOSE, None
        if self._hooked(intent.fulfillment_hook):
            answer = self._run_hook("FulfillmentCodeHook")
            if session.state in (IntentState.READY_FOR_FULFILLMENT, IntentState.IN_PROGRESS):
                session.state = IntentState.FULFILLED if session.step is Step.CLOSE else session.state
            self.messages += answer or self._default_messages(intent)
        else:
            session.state = IntentState.FULFILLED
            said = self.manager.say(intent.fulfilled, session) + self.manager.say(intent.closing, session)
            self.messages += said or ([] if default is None else [{"contentType": "PlainText", "content": default}])
        if session.state is IntentState.FULFILLED:
            self._set_contexts(intent)

    def _after_hook(self, intent: Intent) -> None:
        """A hook that closed a fulfilled intent sets its output contexts, as fulfilment does."""
        if self.session.step is Step.CLOSE and self.session.state is IntentState.FULFILLED:
            self._set_contexts(intent)

    def _default_messages(self, intent: Intent) -> list[dict[str, str]]:
        """What Lex says when a hook's answer has no messages: the prompt of the step it chose."""
        session = self.session
        if session.step is Step.ELICIT_SLOT and session.slot_to_elicit:
            slot = intent.slot(session.slot_to_elicit)
            return [] if slot is None else self._prompt(slot)
        if session.step is Step.CONFIRM_INTENT and intent.confirmation is not None:
            return self.manager.say(intent.confirmation.responses[0], session)
        if session.step is Step.CLOSE and session.state is IntentState.FULFILLED:
            return self.manager.say(intent.fulfilled, session) + self.manager.say(intent.closing, session)
        if session.step is Step.CLOSE and session.state is IntentState.FAILED:
            return self.manager.say(intent.failed or intent.declination, session)
        return []

    def _give_up(self, intent: Intent) -> None:
        self.session.state, self.session.step, self.session.slot_to_elicit = IntentState.FAILED, Step.CLOSE, None
        self.messages += self.manager.say(intent.failed, self.session) or [
            {"contentType": "PlainText", "content": GIVING_UP}
        ]

    def _prompt(self, slot: Slot) -> list[dict[str, str]]:
        if slot.prompt is None or not slot.prompt.responses:
            return [{"contentType": "PlainText", "content": f"What is the {slot.name}?"}]
        return self.manager.say(slot.prompt.responses[0], self.session)

    def _take_values(self, intent: Intent, values: Mapping[str, SlotValue | None]) -> None:
        for name, value in values.items():
            if value is not None and intent.slot(name) is not None:
                self.session.slots[name] = value

    def _defaults(self, intent: Intent) -> None:
        """Slots that start from a default: a literal, or a value an active context carries."""
        contexts = {context.name: context for context in self.session.active_contexts(self.moment.now)}
        for slot in intent.slots:
            if slot.default is None or self.session.slots.get(slot.name) is not None:
                continue
            value: str | None = slot.default
            if slot.default.startswith("#"):
                name, _, attribute = slot.default[1:].partition(".")
                value = contexts[name].attributes.get(attribute) if name in contexts else None
            if value:
                self.session.slots[slot.name] = SlotValue(value, value, (value,))

    def _set_contexts(self, intent: Intent) -> None:
        """A fulfilled intent's output contexts carry its slot values, for other intents' defaults."""
        values = {name: value.interpreted for name, value in self.session.slots.items() if value is not None}
        kept = [c for c in self.session.contexts if c.name not in {o.name for o in intent.output_contexts}]
        for context in intent.output_contexts:
            expires = self.moment.now + dt.timedelta(seconds=context.seconds)
            # Not counted down at the end of this turn: it lives for the next `turns` turns.
            kept.append(ActiveContext(context.name, context.turns, expires, dict(values)))
        self.session.contexts = kept

    def _hooked(self, enabled: bool) -> bool:
        return enabled and self.runner is not None and self.call is not None

    def _run_hook(self, source: str) -> list[dict[str, str]]:
        assert self.runner is not None and self.call is not None
        answer = call_hook(self.runner, self.call, source, self.session, self.moment.now)
        return answer.messages


def _retries(slot: Slot) -> int:
    return slot.prompt.max_retries if slot.prompt is not None else 2
