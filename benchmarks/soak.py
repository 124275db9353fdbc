"""The long soak of lambdarig-rie: ``python benchmarks/soak.py --seconds 300``.

The same run as ``tests/rie_server/test_soak.py`` (logic in ``tests/rie_server/soak.py``), for
longer: callers on threads run a seeded mix of echo, 5 MiB echo, raise, exit, timeout, OOM, Event
and DryRun invocations against one emulator, then it prints the totals (invocations by kind,
wrong answers, lost and duplicated invocations, the emulator's RSS at start, at the end and every
1000 invocations, processes left, fds) and the machine. Exit status 1 if anything was wrong, lost,
duplicated or left over.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.rie_server.soak import soak  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long (default 300)")
    parser.add_argument("--callers", type=int, default=8, help="caller threads (default 8)")
    parser.add_argument("--seed", type=int, default=8, help="the mix's seed (default 8)")
    args = parser.parse_args()
    with open("/proc/loadavg") as loadavg:
        load_before = loadavg.read().split()[0]
    with tempfile.TemporaryDirectory(prefix="lambdarig-soak-") as workdir:
        totals = soak(args.seconds, Path(workdir), callers=args.callers, seed=args.seed)
    with open("/proc/loadavg") as loadavg:
        load_after = loadavg.read().split()[0]
    print(
        f"date {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load {load_before} -> "
        f"{load_after}, {args.callers} callers, seed {args.seed}"
    )
    for line in totals.lines():
        print(line)
    problems = totals.wrong + totals.lost + totals.duplicates
    for problem in problems[:20]:
        print("  " + problem)
    bad = problems or totals.pids_left or totals.fds_after != totals.fds_before
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
