"""Cold start of `unionbot ask` (a new process each time) as a ratio to importing the libraries it needs.

Usage: .venv/bin/python bench/cold_start.py [--runs 7] [--base COMMIT] [--write]

The reference, measured in the same run: `python -c "import sqlalchemy.ext.asyncio, aiosqlite, numpy,
pydantic_settings, typer, yaml"`. Target: `unionbot ask` ≤ 1.5× that (the project's own start-up — schema check,
YAML, knowledge and model loading — costs at most half of what its libraries cost to import). With --base, the
same measurements on that commit (exported with `git archive` into a temporary folder, nothing checked out),
interleaved with the current tree's so that the machine's load falls on both alike. `import aiogram` alone is
measured too: it must stay off every path that does not talk to Telegram. The database and the model cache are
present (a first `ask` made them, not timed); the seed documents are ingested when they lie beside the checkout.
Every process runs with compiled bytecode, as an installed bot does (pip and `compileall` write it): in a
temporary PYTHONPYCACHEPREFIX, written by the untimed first runs, with PYTHONDONTWRITEBYTECODE dropped — else each
`ask` compiled the project's ~80 modules again while the libraries' import read theirs from site-packages. With
--no-bytecode, the old way (the environment's PYTHONDONTWRITEBYTECODE kept).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402

QUESTION = "gạo kim sáng giảm bao nhiêu"
LIBRARIES = "import sqlalchemy.ext.asyncio, aiosqlite, numpy, pydantic_settings, typer, yaml"
#: modules `unionbot ask` must not import
HEAVY = ("aiogram", "alembic", "bm25s", "sklearn", "scipy", "openpyxl", "docx", "pypdf", "bs4", "redis")


def timed(cmd: list[str], env: dict, cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def imported(tree: Path, env: dict, cwd: Path) -> list[str]:
    """The heavy top-level modules an `ask` imports (from -X importtime)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "ask", QUESTION], env=env, cwd=cwd,
                            capture_output=True, text=True, check=True)
    names = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
             if line.startswith("import time:")}
    return sorted(names & set(HEAVY))


def export(commit: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--base", help="a commit to measure beside the current tree (before/after)")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE from the environment: the project's modules compiled "
                             "at every start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        trees = {"after": ROOT}
        if args.base:
            trees = {"before": export(args.base, tmp / "base"), **trees}
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
        if not args.no_bytecode:
            base_env.pop("PYTHONDONTWRITEBYTECODE", None)
            base_env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        envs, cwds = {}, {}
        for name, tree in trees.items():
            cwds[name] = tmp / f"cwd-{name}"
            cwds[name].mkdir()
            # the base tree sits in a temporary folder: its default documents folder is not beside it
            seeds = ROOT.parent / "shared" / "seeds"
            envs[name] = {**base_env, "UNIONBOT_DATA_DIR": str(tmp / f"data-{name}"), "PYTHONPATH": str(tree),
                          "UNIONBOT_DOCUMENTS_DIR": str(seeds) if seeds.is_dir() else ""}
        first = {name: timed([sys.executable, "-m", "bot", "ask", QUESTION], envs[name], cwds[name])
                 for name in trees}  # empty data dir: migrate, load knowledge (and documents), train
        timed([sys.executable, "-c", LIBRARIES], base_env, tmp)  # the first asks wrote the project's bytecode:
        timed([sys.executable, "-c", "import aiogram.types"], base_env, tmp)  # these, the libraries' and aiogram's
        ask: dict[str, list[float]] = {name: [] for name in trees}
        reference: list[float] = []
        aiogram: list[float] = []
        for _ in range(args.runs):
            reference.append(timed([sys.executable, "-c", LIBRARIES], base_env, tmp))
            for name in trees:
                ask[name].append(timed([sys.executable, "-m", "bot", "ask", QUESTION], envs[name], cwds[name]))
        for _ in range(max(1, args.runs // 3)):
            aiogram.append(timed([sys.executable, "-c", "import aiogram.types"], base_env, tmp))
        heavy = {name: imported(tree, envs[name], cwds[name]) for name, tree in trees.items()}
        shutil.rmtree(tmp / "data-after" / "cache")
        retrain = timed([sys.executable, "-m", "bot", "ask", QUESTION], envs["after"], cwds["after"])
    ref = statistics.median(reference)
    rows = ["| case | median s | ratio to the libraries' import | heavy modules imported | runs |",
            "|---|---|---|---|---|",
            f"| reference: `python -c \"{LIBRARIES}\"` | {ref:.2f} | 1.00× | | {args.runs} |"]
    for name in trees:
        med = statistics.median(ask[name])
        label = "`unionbot ask`" + (f" {name}" + (f" ({args.base})" if name == "before" else "") if args.base
                                   else "")
        rows.append(f"| {label} | {med:.2f} | **{med / ref:.2f}×** | {', '.join(heavy[name]) or 'none'} "
                    f"| {args.runs} |")
    rows += [f"| `unionbot ask` on an empty data dir (migrate, load knowledge and documents, train) | "
             f"{first['after']:.2f} | {first['after'] / ref:.2f}× | | 1 |",
             f"| `unionbot ask`, model cache deleted (retrains) | {retrain:.2f} | {retrain / ref:.2f}× | | 1 |",
             f"| `python -c \"import aiogram.types\"` (off every non-Telegram path) | {statistics.median(aiogram):.2f}"
             f" | {statistics.median(aiogram) / ref:.2f}× | | {len(aiogram)} |"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    body = "\n".join([
        header("cold"), "", *rows, "",
        f"Database and model cache present; seed documents {'ingested' if seeds.is_dir() else 'absent'}; "
        f"{'no bytecode written (every start compiles the project)' if args.no_bytecode else 'bytecode compiled'}. "
        f"Target: ≤ 1.5× the libraries' import. Load average at the end: {load:.1f}.",
    ])
    print(body)
    if args.write:
        write_section("cold-start-ratio", body)


if __name__ == "__main__":
    main()
