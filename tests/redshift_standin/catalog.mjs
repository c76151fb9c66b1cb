// catalog.mjs - Redshift's system views and functions that sparkify reads, as tables and
// functions of a schema standin_sys in every database (installed in template1 too, so a
// CREATE DATABASE gets them), and the writer of their rows.
//
// The load-error and load-history rows are written over the front's own superuser connection,
// never the user's: Redshift records them outside the user's transaction, so they outlive the
// ROLLBACK of a failed COPY (sparkify reads them right after rolling back). User sessions find
// the tables through their search_path ("$user", public, standin_sys), as Redshift's system
// views are found without a schema. Columns and types are the pages' own:
// https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html,
// https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html,
// https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_HISTORY.html,
// https://docs.aws.amazon.com/redshift/latest/dg/r_STV_SLICES.html. CHAR(n) columns are blank
// padded, as Redshift's are (hence TRIM in every query of them).

import pg from 'pg';

function schemaSql({ slices, serverless }) {
  const sql = [
    'CREATE SCHEMA IF NOT EXISTS standin_sys',
    'GRANT USAGE ON SCHEMA standin_sys TO PUBLIC',
    `CREATE TABLE IF NOT EXISTS standin_sys.sys_load_error_detail (user_id integer, query_id bigint,
       transaction_id bigint, session_id integer, database_name character(64), table_id integer,
       start_time timestamp, file_name character(256), line_number bigint, column_name character(127),
       column_type character(10), column_length character(10), position integer, error_code integer,
       error_message character(512))`,
    `CREATE TABLE IF NOT EXISTS standin_sys.sys_load_history (user_id integer, query_id bigint,
       transaction_id bigint, session_id integer, database_name text, status text, table_name text,
       start_time timestamp, end_time timestamp, duration bigint, data_source text, file_format text,
       loaded_rows bigint, loaded_bytes bigint, source_file_count integer, source_file_bytes bigint,
       file_count_scanned integer, file_bytes_scanned bigint, error_count bigint, copy_job_id bigint)`,
    `CREATE TABLE IF NOT EXISTS standin_sys.stv_slices (node integer, slice integer, localslice integer,
       type character(1))`,
    'DELETE FROM standin_sys.stv_slices',
    `INSERT INTO standin_sys.stv_slices SELECT 0, s, s, 'D' FROM generate_series(0, ${slices - 1}) s`,
    // PG_LAST_COPY_ID: "Returns the query ID of the most recently completed COPY command in the
    // current session. If no COPY commands have been run in the current session, PG_LAST_COPY_ID
    // returns -1" (https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html). The
    // front keeps it in a session setting, which a ROLLBACK restores.
    `CREATE OR REPLACE FUNCTION standin_sys.pg_last_copy_id() RETURNS integer LANGUAGE sql STABLE AS
       $$ SELECT COALESCE(NULLIF(current_setting('standin.last_copy_id', true), ''), '-1')::integer $$`,
    // DB_COLLATION: the database's case sensitivity (r_CREATE_TABLE_NEW's COLLATE clause);
    // stand-in databases are case-sensitive.
    `CREATE OR REPLACE FUNCTION standin_sys.db_collation() RETURNS text LANGUAGE sql IMMUTABLE AS
       $$ SELECT 'case_sensitive'::text $$`,
    // GETDATE "returns the start date or time of the current statement" in the session's time
    // zone (https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html); the examples show
    // whole seconds.
    `CREATE OR REPLACE FUNCTION standin_sys.getdate() RETURNS timestamp LANGUAGE sql STABLE AS
       $$ SELECT date_trunc('second', statement_timestamp())::timestamp $$`,
    // Raises an error the front composed, so PostgreSQL aborts the user's transaction as
    // Redshift aborts it on a failed COPY.
    `CREATE OR REPLACE FUNCTION standin_sys.fail(state text, message text, detail text) RETURNS void
       LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail; END $$`,
  ];
  if (!serverless) {
    // "STL_LOAD_ERRORS only contains queries run on main provisioned clusters" (same page).
    sql.splice(
      2,
      0,
      `CREATE TABLE IF NOT EXISTS standin_sys.stl_load_errors (userid integer, slice integer, tbl integer,
         starttime timestamp, session integer, query integer, filename character(256), line_number bigint,
         colname character(127), type character(10), col_length character(10), position integer,
         raw_line character(1024), raw_field_value character(1024), err_code integer,
         err_reason character(100), is_partial integer, start_offset bigint)`,
    );
  }
  sql.push('GRANT SELECT ON ALL TABLES IN SCHEMA standin_sys TO PUBLIC');
  return sql;
}

// Installs standin_sys in `database`; the ICU collation behind COLLATE CASE_INSENSITIVE is
// created where PostgreSQL has ICU.
export async function installCatalog(adminConfig, database, options) {
  const client = new pg.Client({ ...adminConfig, database });
  await client.connect();
  try {
    for (const statement of schemaSql(options)) await client.query(statement);
    try {
      await client.query(
        "CREATE COLLATION IF NOT EXISTS standin_sys.case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
      );
    } catch {
      // No ICU: COLLATE CASE_INSENSITIVE then fails with PostgreSQL's own error.
    }
  } finally {
    await client.end();
  }
}

// Character columns hold at most n bytes; values are cut at a character boundary first.
function fit(text, bytes) {
  let out = '';
  let used = 0;
  for (const ch of String(text ?? '')) {
    const n = Buffer.byteLength(ch);
    if (used + n > bytes) break;
    used += n;
    out += ch;
  }
  return out;
}

// Writes one database's load records, outside any user transaction.
export class LoadLog {
  constructor(adminConfig, database, serverless) {
    this.pool = new pg.Pool({ ...adminConfig, database, max: 2 });
    this.serverless = serverless;
  }

  async history(b) {
    await this.pool.query(
      `INSERT INTO standin_sys.sys_load_history (user_id, query_id, transaction_id, session_id, database_name,
         status, table_name, start_time, data_source, file_format, loaded_rows, loaded_bytes, source_file_count,
         source_file_bytes, file_count_scanned, file_bytes_scanned, error_count, copy_job_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'json', 0, 0, $10, 0, 0, 0, 0, 0)`,
      [b.userId, b.sysQueryId, b.txid, b.session, b.db, b.status, b.table.relname, b.started, b.source, b.files],
    );
  }

  async finish(b, r) {
    await this.pool.query(
      `UPDATE standin_sys.sys_load_history SET status = $2, end_time = $3, duration = $4, loaded_rows = $5,
         loaded_bytes = $6, error_count = $7, source_file_bytes = $8, file_count_scanned = source_file_count,
         file_bytes_scanned = $8 WHERE query_id = $1`,
      [b.sysQueryId, r.status, r.ended, (r.ended - b.started) * 1000, r.rows, r.bytes, r.errors, r.fileBytes],
    );
  }

  // One row per rejected record in each view.
  async errors(b, errors) {
    for (let i = 0; i < errors.length; i += 500) {
      const batch = errors.slice(i, i + 500);
      const detail = [];
      const stl = [];
      for (const e of batch) {
        const column = e.column || null;
        const type = column ? column.type : '';
        const length = column?.length !== undefined ? String(column.length) : '';
        const name = column ? column.name : '';
        detail.push([b.userId, b.sysQueryId, b.txid, b.session, fit(b.db, 64), b.table.oid, b.started, fit(e.url, 256), e.line, fit(name, 127), fit(type, 10), fit(length, 10), e.position ?? 0, e.code, fit(e.reason, 512)]);
        stl.push([b.userId, e.slice, b.table.oid, b.started, b.session, b.queryId, fit(e.url, 256), e.line, fit(name, 127), fit(type, 10), fit(length, 10), e.position ?? 0, fit(e.raw, 1024), fit(e.field ?? '', 1024), e.code, fit(e.reason, 100), 0, 0]);
      }
      await this.insert('standin_sys.sys_load_error_detail', detail);
      if (!this.serverless) await this.insert('standin_sys.stl_load_errors', stl);
    }
  }

  async insert(table, rows) {
    if (!rows.length) return;
    const width = rows[0].length;
    const values = rows.map((_, r) => '(' + Array.from({ length: width }, (__, c) => `$${r * width + c + 1}`).join(', ') + ')');
    await this.pool.query(`INSERT INTO ${table} VALUES ${values.join(', ')}`, rows.flat());
  }

  end() {
    return this.pool.end();
  }
}
