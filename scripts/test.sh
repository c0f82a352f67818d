#!/usr/bin/env bash
# Set everything up, then lint and run the whole test suite.
# PostgreSQL storage tests run when UNIONBOT_TEST_DATABASE_URL is set (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
