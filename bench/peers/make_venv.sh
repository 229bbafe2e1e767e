#!/usr/bin/env bash
# The throw-away virtualenv of the wagtail-personalisation baseline (bench/peers/README.md):
# wagtail-personalisation 1.0.0 with the very Wagtail, Django, gunicorn, psycopg and redis
# versions the project's .venv has, so that only the personalization app differs.
#
#   bash bench/peers/make_venv.sh [VENV]      (default: var/peers/wp-venv, git-ignored)
#
# Re-running it is cheap: an existing venv that already has the pinned versions is kept.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${1:-$ROOT/var/peers/wp-venv}"
PROJECT_PY="$ROOT/.venv/bin/python"

# The same interpreter as the project's venv, and the versions it has installed.
BASE_PY="$("$PROJECT_PY" -c 'import sys; print(sys._base_executable)')"
PINS="$("$PROJECT_PY" - <<'PY'
from importlib.metadata import version
for name in ("wagtail", "Django", "gunicorn", "psycopg", "psycopg-binary", "redis", "pillow"):
    print(f"{name}=={version(name)}")
PY
)"

if [ ! -x "$VENV/bin/python" ]; then
    "$BASE_PY" -m venv "$VENV"
fi
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "wagtail-personalisation==1.0.0" $PINS
"$VENV/bin/python" -c 'import wagtail_personalisation, wagtail, django; print("peers venv:", wagtail.__version__, django.__version__)'
