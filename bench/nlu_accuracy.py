"""Accuracy of the whole bot on the labelled dev set (the same numbers as `unionbot eval`).

Usage: .venv/bin/python bench/nlu_accuracy.py [--dev eval/dev.jsonl] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402
from bot.evaluation import whole_bot  # noqa: E402
from bot.settings import Settings  # noqa: E402
from nlu.evaluate import render  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev", type=Path, default=ROOT / "eval" / "dev.jsonl")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rep = asyncio.run(whole_bot(Settings(_env_file=None), args.dev))
    body = "\n".join([header("accuracy"), "", f"`unionbot eval --dev {args.dev.relative_to(ROOT)}`:", "", "```",
                      render(rep), "```", "",
                      "Targets: ≥ 95% in-scope, ≥ 93% in-scope without diacritics, ≥ 90% of out-of-scope "
                      "questions answered with the fallback."])
    print(body)
    if args.write:
        write_section("nlu-accuracy", body)


if __name__ == "__main__":
    main()
