"""``lambdarig invoke``: call a function through the Invoke API, like ``aws lambda invoke``.

The payload goes to stdout, the function's log tail (``--tail``) to stderr; the exit status is 1
when the function failed (``X-Amz-Function-Error``), 2 when the call itself failed.
``lambdarig invoke LogicalId --template template.yaml`` is a one-shot invoke of a template's
function, as ``sam local invoke`` (``cli.invoke_template``): its logs go to stderr.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Callable
from typing import Any

from lambdarig import invoke_api
from lambdarig.cli import CommandError
from lambdarig.cli.serve_flags import add_template_arguments

# Where `lambdarig serve` listens by default (and the README's `docker run -p 9000:8080`).
DEFAULT_URL = "http://127.0.0.1:9000"
URL_ENV = "LAMBDARIG_URL"

EXAMPLE = """examples:
  lambdarig invoke --event event.json
  lambdarig event sqs --body '{"a":1}' | lambdarig invoke --tail
  lambdarig invoke my-function --url http://127.0.0.1:9000 --event - < event.json
  lambdarig invoke ItemsFunction -t template.yaml --event event.json   # start, invoke, stop"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="invoke a function on a running emulator and print its payload",
        description="Invoke a function through the Invoke API (lambdarig serve, aws-lambda-rie).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "name",
        nargs="?",
        default=None,
        help=f"function name (default: {invoke_api.RIE_FUNCTION_NAME!r}, as aws-lambda-rie wants); "
        "with --template: its logical id or name (default: the template's only function)",
    )
    parser.add_argument(
        "--event",
        metavar="FILE|-",
        help="event JSON file, or - for stdin (default: stdin when piped, else {})",
    )
    parser.add_argument(
        "--url",
        default=None,
        help=f"emulator base URL or full invoke URL (default: ${URL_ENV} or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--tail", action="store_true", help="ask for the last 4 KB of logs and print them on stderr"
    )
    parser.add_argument(
        "--async",
        dest="event_invocation",
        action="store_true",
        help="invoke with InvocationType Event (returns at once, no payload)",
    )
    add_template_arguments(parser.add_argument)
    parser.set_defaults(func=run)


def invoke_url(base: str, name: str) -> str:
    """The invoke URL for ``name`` on ``base``; a URL that already ends in /invocations is kept.

    Raises :class:`CommandError` unless ``base`` is an absolute http(s) URL with a host.
    """
    import httpx

    try:
        parsed = httpx.URL(base)
    except httpx.InvalidURL as exc:
        raise CommandError(f"expected --url like {DEFAULT_URL}, got {base!r} ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise CommandError(f"expected --url like {DEFAULT_URL}, got {base!r}")
    base = base.rstrip("/")
    if base.endswith("/invocations"):
        return base
    return base + invoke_api.PATH_INVOKE.format(name=name)


def read_event(source: str | None) -> bytes:
    """The event bytes: from FILE, from stdin for ``-`` or when piped, else ``{}``."""
    if source == "-" or (source is None and not sys.stdin.isatty()):
        return sys.stdin.buffer.read() or b"{}"
    if source is None:
        return b"{}"
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(
            f"expected a readable event file, got {source!r} ({exc.strerror})"
        ) from None


def run(args: argparse.Namespace) -> int:
    import httpx

    if args.template is not None:
        from lambdarig.cli.invoke_template import run_template_invoke

        return run_template_invoke(args)
    name = args.name or invoke_api.RIE_FUNCTION_NAME
    url = invoke_url(args.url or os.environ.get(URL_ENV) or DEFAULT_URL, name)
    headers = {}
    if args.tail:
        headers[invoke_api.HEADER_LOG_TYPE] = invoke_api.LOG_TYPE_TAIL
    if args.event_invocation:
        headers[invoke_api.HEADER_INVOCATION_TYPE] = invoke_api.INVOCATION_TYPE_EVENT
    body = read_event(args.event)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=None)
    except httpx.TransportError as exc:
        raise CommandError(
            f"expected an emulator at {url}, but could not reach it ({exc}); "
            "is `lambdarig serve` running?"
        ) from None
    return report(response)


def report(response: Any) -> int:
    """Print the outcome of an invoke and return the exit status."""
    return print_answer(response.status_code, response.headers.get, response.content)


def print_answer(status: int, header: Callable[[str], str | None], body: bytes) -> int:
    """Print an Invoke API answer (``header``: a case-insensitive lookup) and return the exit
    status: 0, 1 for a function error; raises ``CommandError`` for an answer that is no invoke."""
    tail = header(invoke_api.HEADER_LOG_RESULT)
    if tail:
        sys.stderr.write(base64.b64decode(tail).decode("utf-8", errors="replace"))
        sys.stderr.flush()
    if status >= 300:
        kind = (header(invoke_api.HEADER_ERROR_TYPE) or "").split(":", 1)[0]
        text = body.decode("utf-8", errors="replace")
        detail = text.strip().replace("\n", " ")[:300]
        raise CommandError(
            f"expected the invoke to succeed, got HTTP {status}"
            + (f" {kind}" if kind else "")
            + (f": {detail}" if detail else "")
        )
    sys.stdout.buffer.write(body)
    if body and not body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    return 1 if header(invoke_api.HEADER_FUNCTION_ERROR) else 0
