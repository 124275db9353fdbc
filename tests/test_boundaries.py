"""Architecture rules checked on the source (AST), not left to review (STYLE.md §3 "Boundaries").

1. ``lambdarig.runtime_client`` imports only the standard library, ``lambdarig`` (for
   ``__version__``), ``lambdarig.runtime_api`` and itself; it ships alone in layers and images.
2. ``lambdarig.runtime_client`` and ``lambdarig.rie_server`` never import each other.
3. Protocol and lifecycle modules are sans-IO: no sockets, subprocesses, threads, clocks or
   environment variables; neither in their own imports nor in what importing them loads (checked
   in a fresh interpreter). Each ``rie_server`` subpackage ``__init__`` imports nothing.
4. ``lambdarig.runtime_client`` has no import cycle, not even one hidden in a function.
"""

from __future__ import annotations

import ast
import os
import subprocess
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
    "rie_server/runtime/credentials.py",
    "rie_server/runtime/lifecycle.py",
    "rie_server/invoke/protocol.py",
    "rie_server/http/parser.py",
    "rie_server/http/grammar.py",
    "rie_server/invoke/names.py",
    "rie_server/invoke/input.py",
    "rie_server/invoke/pages.py",
    "rie_server/invoke/control.py",
    "rie_server/untrusted.py",
    "rie_server/fronts/routing.py",
    "rie_server/fronts/events.py",
    "rie_server/fronts/responses.py",
    "rie_server/fronts/stream_prelude.py",
    "rie_server/fronts/cors.py",
    "extensions_api.py",
    "rie_server/extensions/protocol.py",
    "rie_server/extensions/state.py",
    "rie_server/telemetry/subscription.py",
    "rie_server/telemetry/events.py",
    "rie_server/fronts/authorizers.py",
    "rie_server/fronts/iam_policy.py",
    "rie_server/fronts/authorizer_cache.py",
    "rie_server/tracing/segments.py",
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


def imports_of(
    path: Path, package: str, *, type_checking: bool = True
) -> Iterator[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``path`` (a module of ``package``),
    function-level ones included; those under ``if TYPE_CHECKING:`` only if ``type_checking``."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = set() if type_checking else type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
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


def type_checking_only(tree: ast.AST) -> set[int]:
    """``id()`` of every node inside an ``if TYPE_CHECKING:`` body (never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        test = node.test if isinstance(node, ast.If) else None
        name = getattr(test, "id", None) or getattr(test, "attr", None)
        if isinstance(node, ast.If) and name == "TYPE_CHECKING":
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


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
    assert path.exists(), f"{relative} is listed as sans-IO but does not exist"
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


# --- What importing a module loads, in a fresh interpreter ---------------------------------------

# Run as ``python -S -c LOADS_PROBE MODULE IO_MODULE...`` (``-S``: no ``site``, so no ``.pth`` file
# loads anything first). Prints each module the import loads, then ``! importer imports name`` for
# each I/O module imported by a module of MODULE's own top-level package: the interpreter loads
# ``time``, ``_thread`` and ``_signal`` before any import, so only who imports them tells.
LOADS_PROBE = """
import builtins, sys
target, io_modules = sys.argv[1], sys.argv[2:]
ours = target.split(".")[0]
found = []
real_import = builtins.__import__
def spy(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__") or ""
    if level == 0 and importer.split(".")[0] == ours:
        if any(name == bad or name.startswith(bad + ".") for bad in io_modules):
            found.append("! " + importer + " imports " + name)
    return real_import(name, globals, locals, fromlist, level)
before = set(sys.modules)
builtins.__import__ = spy
__import__(target)
builtins.__import__ = real_import
print("\\n".join(sorted(set(sys.modules) - before) + found))
"""


def load_in_fresh_interpreter(module: str, path: Path = SRC.parent) -> tuple[set[str], list[str]]:
    """(the modules importing ``module`` loads, its package's imports of I/O modules), in a fresh
    interpreter whose import path is ``path`` then ours. The import must succeed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), *sys.path]))
    done = subprocess.run(
        [sys.executable, "-S", "-c", LOADS_PROBE, module, *sorted(SANS_IO_FORBIDDEN)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr}"
    lines = done.stdout.splitlines()
    return {line for line in lines if not line.startswith("!")}, [
        line[2:] for line in lines if line.startswith("!")
    ]


def io_modules_loaded_by(module: str, path: Path = SRC.parent) -> list[str]:
    loaded, io_imports = load_in_fresh_interpreter(module, path)
    assert module in loaded
    return sorted(name for name in loaded if is_io_module(name)) + io_imports


def module_name(relative: str) -> str:
    parts = Path(relative).with_suffix("").parts
    return ".".join(("lambdarig", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def is_io_module(name: str) -> bool:
    """``name`` is one of SANS_IO_FORBIDDEN or a submodule of one. By exact top-level name: the
    stdlib's ``http.client`` is I/O, our ``lambdarig.rie_server.http.parser`` is not."""
    return any(name == bad or name.startswith(bad + ".") for bad in SANS_IO_FORBIDDEN)


@pytest.mark.parametrize("relative", SANS_IO_MODULES)
def test_protocol_modules_load_no_io_module(relative: str) -> None:
    bad = io_modules_loaded_by(module_name(relative))
    assert not bad, f"importing {module_name(relative)} loads I/O: {bad}"


def test_the_io_module_check_tells_stdlib_http_from_ours() -> None:
    assert is_io_module("http") and is_io_module("http.client") and is_io_module("asyncio.events")
    assert is_io_module("urllib.request") and not is_io_module("urllib.parse")
    assert not is_io_module("lambdarig.rie_server.http.parser") and not is_io_module("timeit")


def test_the_fresh_interpreter_check_sees_io_behind_an_import(tmp_path: Path) -> None:
    package = tmp_path / "probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "clock.py").write_text("from time import monotonic\n")
    (package / "dates.py").write_text("import datetime  # datetime imports time: not ours\n")
    (package / "logger.py").write_text("import logging  # logging imports threading\n")
    (package / "proto.py").write_text("from probe_pkg import clock, dates\n")
    assert io_modules_loaded_by("probe_pkg.dates", tmp_path) == []
    assert io_modules_loaded_by("probe_pkg.proto", tmp_path) == ["probe_pkg.clock imports time"]
    assert "threading" in io_modules_loaded_by("probe_pkg.logger", tmp_path)
    with pytest.raises(AssertionError, match="importing probe_pkg.missing failed"):
        io_modules_loaded_by("probe_pkg.missing", tmp_path)


RIE_SUBPACKAGES = sorted(path.parent.name for path in (SRC / "rie_server").glob("*/__init__.py"))


def test_the_rie_server_subpackages_are_the_ones_we_know() -> None:
    assert {"http", "invoke", "runtime", "environments", "fronts"} <= set(RIE_SUBPACKAGES)


@pytest.mark.parametrize("subpackage", RIE_SUBPACKAGES)
def test_rie_server_subpackage_init_imports_nothing(subpackage: str) -> None:
    package = f"lambdarig.rie_server.{subpackage}"
    loaded, _ = load_in_fresh_interpreter(package)
    ours = {name for name in loaded if name.split(".")[0] == "lambdarig"}
    assert ours == {"lambdarig", "lambdarig.rie_server", package}


# --- Import cycles --------------------------------------------------------------------------------


def import_graph(directory: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports when run (any function-level import
    included, ``if TYPE_CHECKING:`` imports not); ``directory`` holds ``package``."""
    names = {}
    for path in sorted(directory.rglob("*.py")):
        parts = path.relative_to(directory).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[path] = ".".join((package, *parts))
    modules = set(names.values())
    graph: dict[str, set[str]] = {}
    for path, name in names.items():
        own = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        imported = {module for _, module in imports_of(path, own, type_checking=False)}
        graph[name] = (imported & modules) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` as ``[a, b, ..., a]``, or ``[]``."""
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> list[str]:
        if module in stack:
            return [*stack[stack.index(module) :], module]
        if module in done:
            return []
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*stack, module])
            if cycle:
                return cycle
        done.add(module)
        return []

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return []


def test_runtime_client_has_no_import_cycle() -> None:
    graph = import_graph(SRC / "runtime_client", "lambdarig.runtime_client")
    # cli imports the loop inside main(): function-level imports are edges too.
    assert "lambdarig.runtime_client.loop" in graph["lambdarig.runtime_client.cli"]
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from . import a\n"
    )
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.a import x\n")
    (package / "c.py").write_text("from . import b\n")
    graph = import_graph(package, "pkg")
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg", "pkg.b"},
        "pkg.b": {"pkg.a"},
        "pkg.c": {"pkg", "pkg.b"},
    }
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    assert find_cycle({"pkg": set(), "pkg.a": {"pkg"}}) == []
