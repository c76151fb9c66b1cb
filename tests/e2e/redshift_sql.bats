#!/usr/bin/env bats
# The SQL transform is written for PostgreSQL and Amazon Redshift alike; PostgreSQL runs it in
# postgres.bats, and here Debian's sqlfluff parses it with its Redshift dialect (exit 0 means
# every statement parsed; it rejects unknown syntax, as the control below shows).

load helpers

@test "every transform statement parses as Redshift SQL" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  "$DUMP_TRANSFORM_SQL" > transform.sql
  [ "$(grep -c ';$' transform.sql)" -ge 15 ]
  run sqlfluff parse --dialect redshift transform.sql
  [ "$status" -eq 0 ]
  [[ "$output" != *unparsable* ]]
}

@test "the check is not vacuous: sqlfluff rejects what Redshift would reject" {
  command -v sqlfluff >/dev/null || skip "sqlfluff is not installed (scripts/deps.sh test installs it)"
  printf 'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING;\n' > upsert.sql
  run sqlfluff parse --dialect redshift upsert.sql
  [ "$status" -ne 0 ]
}
