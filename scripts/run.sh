#!/usr/bin/env bash
# Set up what running needs, bring the database schema up to date, then start the bot (console chat on the
# embedded SQLite when no messenger token is set). Arguments go to `unionbot run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/unionbot db upgrade >&2
exec .venv/bin/unionbot run "$@"
