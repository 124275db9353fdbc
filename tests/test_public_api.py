"""Each subpackage's public API is exactly its ``__all__``, pinned here (httpx's
``test_exported_members``). Changing a public API means changing its line below on purpose."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import lambdarig

PUBLIC_API: dict[str, list[str]] = {
    "lambdarig.runtime_client": [
        "BuiltInModuleConflict",
        "ClientConfigError",
        "FaultError",
        "HandlerLoadError",
        "HandlerModuleNotFound",
        "HandlerNotFound",
        "HandlerSyntaxError",
        "HttpResponse",
        "LambdaContext",
        "MalformedHandlerName",
        "RuntimeAPIClient",
        "RuntimeAPIError",
        "RuntimeAPIUnreachable",
        "RuntimeClientError",
        "RuntimeConfig",
        "SocketTransport",
        "StaleInvocationError",
        "StreamingResponse",
        "Transport",
        "http_response_stream",
        "main",
        "run",
    ],
    "lambdarig.rie_server": [
        "ConfigError",
        "Emulator",
        "EmulatorConfig",
        "EmulatorError",
        "EnvironmentBusy",
        "EnvironmentStopped",
        "InvalidTransition",
        "ProcessStartError",
        "Throttled",
    ],
    "lambdarig.project": [
        "Function",
        "HttpRoute",
        "Layer",
        "Project",
        "ProjectError",
        "load_project",
    ],
    "lambdarig.events": [
        "EVENT_BUILDERS",
        "Body",
        "Ids",
        "alb_event",
        "api_gateway_rest_event",
        "batch_item_failures",
        "build_event",
        "cognito_post_confirmation_event",
        "cognito_pre_sign_up_event",
        "cognito_pre_token_generation_event",
        "deserialize",
        "deserialize_item",
        "dynamodb_event",
        "dynamodb_record",
        "eventbridge_event",
        "function_url_event",
        "http_api_event",
        "kinesis_event",
        "kinesis_record",
        "s3_delete_event",
        "s3_event",
        "s3_put_event",
        "scheduled_event",
        "serialize",
        "serialize_item",
        "sns_event",
        "sns_record",
        "sqs_event",
        "sqs_record",
    ],
    "lambdarig.testing": [
        "EmulatorCrashed",
        "EmulatorFailure",
        "EmulatorStartError",
        "FunctionSpec",
        "HarnessConfigError",
        "HarnessError",
        "HarnessSettings",
        "InvokeError",
        "InvokeResult",
        "LambdaFunction",
        "LeakError",
        "MissingDependency",
        "ProcessRegistry",
        "Report",
        "UnsupportedEmulatorOption",
        "parse_report",
    ],
    "lambdarig.conformance": [
        "CASES",
        "REFERENCE_DIR",
        "REFERENCE_HANDLER",
        "STREAMING_CASES",
        "Case",
        "CaseResult",
        "Environment",
        "KitReport",
        "run_kit",
        "select_cases",
    ],
}


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_all_is_pinned(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(PUBLIC_API[name])
    missing = [attr for attr in module.__all__ if not hasattr(module, attr)]
    assert not missing, f"{name}.__all__ lists names it does not define: {missing}"


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_nothing_public_is_left_out_of_all(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not isinstance(value, types.ModuleType)
        and attr not in ("annotations", "TYPE_CHECKING")
    }
    extra = sorted(public - set(module.__all__))
    assert not extra, f"{name} exposes names missing from __all__: {extra}"


def test_every_subpackage_with_all_is_pinned() -> None:
    unpinned = []
    for info in pkgutil.iter_modules(lambdarig.__path__, "lambdarig."):
        if not info.ispkg or info.name in PUBLIC_API:
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            unpinned.append(info.name)
    assert not unpinned, f"add these subpackages' __all__ to PUBLIC_API: {unpinned}"
