"""aws-lambda-rie's ``--enable-init-caching``: credentials served on the Runtime API socket,
sans-IO.

With the flag, aws-lambda-rie (RAPID's init-caching mode, as SnapStart environments get their
credentials) gives the runtime and the extensions ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` =
``http://<Runtime API address>/2021-04-23/credentials`` and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``
(a random UUID), and answers ``GET /2021-04-23/credentials`` carrying that token in
``Authorization`` with ``{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}``: the
emulator's own ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` (empty
when unset). Any other token gets 404 ``cannot get credentials for the provided token``. The AWS
SDKs' container credential provider reads these variables when no keys are in the environment.
``Expiration`` is one hour after the answer (aws-lambda-rie sends year 1, which the SDKs take as
expired; the keys do not expire here).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass

from lambdarig import runtime_api
from lambdarig.rie_server.runtime.protocol import Reply

_VALID_FOR = datetime.timedelta(hours=1)
_NOT_FOUND = b"cannot get credentials for the provided token\n"
_TEXT = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
_KEYS = (
    ("AccessKeyId", "AWS_ACCESS_KEY_ID"),
    ("SecretAccessKey", "AWS_SECRET_ACCESS_KEY"),
    ("Token", "AWS_SESSION_TOKEN"),
)


@dataclass(frozen=True)
class Credentials:
    """One environment's token and the keys it unlocks."""

    token: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    @classmethod
    def from_environment(cls, token: str, env: Mapping[str, str]) -> Credentials:
        """The keys of ``env`` (the runtime's configured environment) behind ``token``."""
        key, secret, session = (env.get(name, "") for _, name in _KEYS)
        return cls(token, key, secret, session)

    def variables(self, runtime_api_address: str) -> dict[str, str]:
        """The two variables the runtime and the extensions get."""
        uri = f"http://{runtime_api_address}{runtime_api.PATH_CREDENTIALS}"
        return {
            runtime_api.ENV_CREDENTIALS_FULL_URI: uri,
            runtime_api.ENV_AUTHORIZATION_TOKEN: self.token,
        }

    def answer(self, method: str, authorization: str | None, now: datetime.datetime) -> Reply:
        """The reply to ``METHOD /2021-04-23/credentials`` with that ``Authorization``."""
        if method != "GET":
            return Reply(405, b"", {})
        if authorization != self.token:
            return Reply(404, _NOT_FOUND, _TEXT)
        expiration = (now + _VALID_FOR).astimezone(datetime.timezone.utc)
        body = {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return Reply(200, json.dumps(body, separators=(",", ":")).encode())
