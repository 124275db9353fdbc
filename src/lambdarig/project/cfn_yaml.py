"""Reading a CloudFormation/SAM template file: YAML with the short-form tags, or JSON.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}``, every
other ``!Tag`` becomes ``{"Fn::Tag": ...}``: the long forms CloudFormation itself reads
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambdarig.project.errors import MissingExtraError, TemplateError

_TAGS = (
    "Base64",
    "Cidr",
    "Condition",
    "Equals",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "If",
    "Join",
    "And",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
)
MAX_TEMPLATE_BYTES = 1_048_576  # CloudFormation's own limit for a template in S3


def _loader() -> type[Any]:
    try:
        import yaml
    except ImportError as exc:
        raise MissingExtraError(
            "expected PyYAML for template mode, got none: pip install 'lambdarig[sam]'"
        ) from exc

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        """SafeLoader + CloudFormation's short-form tags; ``=`` keeps its YAML 1.1 meaning."""

    def construct(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        if suffix == "Condition":
            return {"Condition": value}
        return {f"Fn::{suffix}": value}

    for suffix in ("Ref", *_TAGS):
        Loader.add_constructor(
            f"!{suffix}", lambda loader, node, s=suffix: construct(loader, s, node)
        )
    return Loader


def read_template(path: Path) -> dict[str, Any]:
    """The template at ``path`` as plain data (raises ``TemplateError`` with one line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TemplateError(
            f"expected a readable template file, got {path}: {exc.strerror}"
        ) from exc
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise TemplateError(
            f"expected a template of at most {MAX_TEMPLATE_BYTES} bytes, got {len(raw)}: {path}"
        )
    text = raw.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise TemplateError(f"expected JSON in {path}, got: {exc}") from exc
    else:
        data = _load_yaml(text, path)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"expected a template with a Resources mapping, got none in {path}")
    return data


def _load_yaml(text: str, path: Path) -> Any:
    loader = _loader()
    import yaml

    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (SafeLoader subclass)
    except (yaml.YAMLError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TemplateError(f"expected YAML in {path}{where}, got: {first}") from exc
