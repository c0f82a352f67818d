#!/usr/bin/env bash
# Create .venv (if missing) and install the project: what running needs, plus the extras named as arguments
# (`bash scripts/setup.sh test`: the test tools, as scripts/test.sh does). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras="$(IFS=,; echo "$*")"
target="."
[ -n "$extras" ] && target=".[${extras}]"
stamp=".venv/.unionbot-installed${extras:+-${extras//,/-}}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e "$target" >&2
  touch "$stamp"
fi
