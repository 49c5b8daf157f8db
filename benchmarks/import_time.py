"""Start-up cost: how long an import or an ``infoalign`` command takes before doing any work.

Run: ``python benchmarks/import_time.py [--repeats 7]``. Each command runs in a fresh
interpreter; the best of the repeats is reported (the machine's noise only adds time), beside
a bare ``python -c pass`` measured in the same run, and the ratio of each to it.
Targets (issue 12): ``import infoalign_sklearn`` < 0.5 s and ``infoalign --help`` < 1 s on an
idle 2-core machine; the tests check the mechanism (which modules an import loads), this
script the seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import infoalign_sklearn": [sys.executable, "-c", "import infoalign_sklearn"],
    "infoalign --version": None,
    "infoalign --help": None,
    "import infoalign_sklearn.chem": [sys.executable, "-c", "import infoalign_sklearn.chem"],
    "import infoalign_sklearn.graph": [sys.executable, "-c", "import infoalign_sklearn.graph"],
    "from infoalign_sklearn import InfoAlignEmbedder (torch)": [
        sys.executable, "-W", "ignore", "-c", "from infoalign_sklearn import InfoAlignEmbedder"],
    "from infoalign_sklearn import MultiTaskMLPClassifier (skorch)": [
        sys.executable, "-W", "ignore", "-c",
        "from infoalign_sklearn import MultiTaskMLPClassifier"],
}


def _cli() -> list[str]:
    found = shutil.which("infoalign", path=os.path.dirname(sys.executable)) or shutil.which(
        "infoalign")
    return [found] if found else [sys.executable, "-m", "infoalign_sklearn"]


def best_seconds(argv: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cli = _cli()
    commands = dict(COMMANDS)
    commands["infoalign --version"] = [*cli, "--version"]
    commands["infoalign --help"] = [*cli, "--help"]
    print(f"best of {args.repeats} runs, {os.cpu_count()} CPU(s), Python "
          f"{sys.version.split()[0]}")
    base = None
    for name, argv in commands.items():
        seconds = best_seconds(argv, args.repeats)
        base = base or seconds
        print(f"{name:<62s} {seconds:6.3f} s  ({seconds / base:5.1f}x python -c pass)")


if __name__ == "__main__":
    main()
