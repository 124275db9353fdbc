"""The kit's recording Runtime API: a runtime that breaks HTTP framing is recorded, not raised."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lambdarig.conformance.recorder import MAX_BODY, Posted, RecordingRuntimeAPI

# Fetch one invocation, then POST a /response whose body is the raw bytes in argv[1] (after the
# head in argv[2]), and stay alive so the kit can read what it recorded.
RUNTIME = """
import os, socket, sys, time, http.client
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
conn = http.client.HTTPConnection(api)
conn.request("GET", "/2018-06-01/runtime/invocation/next")
r = conn.getresponse(); r.read()
rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
host, port = api.split(":")
s = socket.create_connection((host, int(port)))
line = "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\\r\\nHost: x\\r\\n" % rid
s.sendall(line.encode() + sys.argv[2].encode() + b"\\r\\n\\r\\n" + sys.argv[1].encode())
time.sleep(30)
"""


@pytest.mark.parametrize(
    "head, body, problem",
    [
        ("Transfer-Encoding: chunked", "zz\r\n", "invalid literal"),
        ("Transfer-Encoding: chunked", "5\r\nab", "stalled: nothing arrived for 5 s mid-body"),
        ("Transfer-Encoding: chunked", "1\r\na\r\n0\r\nno colon\r\n\r\n", "'Name: value' trailer"),
        (f"Content-Length: {MAX_BODY + 1}", "", f"expected a Content-Length up to {MAX_BODY}"),
    ],
)
def test_broken_framing_is_a_recorded_problem(
    tmp_path: Path, head: str, body: str, problem: str
) -> None:
    api = RecordingRuntimeAPI(dict(os.environ), "f", 5)
    with api.start([sys.executable, "-c", RUNTIME, body, head], tmp_path):
        posted = api.invoke({}, 30)  # the stall case takes 5 s to call; loaded CI machines are slow
    assert isinstance(posted, Posted), posted
    assert posted.problem is not None and problem in posted.problem
