"""The Telemetry API (``PUT /2022-07-01/telemetry``) and the Logs API (``PUT /2020-08-15/logs``)
served on each environment's Runtime API socket: subscriptions (``subscription``, sans-IO), the
events and records delivered (``events``, sans-IO), delivery to the subscribers' listeners
(``dispatch``, asyncio) and the per-environment hub that ties them to the emulator (``hub``).

Depends on ``runtime`` (replies) and ``platform_logs`` (the figures); ``environments`` and the
emulator feed it. Imports nothing: import the modules you need.

https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
"""

MAX_BACKLOG = 1000  # init events kept for subscribers that come late (hub, on_demand before it)
