"""Run handlers through AWS's emulator (aws-lambda-rie) with a chosen runtime client and record
what a caller and CloudWatch would see: HTTP status, body and the runtime's log lines.

Both sides run under the SAME interpreter (the awslambdaric venv's python), so tracebacks and
stdlib paths cannot differ for reasons that are not the client's: the reference side runs
``-m awslambdaric``, ours runs ``-m lambdarig.runtime_client`` with this repository's ``src`` on
``PYTHONPATH`` (the runtime client is stdlib-only, so nothing else is needed).

Readiness is probed (connect to the invoke port), never slept on; ``Emulator.close`` always kills
the emulator's process group.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests import rie_race

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"
REPO_SRC = Path(__file__).resolve().parents[2] / "src"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
FUNCTION_TIMEOUT_S = 30
START_DEADLINE_S = 15.0
LOG_DEADLINE_S = 10.0
START_ATTEMPTS = 3


class PortTaken(Exception):
    """aws-lambda-rie could not bind a port picked by :func:`free_port`."""


@dataclass(frozen=True)
class Side:
    """One runtime client under test: how to launch it behind the emulator."""

    name: str
    module: str  # run as ``python -m <module> <handler>``
    env: tuple[tuple[str, str], ...] = ()


REFERENCE = Side("awslambdaric", "awslambdaric")
OURS = Side("lambdarig", "lambdarig.runtime_client", (("PYTHONPATH", str(REPO_SRC)),))


@dataclass(frozen=True)
class Outcome:
    """What one invoke produced, already masked (see :func:`mask`)."""

    status: int
    body: str
    logs: tuple[str, ...]


def free_port() -> int:
    """An ephemeral loopback port (bound to 0, read back, released for the emulator to take)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_DURATION = re.compile(r"Duration: \d+(\.\d+)? ms")
_LIBDIR = re.compile(r"/[^\s\"']*?/lib/python3\.\d+/")
_PYTHON = re.compile(r"python3\.\d+")
_TRACE = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;Parent=[0-9a-f]{16})?(;Sampled=\d)?")


def mask(text: str) -> str:
    """Replace what legitimately differs between runs: ids, times, durations, paths, versions."""
    text = text.replace(str(HANDLERS_DIR), "<code>")
    text = _UUID.sub("<request-id>", text)
    text = _TIMESTAMP.sub("<timestamp>", text)
    text = _DURATION.sub("Duration: <n> ms", text)
    text = _LIBDIR.sub("<lib>/", text)
    text = _TRACE.sub("<trace-id>", text)
    return _PYTHON.sub("python3.X", text)


class Emulator:
    """aws-lambda-rie running one handler with one runtime client; invoked sequentially."""

    def __init__(
        self, rie: Path, python: Path, side: Side, handler: str, env: dict[str, str], log_dir: Path
    ) -> None:
        self._side, self._handler, self._env = side, handler, env
        self._rie, self._python, self._log_dir = rie, python, log_dir
        self._offset = 0
        for attempt in range(START_ATTEMPTS):
            try:
                self._start()
                return
            except PortTaken:
                # free_port() released the port before aws-lambda-rie bound it, and another
                # process (a parallel tox env) took it in between: retry with fresh ports.
                if attempt == START_ATTEMPTS - 1:
                    raise

    def _start(self) -> None:
        self.invoke_port = free_port()
        api_port = free_port()
        self._stdout_path = self._log_dir / f"{self._side.name}-{self.invoke_port}.out"
        self._stderr_path = self._log_dir / f"{self._side.name}-{self.invoke_port}.err"
        argv = [
            str(self._rie),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.invoke_port}",
            "--runtime-api-address",
            f"127.0.0.1:{api_port}",
            str(self._python),
            "-m",
            self._side.module,
            self._handler,
        ]
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(HANDLERS_DIR),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(FUNCTION_TIMEOUT_S),
            **dict(self._side.env),
            **self._env,
        }
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self._process = subprocess.Popen(
                argv,
                cwd=HANDLERS_DIR,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._stderr_path.read_text(errors="replace")
                if "address already in use" in stderr:
                    raise PortTaken(stderr)
                raise AssertionError(
                    f"aws-lambda-rie exited {self._process.returncode} at start:\n{stderr}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.invoke_port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.01)  # probe interval while polling the port, not a readiness guess
        raise AssertionError(f"aws-lambda-rie did not listen on {self.invoke_port} in time")

    def invoke(self, payload: bytes, headers: dict[str, str] | None = None) -> Outcome:
        """POST one invoke; block until the emulator has printed this invoke's last log line.
        An invoke lost to aws-lambda-rie's own reset race (:mod:`tests.rie_race`) is sent again;
        the lost attempt's log lines are left out of the outcome (printed, in pytest's captured
        output)."""
        status, body, lines = rie_race.send(
            lambda: self._send(payload, headers or {}), lambda sent: sent[:2], self._report_lost
        )
        logs = tuple(mask(line) for line in lines if line)
        return Outcome(status, mask(body.decode("utf-8", "replace")), logs)

    def _report_lost(self, sent: tuple[int, bytes, list[str]]) -> None:
        dropped = "\n".join(line for line in sent[2] if line)
        print(f"{self._side.name}: aws-lambda-rie lost its reset race; invoking again")
        print(f"the lost attempt's log lines, dropped:\n{dropped}")

    def _send(self, payload: bytes, headers: dict[str, str]) -> tuple[int, bytes, list[str]]:
        """One POST: its status, its body and the log lines the emulator printed for it."""
        done_before = self._completed()
        connection = http.client.HTTPConnection("127.0.0.1", self.invoke_port, timeout=60)
        try:
            connection.request("POST", INVOKE_PATH, body=payload, headers=headers)
            response = connection.getresponse()
            status, body = response.status, response.read()
        finally:
            connection.close()
        self._wait_completed(done_before)
        with open(self._stdout_path, "rb") as out:
            out.seek(self._offset)
            chunk = out.read()
        self._offset += len(chunk)
        return status, body, chunk.decode("utf-8", "replace").split("\n")

    def _completed(self) -> int:
        """Invokes the emulator has finished: REPORT lines (success) + failed invokes (stderr)."""
        reports = self._stdout_path.read_bytes().count(b"\nREPORT RequestId: ")
        failures = self._stderr_path.read_bytes().count(b"Invoke DONE failed")
        return reports + failures

    def _wait_completed(self, done_before: int) -> None:
        deadline = time.monotonic() + LOG_DEADLINE_S
        while self._completed() <= done_before:
            if time.monotonic() > deadline:
                raise AssertionError("aws-lambda-rie printed no REPORT/failure line for the invoke")
            time.sleep(0.005)  # polling the log file for the completion line

    def close(self) -> None:
        """Stop the emulator and its runtime: SIGTERM the process group, then SIGKILL."""
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        try:
            os.killpg(self._process.pid, signal.SIGKILL)  # a runtime RIE left in our group
        except ProcessLookupError:
            pass  # the whole group is gone: nothing left to reap
