"""Size of the .venv a fresh clone's `bash scripts/run.sh` installs (its setup step, in a temporary copy).

Usage: .venv/bin/python bench/venv_size.py [--extras test] [--write]

The committed tree (`git archive HEAD`) goes to a temporary folder; `bash scripts/setup.sh [extras]` creates its
.venv from the package index as a new clone would; the figure is `du` of that .venv, with the largest packages.
Target (issue #15): ≤ 200 MB for running (no extras).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402


def megabytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extras", nargs="*", default=[])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "clone"
        data = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(tree, filter="data")
        subprocess.run(["bash", "scripts/setup.sh", *args.extras], cwd=tree, check=True, capture_output=True)
        total = megabytes(tree / ".venv")
        site = next((tree / ".venv" / "lib").glob("python*/site-packages"))
        sizes = sorted(((megabytes(p), p.name) for p in site.iterdir()), reverse=True)[:10]
    body = "\n".join([
        header("venv"), "",
        f"`bash scripts/setup.sh {' '.join(args.extras)}`".replace(" `", "`") + f" on a fresh copy: **{total} MB**. "
        "Largest: " + ", ".join(f"{name} {mb} MB" for mb, name in sizes) + ".",
    ])
    print(body)
    if args.write:
        write_section("venv-size" + ("-" + "-".join(args.extras) if args.extras else ""), body)


if __name__ == "__main__":
    main()
