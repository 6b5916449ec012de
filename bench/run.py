"""Run benchmarks, each in a fresh process, printing one JSON line per benchmark."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(
        p.stem
        for p in HERE.glob("*.py")
        if p.stem not in {"run", "harness"} and not p.stem.startswith("_")
    )


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--one":
        sys.path.insert(0, str(HERE.parent))
        module = importlib.import_module(f"bench.{argv[1]}")
        print(json.dumps({"benchmark": argv[1], **module.main()}))
        return 0
    names = argv or available()
    failed = 0
    for name in names:
        result = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--one", name],
            cwd=HERE.parent,
            env=os.environ,
            check=False,
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
