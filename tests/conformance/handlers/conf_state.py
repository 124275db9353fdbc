"""Module-level state kept across invokes in one execution environment."""

COUNTER = {"invokes": 0}
print("conf_state initialised")


def handler(event, context):
    COUNTER["invokes"] += 1
    return {"invokes": COUNTER["invokes"], "event": event}
