"""CORS from a SAM template, answered by the front (sans-IO).

What is honoured:

* ``AWS::Serverless::Api`` ``Cors`` (REST): a string (the allowed origin) or a map of
  ``AllowOrigin``, ``AllowMethods``, ``AllowHeaders``, ``MaxAge``, ``AllowCredentials``, each a
  *quoted* string as SAM requires (``"'*'"``, ``"'GET,POST'"``). SAM turns it into an ``OPTIONS``
  method with a mock integration on every path, so a preflight is answered 200 with those headers
  whatever the origin; API Gateway adds nothing to a Lambda-proxy response (the function sets
  ``Access-Control-Allow-Origin`` itself). Without ``AllowMethods`` SAM lists the path's methods
  plus OPTIONS; we list ``DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT`` (every path).
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-corsconfiguration.html
* ``AWS::Serverless::HttpApi`` ``CorsConfiguration`` (HTTP API): ``true`` (everything allowed) or
  ``AllowOrigins``, ``AllowMethods``, ``AllowHeaders``, ``ExposeHeaders``, ``MaxAge``,
  ``AllowCredentials``. API Gateway answers a preflight itself (204) and adds the CORS headers to
  every response whose ``Origin`` is allowed.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

Headers = list[tuple[str, str]]

_ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


class CorsError(ValueError):
    """A ``Cors`` / ``CorsConfiguration`` value of the wrong shape."""


@dataclass(frozen=True)
class CorsConfig:
    """One API's CORS settings; ``style`` is ``rest`` (SAM ``Cors``) or ``http``."""

    style: str
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: Optional[int] = None  # noqa: UP045 (dataclass field evaluated on 3.9)
    allow_credentials: bool = False

    @classmethod
    def from_rest(cls, value: Any) -> CorsConfig:
        """From SAM ``Api`` ``Cors`` (a quoted origin string or a map of quoted strings)."""
        if isinstance(value, str):
            return cls("rest", allow_origins=(_unquote(value, "Cors"),))
        if not isinstance(value, Mapping):
            raise CorsError(f"expected Cors to be a string or a map, got {type(value).__name__}")
        origin = value.get("AllowOrigin")
        if origin is None:
            raise CorsError("expected Cors.AllowOrigin, got none")

        def listed(key: str) -> tuple[str, ...]:
            raw = value.get(key)
            return () if raw is None else (_unquote(raw, f"Cors.{key}"),)

        max_age = value.get("MaxAge")
        return cls(
            "rest",
            allow_origins=(_unquote(origin, "Cors.AllowOrigin"),),
            allow_methods=listed("AllowMethods"),
            allow_headers=listed("AllowHeaders"),
            max_age=None if max_age is None else _int(_unquote(max_age, "Cors.MaxAge")),
            allow_credentials=value.get("AllowCredentials") is True,
        )

    @classmethod
    def from_http(cls, value: Any) -> CorsConfig | None:
        """From SAM ``HttpApi`` ``CorsConfiguration`` (``true``/``false`` or a map of lists)."""
        if value is True:
            return cls("http", allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
        if value is False or value is None:
            return None
        if not isinstance(value, Mapping):
            raise CorsError(
                f"expected CorsConfiguration to be a boolean or a map, got {type(value).__name__}"
            )
        max_age = value.get("MaxAge")
        return cls(
            "http",
            allow_origins=_strings(value, "AllowOrigins"),
            allow_methods=tuple(m.upper() for m in _strings(value, "AllowMethods")),
            allow_headers=tuple(h.lower() for h in _strings(value, "AllowHeaders")),
            expose_headers=tuple(h.lower() for h in _strings(value, "ExposeHeaders")),
            max_age=None if max_age is None else _int(max_age),
            allow_credentials=value.get("AllowCredentials") is True,
        )

    def origin_allowed(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins


def _unquote(value: Any, where: str) -> str:
    text = str(value)
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        raise CorsError(f"expected {where} to be a quoted string like \"'*'\", got {text!r}")
    return text[1:-1]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CorsError(f"expected MaxAge to be an integer, got {value!r}") from None


def _strings(value: Mapping[str, Any], key: str) -> tuple[str, ...]:
    raw = value.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise CorsError(f"expected CorsConfiguration.{key} to be a list of strings, got {raw!r}")
    return tuple(raw)


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """An ``OPTIONS`` request with ``Origin`` and ``Access-Control-Request-Method``."""
    return (
        method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers
    )


def preflight(config: CorsConfig, headers: Mapping[str, str]) -> tuple[int, Headers]:
    """The status and headers of a preflight answer (``headers``: lower-case names)."""
    if config.style == "rest":
        answer = [
            ("Access-Control-Allow-Origin", config.allow_origins[0]),
            ("Access-Control-Allow-Methods", ",".join(config.allow_methods) or _ALL_METHODS),
        ]
        if config.allow_headers:
            answer.append(("Access-Control-Allow-Headers", config.allow_headers[0]))
        if config.max_age is not None:
            answer.append(("Access-Control-Max-Age", str(config.max_age)))
        if config.allow_credentials:
            answer.append(("Access-Control-Allow-Credentials", "true"))
        return 200, answer
    origin = headers.get("origin", "")
    method = headers.get("access-control-request-method", "").upper()
    asked = headers.get("access-control-request-headers", "")
    wanted = [h.strip().lower() for h in asked.split(",") if h.strip()]
    methods_ok = "*" in config.allow_methods or method in config.allow_methods
    headers_ok = "*" in config.allow_headers or all(h in config.allow_headers for h in wanted)
    if not (config.origin_allowed(origin) and methods_ok and headers_ok):
        return 204, []
    answer = [("access-control-allow-origin", _echo(config, origin))]
    answer.append(("access-control-allow-methods", ",".join(config.allow_methods)))
    if wanted:
        answer.append(("access-control-allow-headers", ",".join(wanted)))
    if config.max_age is not None:
        answer.append(("access-control-max-age", str(config.max_age)))
    if config.allow_credentials:
        answer.append(("access-control-allow-credentials", "true"))
    return 204, answer


def response_headers(config: CorsConfig, headers: Mapping[str, str]) -> Headers:
    """CORS headers API Gateway adds to an actual response (HTTP API only; REST adds none)."""
    origin = headers.get("origin")
    if config.style != "http" or origin is None or not config.origin_allowed(origin):
        return []
    answer = [("access-control-allow-origin", _echo(config, origin))]
    if config.expose_headers:
        answer.append(("access-control-expose-headers", ",".join(config.expose_headers)))
    if config.allow_credentials:
        answer.append(("access-control-allow-credentials", "true"))
    return answer


def _echo(config: CorsConfig, origin: str) -> str:
    """``*``, or the request's origin when credentials are allowed or origins are listed."""
    if "*" in config.allow_origins and not config.allow_credentials:
        return "*"
    return origin
