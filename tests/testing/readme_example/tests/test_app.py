import pytest


def test_greets(lambda_function):
    fn = lambda_function("app.handler", code="src")
    result = fn.invoke({"name": "Ada"})
    assert result.payload == {"greeting": "Hello, Ada!"}
    assert result.logs == ["greeting Ada"]


@pytest.mark.lambda_function("app.handler", code="src")
def test_errors_are_data(lambda_fn):
    assert lambda_fn.invoke({}).payload["errorType"] == "KeyError"
