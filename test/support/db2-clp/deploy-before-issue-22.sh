#!/usr/bin/env bash
# db/db2/deploy.sh as it was when issue 22 was reported, kept unchanged below
# this comment so test/host/db2-deploy.test.ts can show the CLP stand-in
# catches its bugs: applied() and tables() run db2 in a pipe inside $(...),
# so that db2's parent is not this shell and it sees no connection
# (SQL1024N), read as "applied"; a second run dies on the ledger's SQL0601N.
# Applies the Db2 scripts of db/db2 to a database, as a DBA does it: with the
# Db2 command line processor (CLP), each migration in one unit of work with
# its ledger row, in the documented order, then the grants. Run where the
# CLP works (a Db2 client with db2profile sourced), as a user with DDL and
# GRANT authority:
#   db/db2/deploy.sh BANKDB BANKAPI [dba-user]
# The service (DB_MIGRATE=check, the default for db2://) then only reads the
# ledger at start, and refuses to start while a version is missing.
# `npm run db:migrate` does the same through ibm_db, without the grants.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 DATABASE SCHEMA [USER]" >&2; exit 2; }
database=$1 schema=$2 user=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

db2 connect to "$database" ${user:+user "$user"} >/dev/null
trap 'db2 connect reset >/dev/null 2>&1 || true' EXIT
db2 "SET SCHEMA \"$schema\""
db2 "SET PATH = SYSTEM PATH, \"$schema\""

# The ledger once (SQL0601N: it exists already).
db2 -td@ -v -f "$here/ledger.sql" || [[ $? -le 2 ]]

applied() { db2 -x "SELECT COUNT(*) FROM SCHEMA_MIGRATION WHERE VERSION = '$1'" | tr -d ' '; }
# SYSIBM.SYSTABLES answers on LUW and on z/OS alike.
tables() { db2 -x "SELECT COUNT(*) FROM SYSIBM.SYSTABLES WHERE CREATOR = '$schema' AND NAME IN ('DEPARTMENT', 'EMPLOYEE')" | tr -d ' '; }

for script in "$here"/migrations/*.sql; do
  version=$(basename "$script" .sql)
  if [[ $(applied "$version") != 0 ]]; then echo "$version: applied already"; continue; fi
  if [[ $version == *_sample && $(tables) == 2 ]]; then
    echo "$version: SAMPLE's DEPARTMENT and EMPLOYEE are here already: kept"
  else
    # +c: one unit of work, committed below with its ledger row; -s: the
    # first error stops the script (CLP exit code 4 or 8) and it rolls back.
    status=0
    db2 +c -s -td@ -v -f "$script" || status=$?
    if (( status >= 4 )); then
      db2 rollback >/dev/null
      echo "$version: failed (CLP exit code $status), rolled back" >&2
      exit 1
    fi
  fi
  db2 +c "INSERT INTO SCHEMA_MIGRATION (VERSION) VALUES ('$version')"
  db2 commit >/dev/null
  echo "$version: applied"
done

db2 -td@ -v -f "$here/grants.sql"
