"""SageMaker Runtime's InvokeEndpoint (rest-json `POST /endpoints/{name}/invocations`, signed as "sagemaker").

Headers in: Content-Type, Accept, X-Amzn-SageMaker-Target-Variant, -Session-Id, -Inference-Id and
-Custom-Attributes; out: Content-Type, x-Amzn-Invoked-Production-Variant, the custom attributes passed
through, and X-Amzn-SageMaker-New-Session-Id when the request asked for NEW_SESSION. A request without an
InferenceId is logged under its request id (the x-amzn-RequestId of the answer), so outcomes can be fed
back for it too.
"""

from __future__ import annotations

from typing import Any

from altostratus.api.context import BodyLimit, Call
from altostratus.api.model_adapters import Handler, RequestEntityTooLarge, RestJsonAdapter, operation_handlers
from altostratus.core.errors import BadRequest
from altostratus.deploy.errors import DoesNotExist, InvalidValue
from altostratus.deploy.serving import EndpointRuntime, InvocationRequest

# SageMaker Runtime's limit on an InvokeEndpoint request body (the Body shape's max in botocore's model).
MAX_BODY_BYTES = 6 * 1024 * 1024


class RuntimeValidationError(BadRequest):
    """A parameter of the invocation is not valid (SageMaker Runtime's code differs from SageMaker's)."""

    code = "ValidationError"


class SageMakerRuntimeApi:
    """The `sagemaker-runtime` operations served here: InvokeEndpoint, over the EndpointRuntime."""

    def __init__(self, runtime: EndpointRuntime) -> None:
        self._runtime = runtime

    def adapter(self) -> RestJsonAdapter:
        """The rest-json adapter serving these operations, with InvokeEndpoint's 6 MiB body limit."""
        return RestJsonAdapter(
            "sagemaker-runtime",
            self.handlers(),
            validation_error=RuntimeValidationError,
            body_limits={"InvokeEndpoint": BodyLimit(MAX_BODY_BYTES, RequestEntityTooLarge)},
        )

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "sagemaker-runtime")

    def invoke_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """InvokeEndpoint: one request through the endpoint's variants; unknown endpoints are a ValidationError."""
        request = InvocationRequest(
            endpoint=params["EndpointName"],
            body=params["Body"],
            inference_id=params.get("InferenceId") or call.request_id,
            content_type=params.get("ContentType"),
            accept=params.get("Accept"),
            target_variant=params.get("TargetVariant"),
            session_id=params.get("SessionId"),
            custom_attributes=params.get("CustomAttributes"),
        )
        try:
            invocation = self._runtime.invoke(request)
        except (InvalidValue, DoesNotExist) as error:
            raise RuntimeValidationError(error.message) from None
        return {
            "Body": invocation.body,
            "ContentType": invocation.content_type,
            "InvokedProductionVariant": invocation.variant,
            "CustomAttributes": invocation.custom_attributes,
            "NewSessionId": invocation.new_session,
        }
