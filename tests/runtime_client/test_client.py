"""RuntimeAPIClient over real sockets against the fake Runtime API."""

from __future__ import annotations

import pytest

from lambdarig import runtime_api as wire
from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.errors import (
    RuntimeAPIError,
    RuntimeAPIUnreachable,
    StaleInvocationError,
)
from lambdarig.runtime_client.protocol import USER_AGENT
from lambdarig.runtime_client.transport import SocketTransport
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Reply

INV = wire.Invocation(
    "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
    1542409706888,
    "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime",
    b'{"key": "value"}',
    trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
    client_context='{"custom": {"a": 1}}',
    cognito_identity='{"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"}',
    tenant_id="tenant-1",
    invocation_id="nonce-1",
)


def test_next_invocation_returns_every_header(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    fake_api.queue_invocation(INV)
    assert client.next_invocation() == INV
    (request,) = fake_api.requests
    assert (request.method, request.path) == ("GET", "/2018-06-01/runtime/invocation/next")
    assert request.headers["user-agent"] == USER_AGENT


def test_post_response_echoes_the_invocation_id(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    client.post_response(INV, b'{"ok": true}', "application/json")
    (post,) = fake_api.posts()
    assert post.path == f"/2018-06-01/runtime/invocation/{INV.request_id}/response"
    assert post.body == b'{"ok": true}'
    assert post.headers["content-type"] == "application/json"
    assert post.headers["lambda-runtime-invocation-id"] == "nonce-1"


def test_post_error_sends_the_xray_cause(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    client.post_error(INV, b'{"errorMessage": "boom"}', '{"working_directory": "/"}')
    (post,) = fake_api.posts()
    assert post.path == f"/2018-06-01/runtime/invocation/{INV.request_id}/error"
    assert post.headers["lambda-runtime-function-xray-error-cause"] == '{"working_directory": "/"}'
    assert "lambda-runtime-function-error-type" not in post.headers


def test_post_init_error_and_restore_calls(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    client.post_init_error(b'{"errorType": "X"}', "Runtime.ImportModuleError")
    client.restore_next()
    client.post_restore_error(b"{}", "Runtime.AfterRestoreError")
    init, restore_next, restore_error = fake_api.requests
    assert init.path == "/2018-06-01/runtime/init/error"
    assert init.headers["lambda-runtime-function-error-type"] == "Runtime.ImportModuleError"
    assert (restore_next.method, restore_next.path) == ("GET", "/2018-06-01/runtime/restore/next")
    assert restore_error.headers["lambda-runtime-function-error-type"] == (
        "Runtime.AfterRestoreError"
    )


def test_410_is_a_stale_invocation(fake_api: FakeRuntimeAPI, client: RuntimeAPIClient) -> None:
    path = wire.response_path(INV.request_id)
    fake_api.script("POST", path, Reply(410, b'{"errorType":"InvocationGone"}'))
    with pytest.raises(StaleInvocationError) as info:
        client.post_response(INV, b"late", "application/json")
    assert info.value.endpoint == path
    client.post_response(INV, b"again", "application/json")  # the connection is still usable


def test_unexpected_status_is_a_runtime_api_error(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    fake_api.script(
        "POST",
        wire.PATH_INIT_ERROR,
        Reply(403, b'{"errorMessage":"nope","errorType":"InvalidStateTransition"}'),
    )
    with pytest.raises(RuntimeAPIError) as info:
        client.post_init_error(b"{}", "Runtime.Unknown")
    assert str(info.value) == (
        "Request to Lambda Runtime '/2018-06-01/runtime/init/error' endpoint failed. "
        "Reason: '403'. Response body: "
        '\'{"errorMessage":"nope","errorType":"InvalidStateTransition"}\''
    )


def test_next_with_an_error_status(fake_api: FakeRuntimeAPI, client: RuntimeAPIClient) -> None:
    fake_api.queue_next(Reply(500, b'{"errorType":"InternalServerError"}'))
    with pytest.raises(RuntimeAPIError) as info:
        client.next_invocation()
    assert info.value.status == 500


def test_unreachable_api(fake_api: FakeRuntimeAPI) -> None:
    address = fake_api.address
    fake_api.stop()
    with pytest.raises(RuntimeAPIUnreachable):
        RuntimeAPIClient(SocketTransport(address)).next_invocation()


def test_the_fake_reraises_server_thread_failures() -> None:
    with FakeRuntimeAPI() as fake:
        fake.script("GET", "/broken", Reply(200, body=None))  # type: ignore[arg-type]
        transport = SocketTransport(fake.address)
        try:
            with pytest.raises(RuntimeAPIUnreachable):
                transport.request("GET", "/broken", {})
        finally:
            transport.close()
    with pytest.raises(AssertionError, match="failed in a server thread") as info:
        fake.check()
    assert isinstance(info.value.__cause__, TypeError)


def test_any_2xx_answer_to_a_post_is_success(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    # awslambdaric's C++ client accepts any 2xx on /response and /error; so do we.
    fake_api.script("POST", wire.response_path(INV.request_id), Reply(200, b"OK"))
    fake_api.script("POST", wire.error_path(INV.request_id), Reply(204))
    client.post_response(INV, b"{}", "application/json")
    client.post_error(INV, b"{}", None)
    assert [p.path.rsplit("/", 1)[-1] for p in fake_api.posts()] == ["response", "error"]
