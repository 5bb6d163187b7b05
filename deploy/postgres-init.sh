#!/bin/bash
# Creates one database per service (POSTGRES_MULTIPLE_DATABASES, comma-separated).
set -euo pipefail
for db in ${POSTGRES_MULTIPLE_DATABASES//,/ }; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -c "CREATE DATABASE \"$db\""
done

# The referrals key store: its own database, owned by its own role; nobody else may connect.
if [ -n "${KEY_STORE_DATABASE:-}" ]; then
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
    -v user="$KEY_STORE_USER" -v password="$KEY_STORE_PASSWORD" -v db="$KEY_STORE_DATABASE" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
fi
