"""Handlers served behind the emulator in integration tests; ``event["action"]`` picks the behaviour."""

import logging
import os
import sys
import time


def handler(event, context):
    action = event.get("action", "echo") if isinstance(event, dict) else "echo"
    if action == "echo":
        return event
    if action == "error":
        raise ValueError("boom")
    if action == "sleep":
        time.sleep(event["seconds"])
        api = os.environ.get("AWS_LAMBDA_RUNTIME_API")
        return {"slept": event["seconds"], "pid": os.getpid(), "api": api}
    if action == "crash":
        sys.stdout.flush()
        os._exit(event.get("code", 1))
    if action == "alloc":
        hog = bytearray(event["mb"] * 1024 * 1024)
        for offset in range(0, len(hog), 4096):
            hog[offset] = 1
        time.sleep(event.get("hold", 0))
        return len(hog)
    if action == "layer":
        import shared_greeting

        return {"greeting": shared_greeting.GREETING, "file": shared_greeting.__file__}
    if action == "big":
        return "x" * event["size"]
    if action == "print":
        for number in range(event["lines"]):
            print(f"line {number}")
        return "printed"
    if action == "log_exception":
        # Through both runtime clients' log sink, a traceback ends without a newline (Flask's,
        # Mangum's... error pages log this way).
        try:
            raise ValueError(event["tag"])
        except ValueError:
            logging.getLogger().exception("failed")
        return "logged"
    if action == "partial":
        sys.stdout.write(event["text"])
        sys.stdout.flush()
        return "written"
    if action == "argv":
        return sys.argv[1:]
    if action == "context":
        return {
            "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb,
            "name": context.function_name,
            "client_context": getattr(context.client_context, "custom", None),
            "trace": os.environ.get("_X_AMZN_TRACE_ID"),
            "tenant_id": getattr(context, "tenant_id", None),
            "env": {
                key: os.environ.get(key)
                for key in (
                    "_HANDLER",
                    "AWS_LAMBDA_FUNCTION_NAME",
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    "AWS_LAMBDA_FUNCTION_VERSION",
                    "AWS_LAMBDA_INITIALIZATION_TYPE",
                    "AWS_LAMBDA_LOG_GROUP_NAME",
                    "AWS_LAMBDA_LOG_STREAM_NAME",
                    "AWS_REGION",
                    "AWS_LAMBDA_RUNTIME_API",
                    "TZ",
                    "LAMBDA_TASK_ROOT",
                )
            },
        }
    raise KeyError(action)
