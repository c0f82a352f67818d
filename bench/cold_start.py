"""Cold start to first answer of `unionbot ask` (a new process each time), model cache warm and cold.

Usage: .venv/bin/python bench/cold_start.py [--runs 5] [--write]

Reference: `python -c pass` in the same interpreter, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import header, write_section  # noqa: E402


def timed(cmd: list[str], env: dict, cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    ask = [sys.executable, "-m", "bot", "ask", "gạo kim sáng giảm bao nhiêu"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
        env["UNIONBOT_DATA_DIR"] = str(tmp / "data")
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        first = timed(ask, env, tmp)  # empty data dir: migrate, load knowledge, train the model
        warm = [timed(ask, env, tmp) for _ in range(args.runs)]
        cold_model = []
        for _ in range(max(1, args.runs // 2)):
            shutil.rmtree(tmp / "data" / "cache")
            cold_model.append(timed(ask, env, tmp))
        bare = [timed([sys.executable, "-c", "pass"], env, tmp) for _ in range(args.runs)]
    med = statistics.median(warm)
    body = "\n".join([
        header("cold"), "",
        "| case | median s | runs |", "|---|---|---|",
        f"| `unionbot ask` (database and model cache present) | {med:.2f} | {args.runs} |",
        f"| `unionbot ask`, model cache deleted (retrains) | {statistics.median(cold_model):.2f} | {len(cold_model)} |",
        f"| `unionbot ask` on an empty data dir (migrate, load knowledge, train) | {first:.2f} | 1 |",
        f"| reference: `python -c pass` | {statistics.median(bare):.3f} | {args.runs} |",
        "", f"Target: ≤ 2 s to the first answer. Ratio to the bare interpreter: {med / statistics.median(bare):.0f}×.",
    ])
    print(body)
    if args.write:
        write_section("cold-start", body)


if __name__ == "__main__":
    main()
