#!/usr/bin/env bash
# First start of the Postgres container: one role and database per user of it. Passwords
# come from the container's environment (docker/.env), never from this file.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres \
  -v airflow_pw="${AIRFLOW_DB_PASSWORD}" -v platform_pw="${PLATFORM_DB_PASSWORD}" <<'SQL'
create role airflow login password :'airflow_pw';
create role platform login password :'platform_pw';
create database airflow owner airflow;
create database platform owner platform;
create database mlflow owner platform;
SQL
