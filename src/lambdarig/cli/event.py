"""``lambdarig event``: print one realistic Lambda event as JSON (for ``lambdarig invoke``)."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Callable

from lambdarig.cli import CommandError

_EXAMPLES = """\
examples:
  lambdarig event --list
  lambdarig event sqs --body '{"a":1}' | lambdarig invoke
  lambdarig event http-api --method POST --path '/items?id=1' --body '{"name":"x"}'
  lambdarig event s3-put --bucket photos --key 'my photo.jpg' --seed 7
  lambdarig event sqs --help          (the fields one event type accepts)

A field value is parsed as JSON when it looks like JSON (an object, array, number, true,
false or null; it falls back to the text if it does not parse), else taken as text. Fields
typed as text (e.g. --body, --key) always take the text exactly as given. --now takes an
ISO-8601 time (2024-01-01T00:00:00Z); --seed makes ids reproducible.
"""

# Parameters annotated with these take the argument text verbatim (bodies keep their bytes).
_TEXT_ANNOTATIONS = {"str", "str | None", "Body"}
_DATETIME_ANNOTATIONS = {"datetime", "datetime | None"}
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "event",
        help="print a sample Lambda event (SQS, API Gateway, S3, ...) as JSON",
        description="Print one event as AWS would send it, as JSON on stdout. Fields not given "
        "are filled in with realistic values.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("type", nargs="?", metavar="TYPE", help="event type (see --list)")
    parser.add_argument("--list", action="store_true", help="list the event types and exit")
    parser.add_argument("--compact", action="store_true", help="print on one line")
    parser.add_argument(
        "fields",
        nargs=argparse.REMAINDER,
        metavar="--FIELD VALUE",
        help="builder fields, e.g. --body '{\"a\":1}' (dashes or underscores)",
    )
    parser.set_defaults(func=_event)


def _event(args: argparse.Namespace) -> int:
    from lambdarig.events import EVENT_BUILDERS

    if args.list:
        width = max(map(len, EVENT_BUILDERS))
        for name, builder in EVENT_BUILDERS.items():
            print(f"{name:<{width}}  {_summary(builder)}")
        return 0
    if args.type is None:
        raise CommandError("expected an event TYPE or --list; see `lambdarig event --list`")
    if args.type not in EVENT_BUILDERS:
        known = ", ".join(EVENT_BUILDERS)
        raise CommandError(f"expected an event type among {known}; got {args.type!r}")
    builder = EVENT_BUILDERS[args.type]
    if any(token in ("-h", "--help") for token in args.fields):
        print(describe(args.type, builder))
        return 0
    # Options given after TYPE land in the remainder with the fields.
    compact = args.compact or "--compact" in args.fields
    tokens = [token for token in args.fields if token != "--compact"]
    fields = parse_fields(args.type, builder, tokens)
    try:
        event = builder(**fields)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"cannot build a {args.type} event: {exc}") from exc
    indent = None if compact else 2
    sys.stdout.write(json.dumps(event, indent=indent) + "\n")
    return 0


def _summary(builder: Callable[..., Any]) -> str:
    return (builder.__doc__ or "").strip().splitlines()[0].replace("``", "")


def _parameters(builder: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(builder).parameters)


def describe(name: str, builder: Callable[..., Any]) -> str:
    """Usage text for one event type: its summary and every field with its default."""
    lines = [f"usage: lambdarig event {name} [--FIELD VALUE ...]", "", _summary(builder), ""]
    lines.append("fields:")
    for param in _parameters(builder).values():
        flag = "--" + param.name.replace("_", "-")
        lines.append(f"  {flag:<26} {param.annotation}  (default: {param.default!r})")
    return "\n".join(lines)


def parse_fields(name: str, builder: Callable[..., Any], tokens: Sequence[str]) -> dict[str, Any]:
    """``["--body", "x", "--seed=1"]`` -> ``{"body": "x", "seed": 1}``, checked against the
    builder's keyword parameters; raises :class:`CommandError` naming the problem."""
    parameters = _parameters(builder)
    fields: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith("--") or token == "--":
            raise CommandError(f"expected a --FIELD for the {name} event, got {token!r}")
        flag, has_value, value = token[2:].partition("=")
        if not has_value:
            if index + 1 >= len(tokens):
                raise CommandError(f"expected a value after --{flag}, got nothing")
            value = tokens[index + 1]
            index += 1
        index += 1
        key = flag.replace("-", "_")
        if key not in parameters:
            known = ", ".join("--" + p.replace("_", "-") for p in parameters)
            raise CommandError(f"expected a field among {known} for {name}; got --{flag}")
        fields[key] = parse_value(flag, value, str(parameters[key].annotation))
    return fields


def parse_value(flag: str, text: str, annotation: str) -> Any:
    """One field value: verbatim text, an ISO-8601 datetime, JSON, or text (see the help)."""
    if annotation in _TEXT_ANNOTATIONS:
        return text
    if annotation in _DATETIME_ANNOTATIONS:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CommandError(
                f"expected an ISO-8601 time for --{flag} (e.g. 2024-01-01T00:00:00Z), got {text!r}"
            ) from None
    looks_like_json = text[:1] in ("{", "[", '"') or text in ("true", "false", "null")
    if looks_like_json or _NUMBER.fullmatch(text):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
