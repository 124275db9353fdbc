"""A Lambda function running behind an emulator subprocess, and the calls a test makes to it.

:class:`LambdaFunction` turns a :class:`FunctionSpec` (what to run) and :class:`HarnessSettings`
(which emulator, which pythons, which base environment) into an emulator command line, starts it,
and invokes it through the Invoke API with httpx. Every invoke returns an
:class:`~lambdarig.testing.result.InvokeResult` carrying the invocation's own log lines and REPORT.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from lambdarig import invoke_api
from lambdarig.testing.errors import HarnessConfigError, InvokeError, MissingDependency
from lambdarig.testing.process import EmulatorProcess, ProcessRegistry, free_port
from lambdarig.testing.result import InvokeResult
from lambdarig.testing.spec import (
    DEFAULT_EMULATOR,
    FunctionSpec,
    HarnessSettings,
    format_seconds,
)

# How long to wait, after the HTTP answer, for the invocation's REPORT line on stdout.
REPORT_GRACE_S = 3.0
# Emulators print START before the runtime sees the event; if none shows up soon, none will.
START_GRACE_S = 0.5
HTTP_MARGIN_S = 30.0  # on top of the function timeout: init, cold starts, a loaded CI machine


@dataclass(frozen=True)
class InvokeOptions:
    """Per-invoke options of :meth:`LambdaFunction.invoke` (see there)."""

    invocation_type: str | None = None
    tail: bool = False
    client_context: Mapping[str, Any] | None = None
    trace_id: str | None = None
    headers: Mapping[str, str] | None = None


class LambdaFunction:
    """A running function behind the emulator. ``start`` blocks until ready; ``stop`` until gone.

    ``invoke*`` raise :class:`InvokeError` when the Invoke API cannot be reached and
    :class:`EmulatorCrashed` when the emulator died or logged an internal error meanwhile; a
    function error is *not* an exception (see ``InvokeResult.function_error``).
    """

    def __init__(
        self,
        spec: FunctionSpec,
        settings: HarnessSettings | None = None,
        registry: ProcessRegistry | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings or HarnessSettings()
        self.registry = registry if registry is not None else ProcessRegistry()
        self._process: EmulatorProcess | None = None
        self._client: httpx.Client | None = None

    # --- command line ----------------------------------------------------------------------------
    @property
    def runtime(self) -> str | tuple[str, ...]:
        """The runtime actually used (``--lambda-runtime`` replaces the default ``lambdarig``)."""
        if self.spec.runtime == "lambdarig" and self.settings.default_runtime:
            return self.settings.default_runtime
        return self.spec.runtime

    def runtime_command(self) -> list[str]:
        """The runtime's argv (not in image mode); raises :class:`HarnessConfigError` or
        :class:`MissingDependency` when the runtime cannot be run as configured."""
        runtime = self.runtime
        if runtime == "lambdarig":
            return [self.settings.python, "-m", "lambdarig.runtime_client", self.spec.handler]
        if runtime == "awslambdaric":
            python = self.settings.awslambdaric_python
            if not python:
                raise MissingDependency(
                    "expected a python with awslambdaric for runtime='awslambdaric' "
                    "(--lambda-awslambdaric-python PATH or LAMBDARIG_AWSLAMBDARIC_PYTHON), got none"
                )
            return [python, "-m", "awslambdaric", self.spec.handler]
        if isinstance(runtime, tuple) and runtime:
            return [part.replace("{handler}", self.spec.handler) for part in runtime]
        raise HarnessConfigError(f"expected a runtime name or a non-empty command, got {runtime!r}")

    def emulator_argv(self) -> tuple[list[str], str | None]:
        """The emulator command line, and its URL when known in advance (aws-lambda-rie).

        With ``image=`` the command is just the handler: the container's command, which
        overrides the image's ``CMD`` (``ImageConfig.Command``), whatever CMD the image has.
        """
        spec, argv = self.spec, list(self.settings.emulator)
        if self.settings.is_aws_rie:
            if spec.layers or spec.image:
                raise HarnessConfigError("aws-lambda-rie supports neither layers= nor image=")
            invoke_port, api_port = free_port(), free_port()
            argv += [
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{invoke_port}",
                "--runtime-api-address",
                f"127.0.0.1:{api_port}",
            ]
            url: str | None = f"http://127.0.0.1:{invoke_port}"
        else:
            argv += [
                "--runtime-interface-emulator-address",
                "127.0.0.1:0",
                "--runtime-api-address",
                "127.0.0.1:0",
            ]
            for layer in spec.layers:
                argv += ["--layer", layer]
            if spec.image:
                self._check_docker_sdk()
                argv += ["--image", spec.image]
            url = None
        argv += list(spec.emulator_args)
        argv += [spec.handler] if spec.image else self.runtime_command()
        return argv, url

    def _check_docker_sdk(self) -> None:
        """``image=`` under the default emulator (this python) needs the docker SDK: say so as
        :class:`MissingDependency` rather than as the emulator failing to start."""
        if (
            self.settings.emulator == DEFAULT_EMULATOR
            and importlib.util.find_spec("docker") is None
        ):
            raise MissingDependency(
                f"expected the docker SDK for image={self.spec.image!r} "
                "(pip install 'lambdarig[docker]'), it is not installed"
            )

    def emulator_env(self) -> dict[str, str]:
        """The emulator's environment: ``base_env``, the function's configuration, ``env=``."""
        env = dict(self.settings.base_env)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_TIMEOUT": format_seconds(self.spec.timeout),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory),
                "AWS_LAMBDA_FUNCTION_NAME": self.spec.name,
                "AWS_LAMBDA_FUNCTION_HANDLER": self.spec.handler,
            }
        )
        env.update(dict(self.spec.env))
        return env

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> LambdaFunction:
        """Start the emulator and block until it answers; returns ``self``. Idempotent."""
        if self._process is not None and self._process.is_alive():
            return self
        self.stop()
        argv, url = self.emulator_argv()
        self._process = EmulatorProcess(
            argv,
            self.emulator_env(),
            self.spec.code,
            self.registry,
            url,
            self.settings.start_timeout,
        )
        self._process.start()
        if self.spec.image and self._process.pid is not None:
            self.registry.container_owners.append(self._process.pid)
        self._client = httpx.Client(timeout=self.spec.timeout + HTTP_MARGIN_S)
        return self

    def stop(self) -> None:
        """Stop the emulator (and the runtime it spawned); blocks until reaped. Idempotent."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._process is not None:
            self._process.stop()
            self._process = None

    def reset(self) -> None:
        """Per-test reset: forget old logs and failures; restart the emulator if it died."""
        if self._process is None or not self._process.is_alive():
            self.start()
        else:
            self._process.reset()

    def check(self) -> None:
        """Raise :class:`EmulatorCrashed` if the emulator died or logged an internal error."""
        if self._process is not None:
            self._process.check()

    def __enter__(self) -> LambdaFunction:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        """Base URL of the Invoke API (``http://127.0.0.1:PORT``), e.g. for boto3."""
        process = self._require_process()
        assert process.url is not None
        return process.url

    @property
    def url(self) -> str:
        """The full invoke URL (function name ``function``, as aws-lambda-rie requires)."""
        path = invoke_api.PATH_INVOKE.format(name=invoke_api.RIE_FUNCTION_NAME)
        return self.endpoint_url + path

    @property
    def logs(self) -> list[str]:
        """Every stdout line of the emulator since the last reset."""
        return self._require_process().book.lines()

    @property
    def pid(self) -> int | None:
        """The emulator's pid (its process group id too), ``None`` when stopped."""
        return self._process.pid if self._process is not None else None

    def _require_process(self) -> EmulatorProcess:
        if self._process is None:
            raise HarnessConfigError("expected a started function; call start() first")
        return self._process

    # --- invoking ---------------------------------------------------------------------------------
    def build_request(
        self, event: Any = None, options: InvokeOptions | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """Body and headers for an invoke: ``bytes`` events are sent as-is, others as JSON."""
        options = options or InvokeOptions()
        body = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        out: dict[str, str] = {}
        if options.invocation_type:
            out[invoke_api.HEADER_INVOCATION_TYPE] = options.invocation_type
        if options.tail:
            out[invoke_api.HEADER_LOG_TYPE] = invoke_api.LOG_TYPE_TAIL
        if options.client_context is not None:
            encoded = base64.b64encode(json.dumps(options.client_context).encode("utf-8"))
            out[invoke_api.HEADER_CLIENT_CONTEXT] = encoded.decode("ascii")
        if options.trace_id:
            out[invoke_api.HEADER_TRACE_ID] = options.trace_id
        out.update(options.headers or {})
        return body, out

    def invoke(
        self,
        event: Any = None,
        *,
        invocation_type: str | None = None,
        tail: bool = False,
        client_context: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> InvokeResult:
        """Invoke (``RequestResponse`` unless ``invocation_type``); blocks until answered and,
        for synchronous invokes, until the REPORT line arrived (at most a few seconds more).

        ``tail`` asks for the log tail (``InvokeResult.log_result``); ``client_context`` is sent
        base64-encoded in ``X-Amz-Client-Context``; ``trace_id`` as ``X-Amzn-Trace-Id``.
        """
        options = InvokeOptions(invocation_type, tail, client_context, trace_id, headers)
        process = self._require_process()
        assert self._client is not None
        body, sent = self.build_request(event, options)
        mark = process.book.mark()
        with self._exchange(process):
            response = self._client.post(self.url, content=body, headers=sent)
        return self._result(response.status_code, response.content, response.headers, mark)

    def invoke_event(
        self, event: Any = None, *, client_context: Mapping[str, Any] | None = None
    ) -> InvokeResult:
        """Invoke asynchronously (``X-Amz-Invocation-Type: Event``): expect 202 and no payload."""
        return self.invoke(
            event, invocation_type=invoke_api.INVOCATION_TYPE_EVENT, client_context=client_context
        )

    async def invoke_async(
        self,
        event: Any = None,
        *,
        invocation_type: str | None = None,
        tail: bool = False,
        client_context: Mapping[str, Any] | None = None,
        trace_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> InvokeResult:
        """Like :meth:`invoke`, for asyncio tests (httpx.AsyncClient; does not block the loop)."""
        process = self._require_process()
        options = InvokeOptions(invocation_type, tail, client_context, trace_id, headers)
        body, sent = self.build_request(event, options)
        mark = process.book.mark()
        with self._exchange(process):
            async with httpx.AsyncClient(timeout=self.spec.timeout + HTTP_MARGIN_S) as client:
                response = await client.post(self.url, content=body, headers=sent)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, self._result, response.status_code, response.content, response.headers, mark
        )

    @contextlib.contextmanager
    def _exchange(self, process: EmulatorProcess) -> Iterator[None]:
        """Around one HTTP exchange: a transport failure becomes :class:`InvokeError` (once the
        emulator had a moment to show it died), and the emulator is checked after the answer."""
        try:
            yield
        except httpx.TransportError as exc:
            process.check(settle=1.0)
            raise InvokeError(f"expected an answer from {self.url}, got {exc!r}") from exc
        process.check()

    def _result(self, status: int, raw: bytes, headers: httpx.Headers, mark: int) -> InvokeResult:
        process = self._require_process()
        request_id = headers.get(invoke_api.HEADER_REQUEST_ID)
        logs = None
        if status != invoke_api.STATUS_EVENT:
            logs = process.book.wait_invocation(request_id, mark, REPORT_GRACE_S, START_GRACE_S)
        tail = headers.get(invoke_api.HEADER_LOG_RESULT)
        return InvokeResult(
            status_code=status,
            raw=raw,
            headers=dict(headers.items()),
            function_error=headers.get(invoke_api.HEADER_FUNCTION_ERROR),
            request_id=request_id or (logs.request_id if logs else None),
            logs=logs.lines if logs else [],
            init_logs=logs.init_lines if logs else [],
            report=logs.report if logs else None,
            log_result=base64.b64decode(tail).decode("utf-8", "replace") if tail else None,
        )

    def boto3_client(self, **kwargs: Any) -> Any:
        """A boto3 ``lambda`` client pointed at this emulator (dummy credentials, no retries).

        Invoke it with ``FunctionName="function"``. Raises :class:`MissingDependency` if boto3 is
        not installed (``pip install lambdarig[aws]``).
        """
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise MissingDependency(
                "expected boto3 to be installed for boto3_client() "
                "(pip install 'lambdarig[aws]'), but it is not"
            ) from exc
        options: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": invoke_api.DEFAULT_REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": Config(
                retries={"max_attempts": 1}, read_timeout=self.spec.timeout + HTTP_MARGIN_S
            ),
        }
        options.update(kwargs)
        return boto3.client("lambda", **options)

    def __repr__(self) -> str:
        state = self._process.url if self._process is not None else "stopped"
        return f"<LambdaFunction {self.spec.handler!r} runtime={self.runtime!r} {state}>"
