#!/usr/bin/env bash
# Applies the Db2 scripts of db/db2 to a database, as a DBA does it: with the
# Db2 command line processor (CLP), the ledger (ledger.sql) when the catalog
# lacks it, then each migration of migrations/ the ledger lacks, in name
# order, each in one unit of work with its ledger row, then the grants
# (grants.sql). A second run changes nothing. `deploy.sh --help` says how.
# Run it where the CLP works (a Db2 client with db2profile sourced), as a
# user with DDL and GRANT authority. The service (DB_MIGRATE=check, the
# default for db2://) then only reads the ledger at start. `npm run
# db:migrate` applies the migrations through ibm_db instead, without
# placement or grants.
#
# The CLP front end (db2) finds its back-end process, which holds the
# connection, by its parent process id (IBM technote swg21983930): a db2 in a
# pipe, in a function run inside $(...), or in a subshell that forks again
# sees no connection (SQL1024N). So every db2 below runs straight from this
# shell, its answer redirected to a file and read from there, and every
# answer's CLP exit code is checked: 0 success, 1 no rows, 2 a warning, 4 an
# SQL error, 8 a CLP error (for a file, the OR of its statements' codes).
set -euo pipefail
export LC_COLLATE=C # migrations in byte order of their names
# The CLP reads DB2OPTIONS before its command line: a +c there would leave
# the ledger, the role and the grants uncommitted. The options below are all.
unset DB2OPTIONS

usage() {
  cat <<'EOF'
usage: deploy.sh [--grantee KIND:NAME] [--in PLACEMENT] DATABASE SCHEMA [USER]

  DATABASE   the database alias the CLP knows (db2 list database directory)
  SCHEMA     where the objects go: an ordinary identifier (a letter, then
             letters, digits or _), folded to upper case as Db2 does
  USER       connect as this user; the CLP asks for the password. Without
             it the CLP connects as you (your operating-system user).

  --grantee KIND:NAME   who gets the service's privileges (db/db2/grants.sql);
                        default ROLE:HOST_API_APP
      ROLE:NAME    LUW: created when missing; then grant it to the service's
                   user yourself: GRANT ROLE NAME TO USER <service user>.
                   z/OS: a role is effective only inside a trusted context, so
                   the role and a trusted context for the service's
                   connections must exist already (your security
                   administrator creates them).
      USER:NAME    the service's own authorization ID: on z/OS without a
                   trusted context, or on LUW without a role
      GROUP:NAME   LUW: an operating-system group of the service's user
                   (z/OS: use USER: with the RACF group's name)
  --in PLACEMENT        where every table goes (the /* @IN */ marker after each
                        CREATE TABLE's column list becomes IN PLACEMENT)
      LUW:  TSNAME           a table space, e.g. --in TS8K (HOST_SESSION rows
                             need 8 KiB pages unless EXTENDED_ROW_SZ is on)
      z/OS: 'DATABASE DBNAME'  an existing database; Db2 creates one table space
                             per table in it. Without --in, z/OS creates a
                             database and a table space per table itself.
                             (Not DBNAME.TSNAME: a table space created by Db2
                             12 or later holds one table, SQL0646N, and a table
                             in an explicit table space has no primary-key
                             index until one is created.)
  -h, --help

Every step says what it did; on an error deploy.sh rolls the current
migration back, says what failed and stops (exit 1). Run it again once the
cause is fixed: what is applied already is skipped.
EOF
}

say() { printf '%s\n' "$*"; }
fail() { printf 'deploy.sh: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'deploy.sh: %s\n\n' "$*" >&2; usage >&2; exit 2; }
ordinary_identifier() { [[ $1 =~ ^[A-Za-z][A-Za-z0-9_]{0,127}$ ]]; }
# CLP exit codes 4 (SQL error) and 8 (CLP error), alone or OR'ed with 1 and 2.
failed() { (( $1 & 12 )); }

grantee=ROLE:HOST_API_APP placement=
args=()
while (( $# )); do
  case $1 in
    --grantee) (( $# >= 2 )) || usage_error "--grantee needs KIND:NAME"; grantee=$2; shift 2 ;;
    --grantee=*) grantee=${1#*=}; shift ;;
    --in) (( $# >= 2 )) || usage_error "--in needs a placement"; placement=$2; shift 2 ;;
    --in=*) placement=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) usage_error "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
(( ${#args[@]} == 2 || ${#args[@]} == 3 )) || usage_error "expected DATABASE SCHEMA [USER]"
database=${args[0]} schema=${args[1]} user=${args[2]:-}
here=$(cd "$(dirname "$0")" && pwd)

[[ $database =~ ^[A-Za-z0-9@#$_]{1,8}$ ]] || usage_error "DATABASE \"$database\" is not a database alias (1 to 8 letters, digits, @ # \$ _)"
ordinary_identifier "$schema" || usage_error "SCHEMA \"$schema\" is not an ordinary identifier: use a letter, then letters, digits or _ (Db2 folds it to upper case; names that need quotes are not supported)"
schema=${schema^^}
[[ $schema != SYS* ]] || usage_error "SCHEMA $schema: names beginning with SYS are Db2's own"

[[ $grantee =~ ^([A-Za-z]+):(.*)$ ]] || usage_error "--grantee $grantee: expected KIND:NAME, e.g. ROLE:HOST_API_APP or USER:APIUSER"
grantee_kind=${BASH_REMATCH[1]^^} grantee_name=${BASH_REMATCH[2]}
[[ $grantee_kind =~ ^(ROLE|USER|GROUP)$ ]] || usage_error "--grantee $grantee: KIND is ROLE, USER or GROUP"
ordinary_identifier "$grantee_name" || usage_error "--grantee $grantee: NAME must be an ordinary identifier (a letter, then letters, digits or _)"
grantee_name=${grantee_name^^}
[[ $grantee_name != SYS* && $grantee_name != PUBLIC ]] || usage_error "--grantee $grantee: $grantee_name is reserved by Db2"

placement_kind='' placement_name='' placement_clause=''
if [[ -n $placement ]]; then
  if [[ ${placement^^} =~ ^DATABASE[[:space:]]+([A-Z][A-Z0-9_]{0,7})$ ]]; then
    placement_kind=database placement_name=${BASH_REMATCH[1]} placement_clause="IN DATABASE ${BASH_REMATCH[1]}"
  elif [[ ${placement^^} =~ ^[A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*$ ]]; then
    usage_error "--in $placement: one table space for every table does not work on z/OS (a table space created by Db2 12 or later holds one table, SQL0646N, and these migrations create no primary-key index); use --in 'DATABASE DBNAME'"
  elif ordinary_identifier "$placement"; then
    placement_kind=tablespace placement_name=${placement^^} placement_clause="IN ${placement^^}"
  else
    usage_error "--in $placement: expected a table space name (LUW) or 'DATABASE DBNAME' (z/OS)"
  fi
fi

migrations=("$here"/migrations/*.sql)
[[ -e ${migrations[0]} ]] || fail "no migrations in $here/migrations"
for script in "${migrations[@]}"; do
  [[ $(basename "$script" .sql) =~ ^[A-Za-z0-9_.-]+$ ]] || fail "$script: a migration's name may hold only letters, digits and _ . - (it becomes its ledger row)"
done
if [[ -n $placement_kind ]]; then
  # --in must reach every CREATE TABLE: each needs its marker.
  for script in "$here/ledger.sql" "${migrations[@]}"; do
    tables=$(grep -ciE '^[[:space:]]*CREATE[[:space:]]+TABLE[[:space:]]' "$script" || true)
    markers=$(grep -v '^[[:space:]]*--' "$script" | grep -o '/\* @IN \*/' | wc -l || true)
    (( tables == markers )) || fail "$script: $tables CREATE TABLE statement(s) but $markers /* @IN */ marker(s); --in needs the marker right after each CREATE TABLE's column list"
  done
fi
command -v db2 >/dev/null || fail "the Db2 command line processor (db2) is not on PATH: source your instance's db2profile first (e.g. . ~db2inst1/sqllib/db2profile)"

work=$(mktemp -d "${TMPDIR:-/tmp}/deploy-db2.XXXXXX")
connected=
finish() {
  local status=$?
  if [[ -n $connected ]]; then
    # Nothing of a failed migration may be kept: roll back before CONNECT RESET, which commits.
    db2 rollback >/dev/null 2>&1 || true
    db2 connect reset >/dev/null 2>&1 || true
  fi
  db2 terminate >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One statement, autocommitted; its messages shown only when it fails.
execute() { # what statement
  local rc=0
  db2 "$2" >"$work/answer" || rc=$?
  if failed "$rc"; then cat "$work/answer"; fail "$1 failed (CLP exit code $rc; the SQL message above says why): $2"; fi
}

# Sets $count to the number a SELECT COUNT(*) answers; anything else (an
# SQL1024N, an error message) stops the deploy, never reads as a count.
count=
count_of() { # what query
  local rc=0
  db2 -x "$2" >"$work/answer" || rc=$?
  count=$(tr -d '[:space:]' <"$work/answer")
  if failed "$rc" || [[ ! $count =~ ^[0-9]+$ ]]; then
    cat "$work/answer"
    fail "$1: the catalog query failed (CLP exit code $rc; the message above says why): $2"
  fi
}

# Sets $placed to the script to run: a copy whose /* @IN */ markers are the
# placement clause, or nothing without --in (no bracketed comment reaches Db2:
# not every release takes one in a dynamic statement).
placed=
place() { # script
  placed=$work/$(basename "$1")
  sed "s|[[:space:]]*/\\* @IN \\*/|${placement_clause:+ $placement_clause}|g" "$1" >"$placed"
}

say "Connecting to $database${user:+ as $user}${user:+ (the CLP asks for the password)}"
rc=0
db2 connect to "$database" ${user:+user "$user"} || rc=$?
if failed "$rc"; then
  fail "could not connect to $database${user:+ as $user} (CLP exit code $rc; the message above says why). Check the alias (db2 list database directory), the user and the password, then run deploy.sh again."
fi
connected=1
execute "setting the schema" "SET SCHEMA \"$schema\""
execute "setting the path" "SET PATH = SYSTEM PATH, \"$schema\""

# LUW's SYSIBM.SYSTABLES lists its SYSCAT views; z/OS has no SYSCAT schema.
count_of "finding the platform" "SELECT COUNT(*) FROM SYSIBM.SYSTABLES WHERE CREATOR = 'SYSCAT' AND NAME = 'ROLES'"
if (( count > 0 )); then platform=luw; say "$database is Db2 for Linux, UNIX and Windows; schema $schema"
else platform=zos; say "$database is Db2 for z/OS; schema $schema"; fi

case $platform:$placement_kind in
  luw:database) fail "--in '$placement' is the z/OS form; on Db2 for LUW name a table space: --in TSNAME" ;;
  zos:tablespace) fail "--in $placement on z/OS means table space DSNDB04.$placement_name for every table, which holds one table; use --in 'DATABASE DBNAME'" ;;
  luw:tablespace)
    count_of "checking table space $placement_name" "SELECT COUNT(*) FROM SYSCAT.TABLESPACES WHERE TBSPACE = '$placement_name'"
    (( count )) || fail "table space $placement_name does not exist in $database (SYSCAT.TABLESPACES): create it, or name another with --in" ;;
  zos:database)
    count_of "checking database $placement_name" "SELECT COUNT(*) FROM SYSIBM.SYSDATABASE WHERE NAME = '$placement_name'"
    (( count )) || fail "database $placement_name does not exist on this Db2 for z/OS (SYSIBM.SYSDATABASE): create it, or name another with --in" ;;
esac
if [[ -n $placement_clause ]]; then say "every table goes $placement_clause"; fi

case $platform:$grantee_kind in
  luw:*) grantee_clause="$grantee_kind $grantee_name" ;;
  zos:ROLE) grantee_clause="ROLE $grantee_name" ;;
  zos:USER) grantee_clause=$grantee_name ;;
  zos:GROUP) fail "--grantee $grantee: Db2 for z/OS grants to authorization IDs, roles or PUBLIC; for a RACF group use --grantee USER:$grantee_name" ;;
esac
if [[ $platform:$grantee_kind == zos:ROLE ]]; then
  count_of "checking role $grantee_name" "SELECT COUNT(*) FROM SYSIBM.SYSROLES WHERE NAME = '$grantee_name'"
  (( count )) || fail "role $grantee_name does not exist on this Db2 for z/OS. A role is effective there only inside a trusted context: have your security administrator create the role and a trusted context for the service's connections, or grant to the service's authorization ID: --grantee USER:<authid>. Nothing was changed."
fi

count_of "looking for the ledger" "SELECT COUNT(*) FROM SYSIBM.SYSTABLES WHERE CREATOR = '$schema' AND NAME = 'SCHEMA_MIGRATION'"
if (( count == 0 )); then
  place "$here/ledger.sql"
  rc=0
  db2 -s -td@ -v -f "$placed" || rc=$?
  if failed "$rc"; then fail "creating the ledger $schema.SCHEMA_MIGRATION failed (CLP exit code $rc; the statement and message above say why)"; fi
  say "ledger $schema.SCHEMA_MIGRATION: created"
else
  say "ledger $schema.SCHEMA_MIGRATION: present"
fi

# Ends the unit of work of a migration that failed, and the deploy.
abandon() { # version what-failed rc
  local rc=0
  db2 rollback >"$work/rollback" || rc=$?
  if failed "$rc"; then cat "$work/rollback"; fail "$2 (CLP exit code $3) and its ROLLBACK failed too (CLP exit code $rc): check $schema for objects of $1 before running deploy.sh again"; fi
  fail "$2 (CLP exit code $3; the statement and message above say why); rolled back, nothing of $1 is kept. Fix the cause and run deploy.sh again: applied migrations are skipped."
}

applied_now=0
for script in "${migrations[@]}"; do
  version=$(basename "$script" .sql)
  count_of "reading the ledger" "SELECT COUNT(*) FROM SCHEMA_MIGRATION WHERE VERSION = '$version'"
  if (( count )); then say "$version: applied already"; continue; fi
  sample_kept=
  if [[ $version == *_sample ]]; then
    count_of "looking for SAMPLE's tables" "SELECT COUNT(*) FROM SYSIBM.SYSTABLES WHERE CREATOR = '$schema' AND NAME IN ('DEPARTMENT', 'EMPLOYEE') AND TYPE = 'T'"
    if (( count == 2 )); then sample_kept=1; fi
  fi
  # +c: one unit of work, the ledger row in it, until the COMMIT below; no
  # autocommitted statement may run in between (its commit would take the
  # migration with it). -s: the first error stops the file.
  if [[ -n $sample_kept ]]; then
    say "$version: SAMPLE's DEPARTMENT and EMPLOYEE are here already: kept"
  else
    say "$version: applying"
    place "$script"
    rc=0
    db2 +c -s -td@ -v -f "$placed" || rc=$?
    if failed "$rc"; then abandon "$version" "migration $version failed" "$rc"; fi
  fi
  rc=0
  db2 +c "INSERT INTO SCHEMA_MIGRATION (VERSION) VALUES ('$version')" >"$work/answer" || rc=$?
  if failed "$rc"; then cat "$work/answer"; abandon "$version" "$version: recording it in the ledger failed" "$rc"; fi
  rc=0
  db2 commit >"$work/answer" || rc=$?
  if failed "$rc"; then
    cat "$work/answer"
    fail "$version: COMMIT failed (CLP exit code $rc; the message above says why): look for $version in $schema.SCHEMA_MIGRATION before running deploy.sh again"
  fi
  say "$version: applied"
  applied_now=$((applied_now + 1))
done

if [[ $platform:$grantee_kind == luw:ROLE ]]; then
  count_of "checking role $grantee_name" "SELECT COUNT(*) FROM SYSCAT.ROLES WHERE ROLENAME = '$grantee_name'"
  if (( count == 0 )); then
    execute "creating role $grantee_name" "CREATE ROLE $grantee_name"
    say "role $grantee_name: created; grant it to the service's user: db2 \"GRANT ROLE $grantee_name TO USER <service user>\""
  fi
fi
# Every GRANT of grants.sql ends with the default grantee; the chosen one replaces it.
sed "s/ TO ROLE HOST_API_APP[[:space:]]*\$/ TO $grantee_clause/" "$here/grants.sql" >"$work/grants.sql"
grants=$(grep -ciE '^[[:space:]]*GRANT[[:space:]]' "$work/grants.sql" || true)
aimed=$(grep -c " TO $grantee_clause\$" "$work/grants.sql" || true)
(( grants > 0 && grants == aimed )) || fail "$here/grants.sql: $grants GRANT statement(s), $aimed ending with \"TO ROLE HOST_API_APP\" where deploy.sh puts the grantee; no grant was made"
say "granting to $grantee_clause"
rc=0
db2 -s -td@ -v -f "$work/grants.sql" || rc=$?
if failed "$rc"; then
  fail "granting to $grantee_clause failed (CLP exit code $rc; the statement and message above say why). Grants made before it are kept; run deploy.sh again once fixed: granting again is harmless."
fi
if (( rc & 2 )); then say "grants: Db2 warned (CLP exit code $rc), e.g. +562 on z/OS for a privilege held already: nothing to do"; fi
say "deploy.sh: $database $schema: $applied_now migration(s) applied now, ${#migrations[@]} in the ledger; privileges granted to $grantee_clause"
if [[ $platform:$grantee_kind == zos:ROLE ]]; then
  say "the service gets role $grantee_name only through its trusted context"
fi
