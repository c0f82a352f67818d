"""Size of the .venv a fresh clone's `bash scripts/run.sh` installs, and after its first run (in a temporary copy).

Usage: .venv/bin/python bench/venv_size.py [--extras charts ...] [--write]

The committed tree (`git archive HEAD`) goes to a temporary folder (no seed articles beside it, no UNIONBOT_
variables: the first configuration); `bash scripts/setup.sh [extras]` creates its .venv from the package index as
a new clone would (pip's download cache may be warm: it lives outside .venv and is not counted); the first figure
is `du` of that .venv. Then `bash scripts/run.sh` starts the console chat and quits (`/thoat`), as a user's first
run does; Python writes whatever bytecode (`__pycache__`) pip did not compile at install then, so the second figure
is what the disk holds from then on. Nothing is deleted between the two.
Target (issue #15): ≤ 200 MB for running (no extras).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402


def megabytes(path: Path) -> float:
    """``du -sk`` in MB (1 MB = 1024 KB, as ``du -m``)."""
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1024


def bytecode(path: Path) -> float:
    return sum(f.stat().st_size for d in path.rglob("__pycache__") for f in d.iterdir()) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extras", nargs="*", default=[])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNIONBOT_", "VIRTUAL_ENV", "PYTHONPATH"))}
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "clone"
        data = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(tree, filter="data")
        subprocess.run(["bash", "scripts/setup.sh", *args.extras], cwd=tree, check=True, capture_output=True, env=env)
        venv = tree / ".venv"
        installed = megabytes(venv)
        site = next((venv / "lib").glob("python*/site-packages"))
        sizes = sorted(((megabytes(p), p.name) for p in site.iterdir()), reverse=True)[:10]
        has_pip = (site / "pip").is_dir()
        compiled_at_install = bytecode(venv)
        ran = subprocess.run(["bash", "scripts/run.sh"], cwd=tree, input="/thoat\n", capture_output=True, text=True,
                             env=env, timeout=900)
        if ran.returncode != 0:
            raise SystemExit(f"scripts/run.sh failed ({ran.returncode}): {ran.stderr[-2000:]}")
        after = megabytes(venv)
        compiled = bytecode(venv)
    command = f"`bash scripts/setup.sh {' '.join(args.extras)}`".replace(" `", "`")
    body = "\n".join([
        header("venv"), "",
        f"{command} on a fresh copy: **{installed:.0f} MB** in .venv ({'with' if has_pip else 'no'} pip); "
        f"after a first `bash scripts/run.sh` (console chat, `/thoat`): **{after:.0f} MB**. Bytecode "
        f"(`__pycache__`): {compiled_at_install:.1f} MB after setup (pip compiles at install), {compiled:.1f} MB "
        "after the first run. Largest: "
        + ", ".join(f"{name} {mb:.0f} MB" for mb, name in sizes) + ".",
    ])
    print(body)
    if args.write:
        write_section("venv-size" + ("-" + "-".join(args.extras) if args.extras else ""), body)


if __name__ == "__main__":
    main()
