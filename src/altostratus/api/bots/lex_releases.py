"""Lex V2 model operations on versions and aliases (part of LexModelsApi, kept apart to keep files small)."""

from __future__ import annotations

import dataclasses
from typing import Any

from altostratus.api.bots.lex_model_shapes import refuse_unhonoured
from altostratus.api.context import Call
from altostratus.bots.builds import LocaleBuilds
from altostratus.bots.releases import DRAFT, AliasLocale, BotAlias, BotVersion, Releases
from altostratus.bots.store import BotStore
from altostratus.core.errors import ValidationError
from altostratus.core.ids import arn

ALIAS_MEMBERS = {"botId", "botAliasName", "description", "botVersion", "botAliasLocaleSettings"}


class ReleaseOperations:
    """CreateBotVersion, CreateBotAlias and their Describe, List, Update and Delete."""

    _store: BotStore
    _builds: LocaleBuilds
    _releases: Releases

    def create_bot_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, {"botId", "description", "botVersionLocaleSpecification"}, "CreateBotVersion")
        stored = self._store.get(params["botId"])
        wanted = params.get("botVersionLocaleSpecification") or {}
        for locale_id, spec in wanted.items():
            if spec.get("sourceBotVersion", DRAFT) != DRAFT:
                raise ValidationError(f"{locale_id}: a version is made from DRAFT here (sourceBotVersion DRAFT)")
        locale_ids = list(wanted) or [locale.locale_id for locale in stored.definition.locales]
        if not locale_ids:
            raise ValidationError("the bot has no locale to version")
        # Each locale as it was last built: the definition its model was trained on, with that model.
        models = {locale_id: self._builds.model_key(stored.bot_id, locale_id) for locale_id in locale_ids}
        built = []
        for locale_id in locale_ids:
            definition, _ = self._builds.built(stored.bot_id, locale_id)
            built.append(definition)
        frozen = dataclasses.replace(stored.definition, locales=tuple(built))  # the bot's settings, built locales
        version = self._releases.create_version(stored.bot_id, frozen, models, str(params.get("description", "")))
        return _version_json(version) | {"botStatus": "Available"}

    def describe_bot_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored = self._store.get(params["botId"])
        version = self._releases.version(stored.bot_id, params["botVersion"])
        return _version_json(version) | {
            "botName": version.definition.name,
            "botStatus": "Available",
            "idleSessionTTLInSeconds": version.definition.idle_session_seconds,
            "roleArn": version.definition.role_arn,
            "dataPrivacy": {"childDirected": version.definition.child_directed},
            "botType": "Bot",
        }

    def list_bot_versions(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored = self._store.get(params["botId"])
        summaries = [
            {
                "botName": v.definition.name,
                "botVersion": str(v.version),
                "description": v.description,
                "botStatus": "Available",
                "creationDateTime": v.created_at,
            }
            for v in self._releases.versions(stored.bot_id)
        ]
        return {"botId": stored.bot_id, "botVersionSummaries": summaries}

    def delete_bot_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._store.get(params["botId"])
        self._releases.delete_version(params["botId"], params["botVersion"])
        return {"botId": params["botId"], "botVersion": params["botVersion"], "botStatus": "Deleting"}

    def create_bot_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, ALIAS_MEMBERS, "CreateBotAlias")
        stored = self._store.get(params["botId"])
        version = self._existing_version(stored.bot_id, params.get("botVersion") or DRAFT)
        locales = _alias_locales(params.get("botAliasLocaleSettings"))
        alias = self._releases.create_alias(
            stored.bot_id, str(params["botAliasName"]), version, locales, str(params.get("description", ""))
        )
        return _alias_json(alias)

    def describe_bot_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._store.get(params["botId"])
        alias = self._releases.alias(params["botId"], params["botAliasId"])
        return _alias_json(alias) | {"lastUpdatedDateTime": alias.updated_at}

    def update_bot_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, ALIAS_MEMBERS | {"botAliasId"}, "UpdateBotAlias")
        self._store.get(params["botId"])
        alias = self._releases.alias(params["botId"], params["botAliasId"])
        version = self._existing_version(alias.bot_id, params.get("botVersion") or alias.version)
        changed = BotAlias(
            alias.bot_id,
            alias.alias_id,
            str(params["botAliasName"]),
            version,
            _alias_locales(params.get("botAliasLocaleSettings"))
            if "botAliasLocaleSettings" in params
            else alias.locales,
            str(params.get("description", alias.description)),
            alias.created_at,
            alias.updated_at,
        )
        updated = self._releases.update_alias(changed)
        return _alias_json(updated) | {"lastUpdatedDateTime": updated.updated_at}

    def delete_bot_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._store.get(params["botId"])
        self._releases.delete_alias(params["botId"], params["botAliasId"])
        return {"botAliasId": params["botAliasId"], "botId": params["botId"], "botAliasStatus": "Deleting"}

    def list_bot_aliases(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored = self._store.get(params["botId"])
        summaries = [
            {
                "botAliasId": a.alias_id,
                "botAliasName": a.name,
                "description": a.description,
                "botVersion": a.version,
                "botAliasStatus": "Available",
                "creationDateTime": a.created_at,
                "lastUpdatedDateTime": a.updated_at,
            }
            for a in self._releases.aliases(stored.bot_id)
        ]
        return {"botId": stored.bot_id, "botAliasSummaries": summaries}

    def _existing_version(self, bot_id: str, version: str) -> str:
        if version != DRAFT:
            self._releases.version(bot_id, version)
        return str(version)


def _alias_locales(settings: Any) -> dict[str, AliasLocale]:
    """botAliasLocaleSettings: per locale, whether it is enabled and its code hook's function."""
    locales = {}
    for locale_id, setting in (settings or {}).items():
        hook = (setting.get("codeHookSpecification") or {}).get("lambdaCodeHook") or {}
        arn = hook.get("lambdaARN")
        if hook and hook.get("codeHookInterfaceVersion", "1.0") != "1.0":
            raise ValidationError(f"{locale_id}: codeHookInterfaceVersion 1.0 is the one served")
        # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] or the function's name
        function = None if not arn else str(arn).split(":function:", 1)[-1].split(":")[0]
        locales[locale_id] = AliasLocale(bool(setting.get("enabled", True)), function)
    return locales


def _version_json(version: BotVersion) -> dict[str, Any]:
    return {
        "botId": version.bot_id,
        "botVersion": str(version.version),
        "description": version.description,
        "botVersionLocaleSpecification": {locale: {"sourceBotVersion": DRAFT} for locale in version.models},
        "creationDateTime": version.created_at,
    }


def _alias_json(alias: BotAlias, region: str = "us-east-1") -> dict[str, Any]:
    settings = {}
    for locale_id, setting in alias.locales.items():
        entry: dict[str, Any] = {"enabled": setting.enabled}
        if setting.function:
            hook = {"lambdaARN": arn("lambda", region, f"function:{setting.function}")}
            entry["codeHookSpecification"] = {"lambdaCodeHook": hook | {"codeHookInterfaceVersion": "1.0"}}
        settings[locale_id] = entry
    return {
        "botAliasId": alias.alias_id,
        "botAliasName": alias.name,
        "description": alias.description,
        "botVersion": alias.version,
        "botAliasLocaleSettings": settings,
        "botAliasStatus": "Available",
        "botId": alias.bot_id,
        "creationDateTime": alias.created_at,
    }
