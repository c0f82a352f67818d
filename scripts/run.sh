#!/usr/bin/env bash
# Set everything up, then start the bot (console chat on the embedded SQLite when no messenger token is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/unionbot run "$@"
