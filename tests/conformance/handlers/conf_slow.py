"""Sleeps as long as the event asks, printing before and after (timeouts, unbuffered output)."""

import time


def handler(event, context):
    print("before sleeping", event["sleep"])
    time.sleep(event["sleep"])
    print("after sleeping")
    return {"slept": event["sleep"]}
