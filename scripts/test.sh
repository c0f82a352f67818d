#!/usr/bin/env bash
# Set everything up (with the test extra), then lint, type-check and run the whole test suite.
# PostgreSQL storage tests run when UNIONBOT_TEST_DATABASE_URL is set (as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
