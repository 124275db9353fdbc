"""A module that spends INIT_SLEEP_S seconds at import, then fails (an init error)."""

import time

INIT_SLEEP_S = 0.3
time.sleep(INIT_SLEEP_S)
raise RuntimeError("failed after a slow start")


def handler(event, context):
    return event
