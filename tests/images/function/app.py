"""Fixture function for image and container-mode tests (echo, sleep, crash, memory hog)."""

import json
import os
import sys


def handler(event, context):
    action = event.get("action", "echo") if isinstance(event, dict) else "echo"
    if action == "sleep":
        import time

        time.sleep(float(event["seconds"]))
    elif action == "crash":
        sys.stdout.flush()
        os._exit(int(event.get("status", 1)))
    elif action == "hog":
        hog = []
        while True:
            hog.append(bytearray(16 * 1024 * 1024))
    elif action == "opt":
        import layered  # from a layer's python/ directory

        return {"layered": layered.VALUE}
    print("hello from the function")
    return {
        "event": event,
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "python": "%d.%d" % sys.version_info[:2],
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "json": json.dumps([1]),
    }
