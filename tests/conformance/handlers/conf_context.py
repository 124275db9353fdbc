"""Everything a handler can see of its context and environment."""

import os

FUNCTION_TIMEOUT_MS = 30_000


IDENTITY = ["cognito_identity_id", "cognito_identity_pool_id"]
CLIENT = [
    "installation_id",
    "app_title",
    "app_version_name",
    "app_version_code",
    "app_package_name",
]


def _obj(value, names):
    if value is None:
        return None
    return {name: getattr(value, name, "<missing>") for name in names}


def attributes(event, context):
    remaining = context.get_remaining_time_in_millis()
    return {
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "memory_type": type(context.memory_limit_in_mb).__name__,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "tenant_id": getattr(context, "tenant_id", "<missing>"),
        "identity": _obj(context.identity, IDENTITY),
        "identity_type": type(context.identity).__name__,
        "remaining_type": type(remaining).__name__,
        "remaining_sane": 0 < remaining <= FUNCTION_TIMEOUT_MS,
        "has_log": callable(getattr(context, "log", None)),
    }


def client_context(event, context):
    cc = context.client_context
    if cc is None:
        return None
    return {"custom": cc.custom, "env": cc.env, "client": _obj(cc.client, CLIENT)}


def trace(event, context):
    return {
        "present": "_X_AMZN_TRACE_ID" in os.environ,
        "value": os.environ.get("_X_AMZN_TRACE_ID"),
    }


def environment(event, context):
    names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_REGION",
        "_HANDLER",
        "AWS_LAMBDA_RUNTIME_API_SET",
        "LAMBDA_TASK_ROOT",
        "_LAMBDA_TELEMETRY_LOG_FD",
    ]
    found = {name: os.environ.get(name) for name in names}
    found["AWS_LAMBDA_RUNTIME_API_SET"] = "AWS_LAMBDA_RUNTIME_API" in os.environ
    return found
