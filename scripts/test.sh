#!/usr/bin/env bash
# The whole test suite: lint, then pytest on SQLite, then again on PostgreSQL when one is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chromium.sh
.venv/bin/ruff check .
export WANGGE_VAR_DIR="${WANGGE_VAR_DIR:-$PWD/var/test}"
# Browser and serial tests commit and flush the database after each test, so they run in their own pass.
run_suite() {
  .venv/bin/pytest -n 2 -q -m "not browser and not serial" "$@"
  .venv/bin/pytest -q -m "browser or serial" -p no:randomly "$@"
}
echo "== tests on SQLite"
env -u DATABASE_URL bash -c "$(declare -f run_suite); run_suite $*"
PG_URL="${WANGGE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if .venv/bin/python -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
  echo "== tests on PostgreSQL ($PG_URL)"
  DATABASE_URL="$PG_URL" run_suite "$@"
else
  echo "== PostgreSQL not reachable at $PG_URL: the PostgreSQL run was SKIPPED"
fi
