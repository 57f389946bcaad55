"""The FunctionsService: deploy functions, keep their versions and aliases, and invoke them on a runtime."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Mapping
from typing import Any, Protocol

from altostratus.auth.keys import AccessKey, AccessKeyNotFound, KeyStore, Role
from altostratus.core import json_input
from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError, NotImplementedOperation
from altostratus.core.ids import request_id as new_request_id
from altostratus.functions import validation
from altostratus.functions.cache import ReadCache
from altostratus.functions.definitions import (
    DEFAULT_EPHEMERAL,
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    LATEST,
    MAX_PAYLOAD_BYTES,
    RUNTIME,
    FunctionConfig,
    FunctionState,
    Invocation,
    InvocationType,
    Outcome,
    RunSpec,
)
from altostratus.functions.deployment import CodeDeployment, CodeSource
from altostratus.functions.errors import (
    FunctionNotFound,
    InvalidFunctionParameter,
    InvalidRequestContent,
    PayloadTooLarge,
    ResourceConflict,
    revision_mismatch,
)
from altostratus.functions.names import FunctionRef, check_alias_name, function_arn, parse_ref
from altostratus.functions.registry import Alias, FunctionRegistry, InvocationRecord, new_revision_id

log = logging.getLogger(__name__)
# Invoke's LogResult carries the last 4 KB of the log; the record keeps more.
LOG_TAIL_BYTES = 4 * 1024
LOG_KEEP_CHARS = 64 * 1024


class Runtime(Protocol):
    """Runs function versions in isolated workers (altostratus.functions.runtime.ProcessRuntime)."""

    def run(self, spec: RunSpec, invocation: Invocation) -> Outcome:
        """Run one invocation to its outcome."""
        ...

    def retire(self, function_name: str, version: str | None = None) -> None:
        """End the idle workers of a deleted function (or of one deleted version); busy ones end when done."""
        ...

    def shutdown(self) -> None:
        """Stop every worker."""
        ...


@dataclasses.dataclass(frozen=True)
class InvokeResult:
    """What one synchronous invocation returns to its caller."""

    request_id: str
    executed_version: str
    outcome: Outcome
    log_tail: bytes | None = None


class FunctionsService:
    """Functions with numbered versions and aliases, their code and dependencies, and their invocations."""

    def __init__(
        self,
        registry: FunctionRegistry,
        deployment: CodeDeployment,
        runtime: Runtime,
        keys: KeyStore,
        clock: Clock,
        *,
        region: str,
        endpoint_url: str,
    ) -> None:
        self._registry = registry
        self._hot = ReadCache(clock)
        registry.on_change(self._hot.clear)
        self._deployment = deployment
        self._runtime = runtime
        self._keys = keys
        self._clock = clock
        self.region = region
        self._endpoint_url = endpoint_url

    def close(self) -> None:
        """Write the invocation records still batched (the server is stopping)."""
        self._registry.close()

    def arn(self, name: str, qualifier: str | None = None) -> str:
        """The function's ARN, with the qualifier when one is given."""
        return function_arn(self.region, name, qualifier)

    # Deploying

    def create(
        self,
        name: str,
        *,
        handler: str,
        code: CodeSource,
        runtime: str = RUNTIME,
        role: str = "",
        description: str = "",
        timeout: int = DEFAULT_TIMEOUT,
        memory: int = DEFAULT_MEMORY,
        environment: Mapping[str, str] | None = None,
        dead_letter_target: str = "",
        ephemeral_storage: int = DEFAULT_EPHEMERAL,
        vpc_config: Mapping[str, Any] | None = None,
        publish: bool = False,
    ) -> FunctionConfig:
        """A new function from a zip; Pending while its requirements.txt installs, then Active (or Failed)."""
        ref = parse_ref(name, qualified=False)
        config = FunctionConfig(
            name=ref.name,
            version=LATEST,
            handler=validation.handler(handler),
            code_sha256="",
            code_size=0,
            code_blob_key="",
            timeout=validation.timeout(timeout),
            memory=validation.memory(memory),
            environment=validation.environment(environment or {}),
            description=description,
            role=role,
            dead_letter_target=validation.dead_letter_target(dead_letter_target),
            revision_id=new_revision_id(),
            last_modified=self._clock.now(),
            runtime=validation.runtime(runtime),
            ephemeral_storage=validation.ephemeral_storage(ephemeral_storage),
            vpc_config=validation.vpc_config(vpc_config or {}),
        )
        if self._registry.version(ref.name, LATEST) is not None:
            raise ResourceConflict(f"Function already exist: {ref.name}")
        config = self._deployment.settled(self._deployment.with_code(config, self._deployment.package(code)))
        key = self._keys.create(Role.FUNCTION, description=f"function {ref.name}")
        try:
            self._registry.create(config, key.access_key_id, self._clock.now())
        except AltoError:
            self._keys.delete(key.access_key_id)
            self._release(config)
            raise
        self._deployment.queue_install_if_pending(config)
        return self.publish_version(ref.name) if publish else config

    def update_code(
        self, name: str, code: CodeSource, *, publish: bool = False, revision_id: str | None = None
    ) -> FunctionConfig:
        """Replace $LATEST's code; with publish, also publish it as a new version and return that."""
        current = self._latest(name, revision_id)
        updated = self._deployment.with_code(self._touched(current), self._deployment.package(code))
        self._save(self._deployment.settled(updated), current)
        if publish:
            return self.publish_version(current.name)
        return self._latest(current.name)

    def update_configuration(
        self,
        name: str,
        *,
        revision_id: str | None = None,
        handler: str | None = None,
        runtime: str | None = None,
        role: str | None = None,
        description: str | None = None,
        timeout: int | None = None,
        memory: int | None = None,
        environment: Mapping[str, str] | None = None,
        dead_letter_target: str | None = None,
        ephemeral_storage: int | None = None,
        vpc_config: Mapping[str, Any] | None = None,
    ) -> FunctionConfig:
        """Change $LATEST's settings (None: keep); a new handler is checked against the code again."""
        current = self._latest(name, revision_id)
        changes: dict[str, Any] = {
            "handler": None if handler is None else validation.handler(handler),
            "runtime": None if runtime is None else validation.runtime(runtime),
            "role": role,
            "description": description,
            "timeout": None if timeout is None else validation.timeout(timeout),
            "memory": None if memory is None else validation.memory(memory),
            "environment": None if environment is None else validation.environment(environment),
            "dead_letter_target": (
                None if dead_letter_target is None else validation.dead_letter_target(dead_letter_target)
            ),
            "ephemeral_storage": None if ephemeral_storage is None else validation.ephemeral_storage(ephemeral_storage),
            "vpc_config": None if vpc_config is None else validation.vpc_config(vpc_config),
        }
        updated = dataclasses.replace(self._touched(current), **{k: v for k, v in changes.items() if v is not None})
        self._save(self._deployment.settled(updated), current)
        return self._latest(current.name)

    def publish_version(
        self,
        name: str,
        *,
        code_sha256: str | None = None,
        description: str | None = None,
        revision_id: str | None = None,
    ) -> FunctionConfig:
        """Snapshot $LATEST as the next version number; the newest version when nothing changed since it."""
        latest = self._latest(name, revision_id)
        if code_sha256 is not None and code_sha256 != latest.code_sha256:
            raise InvalidFunctionParameter(
                f"CodeSha256 ({code_sha256}) is different from current CodeSha256 in $LATEST "
                f"({latest.code_sha256}). Please try again with the current CodeSha256."
            )
        return self._registry.publish(latest.name, description, self._clock.now())

    def delete(self, name: str, qualifier: str | None = None) -> None:
        """Delete the function with everything it has, or with a version number only that version."""
        ref = parse_ref(name, qualifier)
        if ref.qualifier is None:
            access_key_id, unused = self._registry.delete(ref.name)
            with contextlib.suppress(AccessKeyNotFound):
                self._keys.delete(access_key_id)
        elif ref.qualifier == LATEST:
            raise InvalidFunctionParameter("$LATEST version cannot be deleted without deleting the function.")
        elif ref.is_alias:
            raise InvalidFunctionParameter(
                f"Qualifier={ref.qualifier!r} names an alias; expected a version number "
                "(aliases are deleted with DeleteAlias)"
            )
        else:
            unused = self._registry.delete_version(ref.name, ref.qualifier)
        self._runtime.retire(ref.name, ref.qualifier)
        self._deployment.release(unused.blob_keys, unused.code_sha256s)

    # Reading

    def get(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        """The version a name (and qualifier: version or alias) resolves to; $LATEST when unqualified."""
        return self._resolve(parse_ref(name, qualifier))

    def functions(self, *, all_versions: bool = False) -> list[FunctionConfig]:
        """Every function's $LATEST (or every version of every function), by name."""
        return self._registry.functions(all_versions=all_versions)

    def versions(self, name: str) -> list[FunctionConfig]:
        """Every version of a function: $LATEST, then the published ones by number."""
        ref = parse_ref(name, qualified=False)
        found = self._registry.versions(ref.name)
        if not found:
            raise FunctionNotFound(f"Function not found: {self.arn(ref.name)}")
        return found

    # Aliases

    def create_alias(
        self,
        name: str,
        alias: str,
        version: str,
        *,
        description: str = "",
        routing: Mapping[str, float] | None = None,
    ) -> Alias:
        """A new alias for a version, optionally routing a share of invocations to one other version."""
        ref = parse_ref(name, qualified=False)
        self._latest(ref.name)
        created = Alias(
            function_name=ref.name,
            name=check_alias_name(alias),
            function_version=self._existing_version(ref.name, version),
            description=description,
            routing=self._routing(ref.name, version, routing or {}),
            revision_id=new_revision_id(),
        )
        return self._registry.create_alias(created)

    def get_alias(self, name: str, alias: str) -> Alias:
        """One alias; ResourceNotFoundException if the function or the alias does not exist."""
        ref = parse_ref(name, qualified=False)
        found = self._hot.get(("alias", ref.name, alias), lambda: self._registry.alias(ref.name, alias))
        if found is None:
            self._latest(ref.name)
            raise FunctionNotFound(f"Alias not found: {self.arn(ref.name, alias)}")
        return found

    def aliases(self, name: str, *, version: str | None = None) -> list[Alias]:
        """The function's aliases by name, optionally only those pointing at one version."""
        ref = parse_ref(name, qualified=False)
        self._latest(ref.name)
        found = self._registry.aliases(ref.name)
        return [a for a in found if version is None or a.function_version == version]

    def update_alias(
        self,
        name: str,
        alias: str,
        *,
        version: str | None = None,
        description: str | None = None,
        routing: Mapping[str, float] | None = None,
        revision_id: str | None = None,
    ) -> Alias:
        """Point an alias elsewhere, or change its description or routing (None: keep)."""
        current = self.get_alias(name, alias)
        _check_revision(current.revision_id, revision_id)
        target = current.function_version if version is None else self._existing_version(current.function_name, version)
        updated = dataclasses.replace(
            current,
            function_version=target,
            description=current.description if description is None else description,
            routing=self._routing(current.function_name, target, current.routing if routing is None else routing),
            revision_id=new_revision_id(),
        )
        return self._registry.replace_alias(updated, current.revision_id)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias; no error when it does not exist, as Lambda answers."""
        ref = parse_ref(name, qualified=False)
        self._latest(ref.name)
        self._registry.delete_alias(ref.name, alias)

    # Invoking

    def check_invocable(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        """The version an invocation would run; ResourceConflictException unless it is Active (DryRun)."""
        config = self._pick_routed(parse_ref(name, qualifier))
        if config.state is not FunctionState.ACTIVE:
            reason = f" ({config.state_reason})" if config.state is FunctionState.FAILED else ""
            raise ResourceConflict(
                "The operation cannot be performed at this time. "
                f"The function is currently in the following state: {config.state}{reason}"
            )
        return config

    def invoke(
        self,
        name: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        log_type: str | None = None,
        client_context: str | None = None,
        request_id: str | None = None,
        invocation_type: InvocationType = InvocationType.REQUEST_RESPONSE,
        trace_id: str = "",
    ) -> InvokeResult:
        """Run the function on the event payload and wait for its answer.

        request_id lets a caller that retries (an Event job) give every attempt the same id; the record of
        the invocation carries invocation_type. LogType=Tail returns the last 4 KB of the log. trace_id becomes
        the handler's _X_AMZN_TRACE_ID, which boto3 inside it sends on as X-Amzn-Trace-Id.
        """
        if invocation_type is InvocationType.DRY_RUN:
            raise NotImplementedOperation("InvocationType=DryRun runs nothing; use check_invocable")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
            )
        event = payload if payload.strip() else b"{}"
        _check_json(event)
        config = self.check_invocable(name, qualifier)
        invocation = Invocation(request_id or new_request_id(), event, client_context, trace_id)
        spec = self.run_spec(config)
        started = self._clock.now()
        try:
            outcome = self._runtime.run(spec, invocation)
        except Exception as error:
            failed = Outcome(b"", type(error).__name__, f"{type(error).__name__}: {error}\n", 0.0, False)
            self._record(config, invocation, invocation_type, started, failed)
            raise
        self._record(config, invocation, invocation_type, started, outcome)
        tail = outcome.log.encode()[-LOG_TAIL_BYTES:] if log_type == "Tail" else None
        return InvokeResult(invocation.request_id, config.version, outcome, tail)

    def access_key_id(self, name: str) -> str:
        """The id of the function's own access key: the principalId of the lake events its writes cause."""
        return self._registry.access_key_id(parse_ref(name).name)

    def run_spec(self, config: FunctionConfig) -> RunSpec:
        """What a worker needs to run this version: its code, dependencies, limits and environment."""
        key = self._function_key(config.name)
        return RunSpec(
            function_name=config.name,
            version=config.version,
            handler=config.handler,
            code_dir=self._deployment.code_dir(config),
            deps_dir=self._deployment.deps_dir(config),
            environment=self._environment(config, key),
            timeout=float(config.timeout),
            memory_mb=config.memory,
            ephemeral_mb=config.ephemeral_storage,
            outbound_network=config.outbound_network,
            principal=key.access_key_id,
        )

    def invocations(self, name: str, *, limit: int = 50, **filters: Any) -> list[InvocationRecord]:
        """The function's recorded invocations, newest first unless newest_first=False (see FunctionRegistry)."""
        ref = parse_ref(name, qualified=False)
        return self._registry.invocations(ref.name, limit=limit, **filters)

    # Dependencies (a job on the platform's queue)

    def install_dependencies(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Job handler: install one requirements.txt, then settle the function's versions waiting on it."""
        name, key = str(payload["function"]), str(payload["requirements_key"])
        deps_dir, failure = self._deployment.install(payload)

        def resolve(config: FunctionConfig) -> tuple[FunctionState, str, str]:
            if deps_dir is None:
                return FunctionState.FAILED, failure, "DependencyError"
            after = self._deployment.settled(config, deps_dir)
            return after.state, after.state_reason, after.state_reason_code

        settled = self._registry.settle_pending(name, key, resolve)
        return {"function": name, "installed": deps_dir is not None, "settled": settled}

    # Helpers

    def _save(self, updated: FunctionConfig, current: FunctionConfig) -> None:
        try:
            self._registry.replace(updated, current.revision_id)
        except AltoError:
            if updated.code_blob_key != current.code_blob_key:
                self._release(updated)
            raise
        if updated.code_blob_key != current.code_blob_key:
            self._release(current)
        self._deployment.queue_install_if_pending(updated)

    def _release(self, config: FunctionConfig) -> None:
        """Drop the version's code blob and unpacked folder unless another version still refers to them."""
        unused = self._registry.unused([config])
        self._deployment.release(unused.blob_keys, unused.code_sha256s)

    def _touched(self, config: FunctionConfig) -> FunctionConfig:
        return dataclasses.replace(config, revision_id=new_revision_id(), last_modified=self._clock.now())

    def _latest(self, name: str, revision_id: str | None = None) -> FunctionConfig:
        ref = parse_ref(name, qualified=False)
        found = self._registry.version(ref.name, LATEST)
        if found is None:
            raise FunctionNotFound(f"Function not found: {self.arn(ref.name)}")
        _check_revision(found.revision_id, revision_id)
        return found

    def _resolve(self, ref: FunctionRef) -> FunctionConfig:
        version = ref.qualifier or LATEST
        if ref.is_alias:
            version = self.get_alias(ref.name, version).function_version
        found = self._hot.get(("version", ref.name, version), lambda: self._registry.version(ref.name, version))
        if found is None:
            raise FunctionNotFound(f"Function not found: {self.arn(ref.name, ref.qualifier)}")
        return found

    def _pick_routed(self, ref: FunctionRef) -> FunctionConfig:
        """The version to run: an alias with routing sends each extra version its share of invocations."""
        if ref.is_alias and ref.qualifier is not None:
            alias = self.get_alias(ref.name, ref.qualifier)
            draw = random.random()
            for version, weight in alias.routing.items():
                if draw < weight:
                    return self._resolve(FunctionRef(ref.name, version))
                draw -= weight
        return self._resolve(ref)

    def _existing_version(self, name: str, version: str) -> str:
        if self._registry.version(name, version) is None:
            raise FunctionNotFound(f"Function not found: {self.arn(name, version)}")
        return version

    def _routing(self, name: str, primary: str, routing: Mapping[str, float]) -> dict[str, float]:
        checked = validation.routing(primary, routing)
        for version in checked:
            self._existing_version(name, version)
        return checked

    def _environment(self, config: FunctionConfig, key: AccessKey) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self._endpoint_url,
            **config.environment,
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory),
        }

    def _function_key(self, name: str) -> AccessKey:
        access_key_id = self._hot.get(("key", name), lambda: self._registry.access_key_id(name))
        key = self._keys.get(access_key_id)
        if key is None:
            # The operator deleted the function's key: give the function a new one rather than fail it.
            key = self._keys.create(Role.FUNCTION, description=f"function {name}")
            self._registry.set_access_key(name, key.access_key_id)
        return key

    def _record(
        self,
        config: FunctionConfig,
        invocation: Invocation,
        invocation_type: InvocationType,
        started: dt.datetime,
        outcome: Outcome,
    ) -> None:
        text = outcome.log
        if len(text) > LOG_KEEP_CHARS:
            text = f"[... {len(text) - LOG_KEEP_CHARS} characters cut ...]\n" + text[-LOG_KEEP_CHARS:]
        record = InvocationRecord(
            request_id=invocation.request_id,
            function_name=config.name,
            version=config.version,
            invocation_type=str(invocation_type),
            started_at=started,
            duration_ms=outcome.duration_ms,
            cold_start=outcome.cold_start,
            memory_mb=config.memory,
            max_memory_mb=outcome.max_memory_mb,
            status="Success" if outcome.ok else "Error",
            error_type=_error_type(outcome),
            log=text,
        )
        try:
            self._registry.record(record, durable=invocation_type is not InvocationType.REQUEST_RESPONSE)
        except Exception:
            # The caller still gets its answer; only the log entry is lost.
            log.exception("could not record invocation %s of %s", invocation.request_id, config.name)


def _check_revision(current: str, given: str | None) -> None:
    if given is not None and given != current:
        raise revision_mismatch()


def _check_json(payload: bytes) -> None:
    try:
        json_input.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequestContent(f"Could not parse request body into json: {error}") from None


def _error_type(outcome: Outcome) -> str | None:
    if outcome.ok:
        return None
    try:
        document = json_input.loads(outcome.payload)
    except (ValueError, UnicodeDecodeError):
        return outcome.function_error
    found = document.get("errorType") if isinstance(document, dict) else None
    return str(found) if found else outcome.function_error
