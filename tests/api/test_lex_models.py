"""A bot built with boto3's lexv2-models (the AWS OrderFlowers example), then spoken to and exported as YAML."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from altostratus.bots.yaml_format import load_bot
from tests.live_server import ALTO, LiveServer

pytestmark = pytest.mark.slow
DRAFT = {"botVersion": "DRAFT", "localeId": "en_US"}
ROLE = "arn:aws:iam::123456789012:role/lex"


@pytest.fixture(scope="module")
def models(server: LiveServer) -> Any:
    return server.client("lexv2-models")


def prompt(text: str) -> dict[str, Any]:
    return {"messageGroups": [{"message": {"plainTextMessage": {"value": text}}}], "maxRetries": 2}


def closing(text: str) -> dict[str, Any]:
    return {"closingResponse": {"messageGroups": [{"message": {"plainTextMessage": {"value": text}}}]}}


def new_bot(models: Any, name: str) -> str:
    created = models.create_bot(
        botName=name,
        roleArn=ROLE,
        dataPrivacy={"childDirected": False},
        idleSessionTTLInSeconds=300,
    )
    assert created["botStatus"] == "Available"
    answer = models.create_bot_locale(botId=created["botId"], nluIntentConfidenceThreshold=0.4, **DRAFT)
    assert answer["botLocaleStatus"] == "NotBuilt"
    return str(created["botId"])


def built(models: Any, bot: str) -> dict[str, Any]:
    assert models.build_bot_locale(botId=bot, **DRAFT)["botLocaleStatus"] == "Building"
    for _ in range(240):
        found: dict[str, Any] = models.describe_bot_locale(botId=bot, **DRAFT)
        if found["botLocaleStatus"] in ("Built", "Failed"):
            return found
        time.sleep(0.25)
    raise AssertionError("the build did not settle")


@pytest.fixture(scope="module")
def flowers(models: Any) -> dict[str, str]:
    bot = new_bot(models, "OrderFlowers")
    kind = models.create_slot_type(
        botId=bot,
        slotTypeName="FlowerTypes",
        slotTypeValues=[
            {"sampleValue": {"value": "roses"}},
            {"sampleValue": {"value": "tulips"}, "synonyms": [{"value": "tulip"}]},
            {"sampleValue": {"value": "lilies"}, "synonyms": [{"value": "lily"}]},
        ],
        valueSelectionSetting={"resolutionStrategy": "TopResolution"},
        **DRAFT,
    )
    intent = models.create_intent(
        botId=bot,
        intentName="OrderFlowers",
        sampleUtterances=[
            {"utterance": "I would like to order some flowers"},
            {"utterance": "I want to buy {FlowerType}"},
            {"utterance": "order {FlowerType} for {PickupDate}"},
        ],
        intentClosingSetting=closing("Your {FlowerType} will be ready on {PickupDate}."),
        **DRAFT,
    )
    where = {"botId": bot, "intentId": intent["intentId"], **DRAFT}
    date = models.create_slot(
        slotName="PickupDate",
        slotTypeId="AMAZON.Date",
        valueElicitationSetting={"slotConstraint": "Required", "promptSpecification": prompt("What day?")},
        **where,
    )
    flower = models.create_slot(
        slotName="FlowerType",
        slotTypeId=kind["slotTypeId"],
        valueElicitationSetting={"slotConstraint": "Required", "promptSpecification": prompt("What flowers?")},
        **where,
    )
    models.update_intent(
        intentName="OrderFlowers",
        sampleUtterances=intent["sampleUtterances"],
        intentClosingSetting=intent["intentClosingSetting"],
        slotPriorities=[{"priority": 1, "slotId": flower["slotId"]}, {"priority": 2, "slotId": date["slotId"]}],
        **where,
    )
    return {"bot": bot, "intent": intent["intentId"], "type": kind["slotTypeId"], "flower": flower["slotId"]}


def test_a_bot_made_with_lexv2_models_builds_and_converses(
    server: LiveServer, models: Any, flowers: dict[str, str]
) -> None:
    found = built(models, flowers["bot"])
    assert (found["botLocaleStatus"], found["failureReasons"], found["intentsCount"]) == ("Built", [], 2)
    lex = server.client("lexv2-runtime")
    where = {"botId": flowers["bot"], "botAliasId": "TSTALIASID", "localeId": "en_US", "sessionId": "flowers-1"}
    first = lex.recognize_text(text="I want to buy tulip", **where)
    assert first["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "PickupDate"}
    done = lex.recognize_text(text="the 12th", **where)
    assert done["sessionState"]["intent"]["state"] == "Fulfilled"
    assert done["messages"][0]["content"].startswith("Your tulips will be ready on ")


def test_what_was_made_is_described_listed_and_exported(
    server: LiveServer, models: Any, flowers: dict[str, str]
) -> None:
    bot, where = flowers["bot"], {"botId": flowers["bot"], **DRAFT}
    described = models.describe_bot(botId=bot)
    assert (described["botName"], described["roleArn"], described["idleSessionTTLInSeconds"]) == (
        "OrderFlowers",
        "arn:aws:iam::123456789012:role/lex",
        300,
    )
    assert bot in {b["botId"] for b in models.list_bots()["botSummaries"]}
    assert [
        loc["localeId"] for loc in models.list_bot_locales(botId=bot, botVersion="DRAFT")["botLocaleSummaries"]
    ] == ["en_US"]
    assert [i["intentName"] for i in models.list_intents(**where)["intentSummaries"]] == [
        "FallbackIntent",
        "OrderFlowers",
    ]
    intent = models.describe_intent(intentId=flowers["intent"], **where)
    assert next(p["slotId"] for p in intent["slotPriorities"]) == flowers["flower"]
    slots = models.list_slots(intentId=flowers["intent"], **where)["slotSummaries"]
    assert {(s["slotName"], s["slotTypeId"]) for s in slots} == {
        ("FlowerType", flowers["type"]),
        ("PickupDate", "AMAZON.Date"),
    }
    kind = models.describe_slot_type(slotTypeId=flowers["type"], **where)
    assert [v["sampleValue"]["value"] for v in kind["slotTypeValues"]] == ["roses", "tulips", "lilies"]
    assert kind["valueSelectionSetting"]["resolutionStrategy"] == "TopResolution"
    slot = models.describe_slot(intentId=flowers["intent"], slotId=flowers["flower"], **where)
    assert slot["valueElicitationSetting"]["promptSpecification"]["messageGroups"][0]["message"] == {
        "plainTextMessage": {"value": "What flowers?"}
    }
    exported = subprocess.run(
        [ALTO, "bots", "export", bot, "--data-dir", str(server.data_dir)], capture_output=True, text=True, check=True
    )
    locale = load_bot(exported.stdout).locale("en_US")
    assert locale is not None and [s.name for s in locale.intent("OrderFlowers").slots] == ["FlowerType", "PickupDate"]


def test_updates_and_deletes(models: Any) -> None:
    bot = new_bot(models, "Editable")
    where = {"botId": bot, **DRAFT}
    models.update_bot(
        botId=bot,
        botName="Edited",
        roleArn="arn:aws:iam::123456789012:role/edited",
        dataPrivacy={"childDirected": True},
        idleSessionTTLInSeconds=600,
    )
    assert (models.describe_bot(botId=bot)["botName"], models.describe_bot(botId=bot)["dataPrivacy"]) == (
        "Edited",
        {"childDirected": True},
    )
    models.update_bot_locale(nluIntentConfidenceThreshold=0.6, voiceSettings={"voiceId": "Slt"}, **where)
    locale = models.describe_bot_locale(**where)
    assert (locale["nluIntentConfidenceThreshold"], locale["voiceSettings"]["voiceId"]) == (0.6, "Slt")
    intent = models.create_intent(intentName="Greet", sampleUtterances=[{"utterance": "hello"}], **where)
    models.update_intent(
        intentId=intent["intentId"], intentName="Greet", sampleUtterances=[{"utterance": "hi there"}], **where
    )
    assert models.describe_intent(intentId=intent["intentId"], **where)["sampleUtterances"] == [
        {"utterance": "hi there"}
    ]
    kind = models.create_slot_type(slotTypeName="Colour", slotTypeValues=[{"sampleValue": {"value": "red"}}], **where)
    slot = models.create_slot(
        intentId=intent["intentId"],
        slotName="Favourite",
        slotTypeId=kind["slotTypeId"],
        valueElicitationSetting={"slotConstraint": "Optional"},
        **where,
    )
    with pytest.raises(ClientError) as in_use:
        models.delete_slot_type(slotTypeId=kind["slotTypeId"], **where)
    assert in_use.value.response["Error"]["Code"] == "ConflictException"
    models.delete_slot(intentId=intent["intentId"], slotId=slot["slotId"], **where)
    models.delete_slot_type(slotTypeId=kind["slotTypeId"], **where)
    models.delete_intent(intentId=intent["intentId"], **where)
    assert [i["intentName"] for i in models.list_intents(**where)["intentSummaries"]] == ["FallbackIntent"]
    models.delete_bot_locale(**where)
    assert models.list_bot_locales(botId=bot, botVersion="DRAFT")["botLocaleSummaries"] == []
    models.delete_bot(botId=bot)
    with pytest.raises(ClientError) as gone:
        models.describe_bot(botId=bot)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_build_at_fault_fails_naming_the_intent_and_slot(models: Any) -> None:
    bot = new_bot(models, "Faulty")
    where = {"botId": bot, **DRAFT}
    intent = models.create_intent(intentName="AskName", sampleUtterances=[{"utterance": "my name is {Name}"}], **where)
    models.create_slot(
        intentId=intent["intentId"],
        slotName="Name",
        slotTypeId="AMAZON.FirstName",
        valueElicitationSetting={"slotConstraint": "Required"},
        **where,
    )
    found = built(models, bot)
    assert found["botLocaleStatus"] == "Failed"
    assert any("AskName" in reason and "Name" in reason for reason in found["failureReasons"]), found["failureReasons"]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda m, b: m.create_bot(
                botName="OrderFlowers", roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=300
            ),
            "ConflictException",
        ),
        (lambda m, b: m.describe_bot(botId="NOSUCHBOT1"), "ResourceNotFoundException"),
        (lambda m, b: m.describe_bot_locale(botId=b, botVersion="1", localeId="en_US"), "ResourceNotFoundException"),
        (
            lambda m, b: m.describe_bot_locale(botId=b, botVersion="DRAFT", localeId="fr_FR"),
            "ResourceNotFoundException",
        ),
        (lambda m, b: m.describe_intent(botId=b, intentId="NOSUCHINTE", **DRAFT), "ResourceNotFoundException"),
        (
            lambda m, b: m.create_intent(
                botId=b,
                intentName="Kendra",
                kendraConfiguration={"kendraIndex": "arn:aws:kendra:us-east-1:1:index/x"},
                **DRAFT,
            ),
            "ValidationException",
        ),
        (
            lambda m, b: m.list_intents(
                botId=b, filters=[{"name": "IntentName", "values": ["x"], "operator": "CO"}], **DRAFT
            ),
            "ValidationException",
        ),
    ],
)
def test_bad_requests_are_lex_errors(models: Any, flowers: dict[str, str], call: Any, code: str) -> None:
    with pytest.raises(ClientError) as refused:
        call(models, flowers["bot"])
    assert refused.value.response["Error"]["Code"] == code


def test_an_alias_keeps_answering_from_its_version_while_draft_changes(
    server: LiveServer, models: Any, flowers: dict[str, str]
) -> None:
    bot, where = flowers["bot"], {"botId": flowers["bot"], **DRAFT}
    assert built(models, bot)["botLocaleStatus"] == "Built"
    version = models.create_bot_version(
        botId=bot, botVersionLocaleSpecification={"en_US": {"sourceBotVersion": "DRAFT"}}
    )
    assert version["botStatus"] == "Available"
    number = version["botVersion"]
    alias = models.create_bot_alias(botId=bot, botAliasName="Prod", botVersion=number)
    assert (alias["botAliasStatus"], alias["botVersion"]) == ("Available", number)
    kind = models.describe_slot_type(slotTypeId=flowers["type"], **where)
    values = [*kind["slotTypeValues"], {"sampleValue": {"value": "orchids"}}]
    models.update_slot_type(
        slotTypeId=flowers["type"],
        slotTypeName="FlowerTypes",
        slotTypeValues=values,
        valueSelectionSetting=kind["valueSelectionSetting"],
        **where,
    )
    assert built(models, bot)["botLocaleStatus"] == "Built"
    lex = server.client("lexv2-runtime")

    def asked(alias_id: str, session: str) -> str:
        answer = lex.recognize_text(
            botId=bot, botAliasId=alias_id, localeId="en_US", sessionId=session, text="I want to buy orchids"
        )
        return str(answer["sessionState"]["dialogAction"]["slotToElicit"])

    assert asked("TSTALIASID", "draft-1") == "PickupDate"  # DRAFT knows orchids now
    assert asked(alias["botAliasId"], "prod-1") == "FlowerType"  # the version does not
    listed = models.list_bot_aliases(botId=bot)["botAliasSummaries"]
    assert {(a["botAliasName"], a["botVersion"]) for a in listed} == {("Prod", number)}
    assert [v["botVersion"] for v in models.list_bot_versions(botId=bot)["botVersionSummaries"]] == [number]
    with pytest.raises(ClientError) as in_use:
        models.delete_bot_version(botId=bot, botVersion=number)
    assert in_use.value.response["Error"]["Code"] == "ConflictException"
    models.update_bot_alias(botId=bot, botAliasId=alias["botAliasId"], botAliasName="Prod", botVersion="DRAFT")
    assert asked(alias["botAliasId"], "prod-2") == "PickupDate"
    models.delete_bot_alias(botId=bot, botAliasId=alias["botAliasId"])
    with pytest.raises(ClientError) as gone:
        lex.recognize_text(botId=bot, botAliasId=alias["botAliasId"], localeId="en_US", sessionId="prod-3", text="hi")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    models.delete_bot_version(botId=bot, botVersion=number)
    assert models.list_bot_versions(botId=bot)["botVersionSummaries"] == []


@pytest.mark.parametrize("role", ["read-only", "function"])
def test_keys_that_may_not_write_cannot_change_bots_or_talk_to_them(
    server: LiveServer, flowers: dict[str, str], role: str
) -> None:
    made = subprocess.run(
        [ALTO, "keys", "create", "--role", role, "--json", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(made.stdout)
    signed = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
    models, lex = server.client("lexv2-models", **signed), server.client("lexv2-runtime", **signed)
    bot = flowers["bot"]
    writes = [
        lambda: models.create_bot(
            botName="Sneaky", roleArn=ROLE, dataPrivacy={"childDirected": False}, idleSessionTTLInSeconds=300
        ),
        lambda: models.build_bot_locale(botId=bot, **DRAFT),
        lambda: models.delete_bot(botId=bot),
        lambda: lex.recognize_text(botId=bot, botAliasId="TSTALIASID", localeId="en_US", sessionId="s-1", text="hi"),
        lambda: lex.delete_session(botId=bot, botAliasId="TSTALIASID", localeId="en_US", sessionId="s-1"),
    ]
    for write in writes:
        with pytest.raises(ClientError) as denied:
            write()
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    describe = lambda: models.describe_bot(botId=bot)  # noqa: E731
    if role == "read-only":
        assert describe()["botName"] == "OrderFlowers"
    else:
        with pytest.raises(ClientError) as denied:
            describe()
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
