#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases (persistence and visibility). Every step
# is idempotent: run it on each deploy and before starting a newer server version, it applies only
# the schema versions not applied yet.
#
# Needs `temporal-sql-tool` on PATH (the temporalio/admin-tools image has it) and:
#   SQL_HOST, SQL_PORT (5432), SQL_USER, SQL_PASSWORD   a role allowed to create databases
#   TEMPORAL_SCHEMA_DIR   the server's schema files (admin-tools: /etc/temporal/schema)
#   TEMPORAL_DB (temporal), TEMPORAL_VISIBILITY_DB (temporal_visibility)
set -eu

: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
export SQL_PASSWORD
SQL_PORT="${SQL_PORT:-5432}"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

# The tool logs every statement: show its output only when it fails.
quiet() {
  out=$("$@" 2>&1) || { echo "$out" >&2; echo "failed: $*" >&2; exit 1; }
}

# $1: database, $2: schema (temporal | visibility)
setup() {
  versioned="$SCHEMA_DIR/$2/versioned"
  [ -d "$versioned" ] || { echo "no schema directory $versioned" >&2; exit 1; }
  attempt=0
  # create-database succeeds when the database exists; it fails while PostgreSQL is starting.
  until sql_tool --db "$1" create-database >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    [ "$attempt" -lt 30 ] || { echo "PostgreSQL at $SQL_HOST:$SQL_PORT did not answer" >&2; exit 1; }
    sleep 2
  done
  # The version table (kept when it exists), then every versioned step not applied yet.
  quiet sql_tool --db "$1" setup-schema -v 0.0
  quiet sql_tool --db "$1" update-schema -d "$versioned"
  echo "database $1: $2 schema up to date"
}

setup "${TEMPORAL_DB:-temporal}" temporal
setup "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" visibility
