#!/usr/bin/env bats
# The SQL transform, the report and the checks are written for PostgreSQL and Amazon Redshift
# alike; PostgreSQL runs them in postgres.bats, and here Debian's sqlfluff parses them with its
# Redshift dialect (exit 0 means every statement parsed; it rejects unknown syntax, as the
# control below shows - and a column named `percent`, a Redshift reserved word).

load helpers

@test "every transform statement parses as Redshift SQL" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  "$DUMP_TRANSFORM_SQL" > transform.sql
  [ "$(grep -c ';$' transform.sql)" -ge 15 ]
  run sqlfluff parse --dialect redshift transform.sql
  [ "$status" -eq 0 ]
  [[ "$output" != *unparsable* ]]
}

@test "every report query and built-in check parses as Redshift SQL" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  "$DUMP_ANALYTICS_SQL" > analytics.sql
  [ "$(grep -c '^-- report: ' analytics.sql)" -eq 12 ]
  [ "$(grep -c '^-- check: ' analytics.sql)" -eq 24 ]
  run sqlfluff parse --dialect redshift analytics.sql
  [ "$status" -eq 0 ]
  [[ "$output" != *unparsable* ]]
}

@test "the check is not vacuous: sqlfluff rejects what Redshift would reject" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  printf 'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING;\n' > upsert.sql
  run sqlfluff parse --dialect redshift upsert.sql
  [ "$status" -ne 0 ]
  printf 'SELECT 1 AS percent;\n' > reserved.sql
  run sqlfluff parse --dialect redshift reserved.sql
  [ "$status" -ne 0 ]
}
