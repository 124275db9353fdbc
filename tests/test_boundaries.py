"""Architecture rules checked on the source (AST), not left to review (STYLE.md §3 "Boundaries").

1. ``lambdarig.runtime_client`` imports only the standard library, ``lambdarig`` (for
   ``__version__``), ``lambdarig.runtime_api`` and itself; it ships alone in layers and images.
2. ``lambdarig.runtime_client`` and ``lambdarig.rie_server`` never import each other.
3. Protocol and lifecycle modules are sans-IO: no sockets, subprocesses, threads, clocks or
   environment variables.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import lambdarig


def stdlib_module_names() -> frozenset[str]:
    """``sys.stdlib_module_names`` (3.10+), or the same list rebuilt from the stdlib directory."""
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    import pkgutil
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"]
    found = {m.name for m in pkgutil.iter_modules([stdlib, f"{stdlib}/lib-dynload"])}
    # importlib's bootstrap modules are frozen, so they are in neither list on 3.9.
    frozen = {"_frozen_importlib", "_frozen_importlib_external"}
    return frozenset(found) | frozenset(sys.builtin_module_names) | frozen


SRC = Path(lambdarig.__file__).parent
STDLIB = stdlib_module_names() | {"__future__"}

# Optional user-installed packages a runtime-client module may import inside a try/except.
OPTIONAL_IMPORTS = {"runtime_client/snapstart.py": {"snapshot_restore_py"}}

SANS_IO_MODULES = (
    "runtime_api.py",
    "invoke_api.py",
    "runtime_client/protocol.py",
    "rie_server/runtime/protocol.py",
    "rie_server/runtime/lifecycle.py",
    "rie_server/invoke/protocol.py",
    "rie_server/http/parser.py",
    "rie_server/http/grammar.py",
    "rie_server/invoke/names.py",
    "rie_server/invoke/input.py",
    "rie_server/untrusted.py",
    "rie_server/fronts/routing.py",
    "rie_server/fronts/events.py",
    "rie_server/fronts/responses.py",
    "rie_server/fronts/cors.py",
    "extensions_api.py",
    "rie_server/extensions/protocol.py",
    "rie_server/extensions/state.py",
    "rie_server/telemetry/subscription.py",
    "rie_server/telemetry/events.py",
    "rie_server/fronts/authorizers.py",
    "rie_server/fronts/authorizer_cache.py",
)
SANS_IO_FORBIDDEN = {
    "socket",
    "_socket",
    "select",
    "selectors",
    "ssl",
    "subprocess",
    "multiprocessing",
    "threading",
    "_thread",
    "asyncio",
    "signal",
    "_signal",
    "time",
    "http",
    "urllib.request",
    "aiohttp",
    "httpx",
    "docker",
}


def imports_of(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``path`` (a module of ``package``)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # ``from lambdarig import runtime_api`` imports a module
                yield node.lineno, f"{module}.{alias.name}"


def modules_under(subpackage: str) -> list[Path]:
    return sorted((SRC / subpackage).rglob("*.py"))


def package_of(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


def is_allowed_in_runtime_client(module: str) -> bool:
    root = module.split(".")[0]
    if root in STDLIB:
        return True
    if module in ("lambdarig", "lambdarig.__version__"):
        return True
    return module.startswith(("lambdarig.runtime_api", "lambdarig.runtime_client"))


@pytest.mark.parametrize("path", modules_under("runtime_client"), ids=lambda p: p.name)
def test_runtime_client_imports_only_the_stdlib_and_itself(path: Path) -> None:
    optional = OPTIONAL_IMPORTS.get(f"runtime_client/{path.name}", set())
    bad = [
        f"line {line}: {module}"
        for line, module in imports_of(path, package_of(path))
        if not is_allowed_in_runtime_client(module) and module.split(".")[0] not in optional
    ]
    assert not bad, f"{path.name} must import only the stdlib and lambdarig.runtime_*: {bad}"


@pytest.mark.parametrize(
    "subpackage, forbidden",
    [("runtime_client", "lambdarig.rie_server"), ("rie_server", "lambdarig.runtime_client")],
)
def test_client_and_emulator_never_import_each_other(subpackage: str, forbidden: str) -> None:
    bad = [
        f"{path.relative_to(SRC)}:{line}: {module}"
        for path in modules_under(subpackage)
        for line, module in imports_of(path, package_of(path))
        if module == forbidden or module.startswith(forbidden + ".")
    ]
    assert not bad, f"lambdarig.{subpackage} must not import {forbidden}: {bad}"


def environ_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
        or (isinstance(node, ast.alias) and node.name in ("environ", "getenv"))
    ]


@pytest.mark.parametrize("relative", SANS_IO_MODULES)
def test_protocol_modules_are_sans_io(relative: str) -> None:
    path = SRC / relative
    if not path.exists():
        pytest.skip(f"{relative} does not exist (yet)")
    bad = [
        f"line {line}: {module}"
        for line, module in imports_of(path, package_of(path))
        if module in SANS_IO_FORBIDDEN or module.split(".")[0] in SANS_IO_FORBIDDEN
    ]
    bad += [f"line {line}: environment access" for line in environ_uses(path)]
    assert not bad, f"{relative} must stay sans-IO: {bad}"


def test_the_checker_sees_violations(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os, time\nfrom . import x\nfrom ..rie_server import y\nv = os.environ['A']\n"
    )
    found = list(imports_of(sample, "lambdarig.runtime_client"))
    assert (1, "time") in found
    assert (2, "lambdarig.runtime_client.x") in found
    assert (3, "lambdarig.rie_server.y") in found
    assert environ_uses(sample) == [4]
