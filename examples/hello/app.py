"""A tiny Lambda handler: ``lambdarig serve app.handler --code examples/hello``."""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"hello handler called for {name}")
    return {"message": f"Hello, {name}!", "request_id": context.aws_request_id}
