"""Destination messages sent with boto3 to ``--aws-endpoint-url`` (a LocalStack or moto server):
SQS ``SendMessage``, SNS ``Publish``, EventBridge ``PutEvents``, as the service sends them.

Credentials come from the usual boto3 chain, else dummy ones (a local endpoint checks none); the
region is the project's. Calls run in a worker thread with bounded timeouts and no retries.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Mapping
from typing import Any

from lambdarig.rie_server.invoke.destinations import EVENT_SOURCE, Delivery, Sender

TIMEOUT_S = 10.0
DUMMY_CREDENTIAL = "lambdarig"


class AwsSender:
    """A ``destinations.Sender`` for ``endpoint_url``: ``await sender(delivery)``."""

    def __init__(self, endpoint_url: str, region: str, environ: Mapping[str, str]) -> None:
        self._endpoint = endpoint_url
        self._region = region
        self._dummy = not (environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE"))
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    connect_timeout=TIMEOUT_S,
                    read_timeout=TIMEOUT_S,
                    retries={"max_attempts": 0},
                )
                keys: dict[str, str] = {}
                if self._dummy:
                    keys = {
                        "aws_access_key_id": DUMMY_CREDENTIAL,
                        "aws_secret_access_key": DUMMY_CREDENTIAL,
                    }
                client = boto3.client(
                    service,
                    endpoint_url=self._endpoint,
                    region_name=self._region,
                    config=config,
                    **keys,
                )
                self._clients[service] = client
            return client

    async def __call__(self, delivery: Delivery) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, functools.partial(self.send, delivery))

    def send(self, delivery: Delivery) -> None:
        """Send ``delivery`` (blocks). Raises ``ValueError`` for an ARN of another service and
        botocore's errors when the endpoint refuses."""
        arn = delivery.destination
        parts = arn.split(":", 5)
        service = parts[2] if len(parts) == 6 else ""
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in delivery.attributes.items()
        }
        if service == "sqs":
            sqs = self._client("sqs")
            url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=delivery.body, MessageAttributes=attributes)
        elif service == "sns":
            self._client("sns").publish(
                TopicArn=arn, Message=delivery.body, MessageAttributes=attributes
            )
        elif service == "events":
            entry = {
                "Source": EVENT_SOURCE,
                "DetailType": delivery.detail_type,
                "Detail": delivery.body,
                "Resources": [delivery.source_arn, arn],
                "EventBusName": arn,
            }
            answer = self._client("events").put_events(Entries=[entry])
            if answer.get("FailedEntryCount"):
                raise RuntimeError(json.dumps(answer.get("Entries", []))[:300])
        else:
            raise ValueError(f"expected an SQS, SNS or EventBridge ARN, got {arn!r}")


def aws_sender(endpoint_url: str | None, region: str, environ: Mapping[str, str]) -> Sender | None:
    """The sender for ``--aws-endpoint-url`` (None without one)."""
    return None if endpoint_url is None else AwsSender(endpoint_url, region, environ)
