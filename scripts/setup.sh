#!/usr/bin/env bash
# Create .venv (if missing) and install the project: what running needs, the extras the settings need
# (`unionbot extras`: a Telegram token → telegram, a PostgreSQL URL → postgres, UNIONBOT_REDIS_URL → redis,
# .docx/.pdf/.html documents to ingest → documents), plus the extras named as arguments (`bash scripts/setup.sh
# charts`; `test`: every extra and the test tools, as scripts/test.sh does). Safe to run again.
#
# The venv holds no pip (nothing at run time needs it): pip runs from outside it, the wheel Python ships in
# ensurepip run by the venv's interpreter, else the system's pip (22.3 or newer) with --python.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv --without-pip .venv
fi

pip_install() {
  local wheel
  wheel="$(.venv/bin/python -c 'import ensurepip, pathlib; print(next(iter(sorted((pathlib.Path(ensurepip.__file__).parent / "_bundled").glob("pip-*.whl"))), ""))' 2>/dev/null || true)"
  if [ -n "$wheel" ]; then
    .venv/bin/python "$wheel/pip" install --disable-pip-version-check --quiet "$@" >&2
  elif "$PYTHON" -m pip install --help 2>/dev/null | grep -q -- '--python'; then
    "$PYTHON" -m pip --python .venv/bin/python install --disable-pip-version-check --quiet "$@" >&2
  elif [ -x .venv/bin/pip ]; then  # a .venv made before the venv went without pip
    .venv/bin/python -m pip install --disable-pip-version-check --quiet "$@" >&2
  else
    echo "Không tìm thấy pip để cài gói (cần ensurepip của Python, hoặc pip 22.3 trở lên): trên Debian/Ubuntu" \
         "cài bằng 'apt-get install python3-venv' (hoặc python3-pip) rồi chạy lại." >&2
    exit 1
  fi
}

fresh() {  # the stamp of what was installed exists and is newer than pyproject.toml
  [ -f ".venv/.unionbot-installed$1" ] && [ ! pyproject.toml -nt ".venv/.unionbot-installed$1" ]
}

if ! fresh ""; then
  pip_install -e .
  touch .venv/.unionbot-installed
fi
wanted=("$@")
mapfile -t configured < <(.venv/bin/unionbot extras)
missing=()
for extra in "${configured[@]}" "${wanted[@]}"; do
  [ -n "$extra" ] && ! fresh "-$extra" && missing+=("$extra")
done
if [ "${#missing[@]}" -gt 0 ]; then
  pip_install -e ".[$(IFS=,; echo "${missing[*]}")]"
  for extra in "${missing[@]}"; do touch ".venv/.unionbot-installed-$extra"; done
fi
