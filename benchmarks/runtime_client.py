"""lambdarig.runtime_client against awslambdaric, side by side, with ratios ours/awslambdaric.

    python benchmarks/runtime_client.py [--spawns N] [--seconds S] [--reuse-peers] [--update-readme]

(1) cold init: process spawn -> first ``GET /next`` at a socket we own (median of --spawns each,
    sides alternated); target <= 0.7x.
(2) warm invokes/s through AWS's aws-lambda-rie (sequential, one keep-alive connection, --seconds
    each, after a warm-up invoke); target >= 1.0x.
(3) RSS (VmRSS) of the runtime when its first ``GET /next`` arrives (median); target <= 1.0x.
Plus installed sizes: awslambdaric with its dependencies against lambdarig installed --no-deps,
and each client alone.

Both clients run in fresh venvs of the running Python under ``$LAMBDARIG_CACHE/bench/``
(awslambdaric==4.2.2 from PyPI; lambdarig installed from this checkout with --no-deps). With
``--reuse-peers`` both run under the awslambdaric venv of ``tests.peers`` instead (ours through
PYTHONPATH): no installs, for a quick smoke run. Not part of the test command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import peers  # noqa: E402

from _common import (  # noqa: E402
    ColdStart,
    NextListener,
    emulator,
    invokes_per_second,
    machine_info,
    median,
    write_handler,
)

REPO = Path(__file__).resolve().parents[1]
AWSLAMBDARIC = f"awslambdaric=={peers.AWSLAMBDARIC_VERSION}"
SIZE_SCRIPT = """
import importlib.metadata as md, json, re, sys
def closure(name, seen):
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return
    seen[key] = sum(f.locate().stat().st_size for f in dist.files or [] if f.locate().exists())
    for req in dist.requires or []:
        if "extra ==" not in req:
            closure(re.split(r"[ ;<>=!~\\[(]", req, maxsplit=1)[0], seen)
seen = {}
closure(sys.argv[1], seen)
print(json.dumps(seen))
"""


@dataclass(frozen=True)
class Client:
    name: str
    python: Path
    module: str
    distribution: str
    env: dict[str, str]


def _pip(python: Path, *args: str) -> None:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.setdefault("PIP_CACHE_DIR", str(peers.cache_dir() / "pip"))
    argv = [str(python), "-m", "pip", "install", "--quiet", *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def _fresh_venv(directory: Path) -> Path:
    python = directory / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(directory)], check=True)
    return python


def fresh_clients() -> tuple[Client, Client]:
    """Venvs of the running Python: one with awslambdaric, one with this checkout's lambdarig."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    root = peers.cache_dir() / "bench" / f"py{version}"
    ric_python = _fresh_venv(root / "awslambdaric")
    _pip(ric_python, "--only-binary=:all:", AWSLAMBDARIC)
    ours_python = _fresh_venv(root / "lambdarig")
    _pip(ours_python, "--no-deps", "--force-reinstall", str(REPO))
    return (
        Client("awslambdaric", ric_python, "awslambdaric", "awslambdaric", {}),
        Client("lambdarig", ours_python, "lambdarig.runtime_client", "lambdarig", {}),
    )


def peer_clients() -> tuple[Client, Client]:
    python = peers.awslambdaric_python()
    if python is None:
        raise SystemExit("awslambdaric peer not available: run `python -m tests.peers` first")
    ours_env = {"PYTHONPATH": str(REPO / "src")}
    return (
        Client("awslambdaric", python, "awslambdaric", "awslambdaric", {}),
        Client("lambdarig", python, "lambdarig.runtime_client", "lambdarig", ours_env),
    )


def base_env(code: Path, runtime_api: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        **extra,
    }


def cold_starts(clients: tuple[Client, ...], spawns: int, code: Path) -> dict[str, list[ColdStart]]:
    handler = write_handler(code)
    results: dict[str, list[ColdStart]] = {client.name: [] for client in clients}
    listener = NextListener()
    try:
        for _ in range(spawns):  # alternate the sides so drift hits both equally
            for client in clients:
                argv = [str(client.python), "-m", client.module, handler]
                env = base_env(code, listener.address, client.env)
                results[client.name].append(listener.spawn_and_wait(argv, env, code))
    finally:
        listener.close()
    return results


def warm_rates(clients: tuple[Client, ...], seconds: float, code: Path) -> dict[str, float]:
    rie = peers.rie_binary()
    if rie is None:
        raise SystemExit("aws-lambda-rie peer not available: run `python -m tests.peers` first")
    handler = write_handler(code)
    rates = {}
    for client in clients:
        env = base_env(code, "unused", client.env)
        del env["AWS_LAMBDA_RUNTIME_API"]  # the emulator sets it
        argv = [str(client.python), "-m", client.module, handler]
        with emulator(rie, argv, env, code) as port:
            rates[client.name] = invokes_per_second(port, seconds)
    return rates


def _python_output(client: Client, script: str, argument: str) -> str:
    """Run ``script`` under the client's interpreter and environment; its stdout."""
    argv = [str(client.python), "-c", script, argument]
    env = {**os.environ, **client.env}
    return subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout


def install_kib(client: Client) -> float:
    sizes: dict[str, int] = json.loads(_python_output(client, SIZE_SCRIPT, client.distribution))
    return sum(sizes.values()) / 1024


def runtime_files_kib(client: Client) -> float:
    """Size of the client's own files, without dependencies or bytecode caches: awslambdaric's
    distribution (Python package + native extension); for lambdarig, only what
    ``lambdarig.runtime_client`` imports (the subpackage, ``lambdarig/__init__`` and
    ``lambdarig/runtime_api``), as an image or layer installs it."""
    script = (
        "import importlib.metadata as md, pathlib, sys\n"
        "if sys.argv[1] == 'awslambdaric':\n"
        "    files = [f.locate() for f in md.distribution('awslambdaric').files or []]\n"
        "else:\n"
        "    import lambdarig.runtime_client as rc\n"
        "    top = pathlib.Path(rc.__file__).parent\n"
        "    pkg = top.parent\n"
        "    files = [*top.rglob('*.py'), pkg / '__init__.py', pkg / 'runtime_api.py']\n"
        "print(sum(p.stat().st_size for p in map(pathlib.Path, files)"
        " if p.is_file() and '__pycache__' not in p.parts))"
    )
    return int(_python_output(client, script, client.name)) / 1024


@dataclass(frozen=True)
class Row:
    label: str
    reference: float
    ours: float
    digits: int
    target: str

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("nan")

    def text(self) -> str:
        ref, ours = f"{self.reference:.{self.digits}f}", f"{self.ours:.{self.digits}f}"
        return f"{self.label:<40}{ref:>14}{ours:>14}{self.ratio:>9.2f}x   {self.target}"

    def markdown(self) -> str:
        ref, ours = f"{self.reference:.{self.digits}f}", f"{self.ours:.{self.digits}f}"
        target = self.target.replace("<=", "≤").replace(">=", "≥").replace("x", "×")
        return f"| {self.label} | {ref} | {ours} | {self.ratio:.2f}× | {target} |"


README_START, README_END = "<!-- BENCHMARK-RESULTS -->", "<!-- /BENCHMARK-RESULTS -->"


def update_readme(rows: list[Row], info: dict[str, str], readme: Path) -> None:
    """Replace the block between the BENCHMARK-RESULTS markers of the README with ``rows``."""
    text = readme.read_text()
    head, found, rest = text.partition(README_START)
    _, found_end, tail = rest.partition(README_END)
    if not (found and found_end):
        raise SystemExit(f"{readme}: expected the markers {README_START} ... {README_END}")
    when = time.strftime("%Y-%m-%d", time.gmtime())
    table = [
        f"Measured {when} on {info['cpu']} ({info['cores']} cores), Linux {info['kernel']},"
        f" CPython {info['python']}:",
        "",
        "| | awslambdaric | lambdarig | ratio | target |",
        "|---|---|---|---|---|",
        *(row.markdown() for row in rows),
    ]
    readme.write_text(head + README_START + "\n" + "\n".join(table) + "\n" + README_END + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spawns", type=int, default=25, help="cold starts per client")
    parser.add_argument("--seconds", type=float, default=3.0, help="warm-invoke window per client")
    parser.add_argument("--reuse-peers", action="store_true", help="no venvs: smoke run")
    parser.add_argument("--update-readme", action="store_true", help="write figures to README")
    args = parser.parse_args(argv)

    clients = peer_clients() if args.reuse_peers else fresh_clients()
    ref, ours = clients
    info = machine_info()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}")
    print(f"python: {info['python']}; clients: {ref.python}, {ours.python}")
    with tempfile.TemporaryDirectory(prefix="lambdarig-bench-") as tmp:
        code = Path(tmp)
        starts = cold_starts(clients, args.spawns, code)
        rates = warm_rates(clients, args.seconds, code)
    init_ms = {name: median([s.seconds for s in runs]) * 1000 for name, runs in starts.items()}
    rss_mib = {name: median([s.rss_kib for s in runs]) / 1024 for name, runs in starts.items()}
    size = {client.name: install_kib(client) for client in clients}
    files = {client.name: runtime_files_kib(client) for client in clients}
    rows = [
        Row(f"cold init, median of {args.spawns} (ms)", init_ms[ref.name], init_ms[ours.name],
            1, "<= 0.70x"),
        Row(f"warm invokes/s ({args.seconds:g} s)", rates[ref.name], rates[ours.name], 0,
            ">= 1.00x"),
        Row("RSS after init (MiB)", rss_mib[ref.name], rss_mib[ours.name], 1, "<= 1.00x"),
        Row("pip install, --no-deps for ours (KiB)", size[ref.name], size[ours.name], 0, ""),
        Row("client alone, no deps (KiB)", files[ref.name], files[ours.name], 0, ""),
    ]  # fmt: skip
    print(f"{'':<40}{ref.name:>14}{ours.name:>14}{'ratio':>10}   target")
    for row in rows:
        print(row.text())
    if args.update_readme:
        update_readme(rows, info, REPO / "README.md")
        print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
