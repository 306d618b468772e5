// duckdb.mjs SQL: runs one statement in an in-memory DuckDB (threads from
// $DUCKDB_THREADS, default 2) and reads its whole result; for the peers table
// of tests/bench/peers.sh, which copies this file next to the node_modules it
// installs under build/ (never into the repository).
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
	process.stderr.write('usage: node duckdb.mjs SQL\n');
	process.exit(2);
}
const db = await DuckDBInstance.create(':memory:', { threads: process.env.DUCKDB_THREADS || '2' });
const con = await db.connect();
const reader = await con.runAndReadAll(sql);
if (process.env.DUCKDB_PRINT)
	process.stdout.write(JSON.stringify(reader.getRowObjectsJson()) + '\n');
