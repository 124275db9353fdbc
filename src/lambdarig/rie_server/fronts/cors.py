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
  API Gateway ignores the CORS headers the function returns (``with_cors``).
* ``FunctionUrlConfig`` ``Cors`` (Function URL): the same fields and the same matching as the
  HTTP API's (``*`` wildcards, methods compared upper-case, headers lower-case, origins exactly),
  bounded as ``AWS::Lambda::Url`` ``Cors`` is (API_Cors: at most 100 origins of 1-253 characters,
  6 methods, 100 headers of at most 1024 characters; ``MaxAge`` 0-86400). It differs in three
  ways: a preflight is answered 200, not 204 [inf]; the configured headers are *added* to the
  function's own (a function that sets ``Access-Control-Allow-Origin`` too yields two values, as
  observed in aws-powertools/powertools-lambda-python#4163; the docs' "configured headers take
  precedence" holds for the preflight, which never reaches the function); and a response whose
  ``Access-Control-Allow-Origin`` echoes the request's origin carries ``Vary: Origin`` [inf].
  A refused preflight (origin, method or header not allowed) gets no CORS headers.
  https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors
  https://docs.aws.amazon.com/lambda/latest/api/API_Cors.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

Headers = list[tuple[str, str]]

_ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
_PREFLIGHT_STATUS = {"http": 204, "url": 200}
# AWS::Lambda::Url Cors bounds (API_Cors): (most items, shortest item, longest item).
_URL_BOUNDS = {
    "AllowOrigins": (100, 1, 253),
    "AllowMethods": (6, 0, 6),
    "AllowHeaders": (100, 0, 1024),
    "ExposeHeaders": (100, 0, 1024),
}
URL_MAX_AGE = 86400


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

    @classmethod
    def from_url(cls, value: Any) -> CorsConfig:
        """From ``FunctionUrlConfig`` ``Cors``: lists, ``MaxAge`` and ``AllowCredentials``."""
        if not isinstance(value, Mapping):
            raise CorsError(
                f"expected FunctionUrlConfig.Cors to be a map, got {type(value).__name__}"
            )
        lists = {}
        for key, (most, shortest, longest) in _URL_BOUNDS.items():
            items = _strings(value, key, "FunctionUrlConfig.Cors")
            if len(items) > most or any(not shortest <= len(item) <= longest for item in items):
                raise CorsError(
                    f"expected FunctionUrlConfig.Cors.{key} to hold at most {most} strings of "
                    f"{shortest}-{longest} characters, got {list(items)!r}"[:300]
                )
            lists[key] = items
        max_age = value.get("MaxAge")
        if max_age is not None:
            max_age = _int(max_age)
            if not 0 <= max_age <= URL_MAX_AGE:
                raise CorsError(
                    f"expected FunctionUrlConfig.Cors.MaxAge in 0-{URL_MAX_AGE}, got {max_age}"
                )
        credentials = value.get("AllowCredentials", False)
        if not isinstance(credentials, bool):
            raise CorsError(
                f"expected FunctionUrlConfig.Cors.AllowCredentials to be a boolean, got "
                f"{credentials!r}"[:300]
            )
        return cls(
            "url",
            allow_origins=lists["AllowOrigins"],
            allow_methods=tuple(m.upper() for m in lists["AllowMethods"]),
            allow_headers=tuple(h.lower() for h in lists["AllowHeaders"]),
            expose_headers=tuple(h.lower() for h in lists["ExposeHeaders"]),
            max_age=max_age,
            allow_credentials=credentials,
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


def _strings(
    value: Mapping[str, Any], key: str, where: str = "CorsConfiguration"
) -> tuple[str, ...]:
    raw = value.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise CorsError(f"expected {where}.{key} to be a list of strings, got {raw!r}"[:300])
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
    status = _PREFLIGHT_STATUS[config.style]
    if not (config.origin_allowed(origin) and methods_ok and headers_ok):
        return status, []
    answer = [("access-control-allow-origin", _echo(config, origin))]
    answer.append(("access-control-allow-methods", ",".join(config.allow_methods)))
    if wanted:
        answer.append(("access-control-allow-headers", ",".join(wanted)))
    if config.max_age is not None:
        answer.append(("access-control-max-age", str(config.max_age)))
    if config.allow_credentials:
        answer.append(("access-control-allow-credentials", "true"))
    return status, answer + _vary(config, answer[0][1])


def response_headers(config: CorsConfig, headers: Mapping[str, str]) -> Headers:
    """CORS headers added to an actual response (HTTP API and Function URL; REST adds none)."""
    origin = headers.get("origin")
    if config.style == "rest" or origin is None or not config.origin_allowed(origin):
        return []
    answer = [("access-control-allow-origin", _echo(config, origin))]
    if config.expose_headers:
        answer.append(("access-control-expose-headers", ",".join(config.expose_headers)))
    if config.allow_credentials:
        answer.append(("access-control-allow-credentials", "true"))
    return answer + _vary(config, answer[0][1])


def with_cors(
    config: CorsConfig, function_headers: Headers, request_headers: Mapping[str, str]
) -> Headers:
    """A response's headers: the function's, then the configured CORS headers. HTTP API drops
    the function's own ``Access-Control-*`` headers ("API Gateway ignores CORS headers returned
    from your backend integration", http-api-cors.html); a Function URL keeps them."""
    if config.style == "http":
        function_headers = [
            (name, value)
            for name, value in function_headers
            if not name.lower().startswith("access-control-")
        ]
    return function_headers + response_headers(config, request_headers)


def _vary(config: CorsConfig, allowed_origin: str) -> Headers:
    """``Vary: Origin`` when a Function URL's answer depends on the request's origin [inf]."""
    return [("vary", "Origin")] if config.style == "url" and allowed_origin != "*" else []


def _echo(config: CorsConfig, origin: str) -> str:
    """``*``, or the request's origin when credentials are allowed or origins are listed."""
    if "*" in config.allow_origins and not config.allow_credentials:
        return "*"
    return origin
