"""A scripted, misbehaving Lambda runtime: a real subprocess speaking HTTP to the Runtime API.

Usage: ``python fake_runtime.py SCENARIO [ARG]``. It reads ``AWS_LAMBDA_RUNTIME_API`` like a real
runtime and reports what the Runtime API answered on stdout as ``STATUS <code> <body>`` lines, so
tests can assert the exact replies through the environment's ``on_output``. Stdlib only.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
PREFIX = "/2018-06-01/runtime"


def call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    host, _, port = API.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def say(*parts: object) -> None:
    print(*parts, flush=True)


def next_event():
    status, headers, body = call("GET", PREFIX + "/invocation/next")
    if status != 200:
        say("STATUS", status, body.decode())
        sys.exit(3)
    return headers, body


def post(request_id: str, kind: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    status, _, reply = call("POST", f"{PREFIX}/invocation/{request_id}/{kind}", body, headers)
    say("STATUS", status, reply.decode().strip())
    return status


def echo_loop(headers_extra: bool = False) -> None:
    while True:
        headers, body = next_event()
        rid = headers["Lambda-Runtime-Aws-Request-Id"]
        inv = headers.get("Lambda-Runtime-Invocation-Id")
        extra = {"Lambda-Runtime-Invocation-Id": inv} if inv else {}
        say("GOT", rid, headers.get("Content-Type"), headers.get("Lambda-Runtime-Deadline-Ms"))
        post(rid, "response", body, {"Content-Type": "application/json", **extra})


def once() -> tuple[str, dict[str, str], bytes]:
    headers, body = next_event()
    return headers["Lambda-Runtime-Aws-Request-Id"], headers, body


def main() -> None:
    scenario = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else ""
    if scenario == "echo":
        echo_loop()
    elif scenario == "ignore_term":  # a runtime only SIGKILL stops
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        echo_loop()
    elif scenario == "headers":
        while True:
            rid, headers, body = once()
            import json

            post(rid, "response", json.dumps(headers).encode())
    elif scenario == "error":
        while True:
            rid, _, _ = once()
            hdrs = {"Content-Type": "application/json"}
            if arg:
                hdrs["Lambda-Runtime-Function-Error-Type"] = arg
            post(rid, "error", b'{"errorMessage":"boom","errorType":"ValueError"}', hdrs)
    elif scenario == "init_error":
        status, _, reply = call(
            "POST",
            PREFIX + "/init/error",
            b'{"errorMessage":"bad import","errorType":"Runtime.ImportModuleError"}',
            {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
        )
        say("STATUS", status, reply.decode().strip())
        # a second init error and a /next are both illegal now
        status, _, reply = call("POST", PREFIX + "/init/error", b"{}")
        say("STATUS", status, reply.decode().strip())
        status, _, reply = call("GET", PREFIX + "/invocation/next")
        say("STATUS", status, reply.decode().strip())
        sys.exit(1)
    elif scenario == "init_error_stays":
        call("POST", PREFIX + "/init/error", b'{"errorType":"Runtime.X"}')
        time.sleep(60)
    elif scenario == "exit_during_init":
        sys.exit(int(arg or "1"))
    elif scenario == "never_polls":
        time.sleep(600)
    elif scenario == "slow_init":
        time.sleep(float(arg))
        echo_loop()
    elif scenario == "crash":
        once()
        sys.exit(int(arg or "1"))
    elif scenario == "kill_self":
        once()
        os.kill(os.getpid(), 9)
    elif scenario == "sleep":
        while True:
            rid, _, body = once()
            time.sleep(float(arg))
            post(rid, "response", body)
    elif scenario == "spawn_and_hang":
        once()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        say("CHILD", child.pid)
        time.sleep(600)
    elif scenario == "too_large":
        while True:
            rid, _, _ = once()
            post(rid, "response", b"x" * (6291556 + 1))
    elif scenario == "twice":
        while True:
            rid, _, body = once()
            post(rid, "response", body)
            post(rid, "response", body)
            post(rid, "error", b"{}")
    elif scenario == "wrong_id":
        while True:
            rid, _, body = once()
            post("not-" + rid, "response", b'"wrong"')
            post(rid, "response", body)
    elif scenario == "stale":
        while True:
            rid, headers, body = once()
            post(rid, "response", b'"stale"', {"Lambda-Runtime-Invocation-Id": "old"})
            inv = headers["Lambda-Runtime-Invocation-Id"]
            post(rid, "response", body, {"Lambda-Runtime-Invocation-Id": inv})
    elif scenario == "bad_mode":
        while True:
            rid, _, body = once()
            post(rid, "response", body, {"Lambda-Runtime-Function-Response-Mode": "buffered"})
            post(rid, "response", body)
    elif scenario == "alloc":
        while True:
            rid, _, body = once()
            hog = bytearray(int(arg) * 1024 * 1024)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            time.sleep(0.5)
            post(rid, "response", b'{"held":%d}' % len(hog))
    elif scenario == "print":
        while True:
            rid, _, body = once()
            say("out line 1")
            say("out line 2")
            sys.stderr.write("err line\npartial")
            sys.stderr.flush()
            sys.stderr.write(" end\n")
            sys.stderr.flush()
            post(rid, "response", body)
    elif scenario == "lmi":

        def worker() -> None:
            while True:
                rid, _, body = once()
                time.sleep(float(arg or "0.3"))
                post(rid, "response", body)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(600)
    elif scenario == "lmi_nap":
        # 2 workers; each sleeps for the number of seconds given as the event, then echoes it
        def napper() -> None:
            while True:
                rid, headers, body = once()
                say("GOT", rid)
                time.sleep(float(body))
                inv = headers.get("Lambda-Runtime-Invocation-Id", "")
                post(rid, "response", body, {"Lambda-Runtime-Invocation-Id": inv})

        for _ in range(2):
            threading.Thread(target=napper, daemon=True).start()
        time.sleep(600)
    elif scenario == "renext":
        # /next twice without posting: the same event comes back (RAPID's Running.Ready no-op)
        rid, _, body = once()
        rid2, _, _ = once()
        say("SAME", rid == rid2)
        post(rid, "response", body)
        echo_loop()
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")


if __name__ == "__main__":
    main()
