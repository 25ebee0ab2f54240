/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  Archival of old ledger months: whole months as metadata, partial
 *	  ranges in verified batches, restore, and a remote archive reached
 *	  through postgres_fdw.
 *
 * A whole month moves by detaching its partition from the hot parent and
 * attaching it to the parent's archive (partition_policies.archive_parent,
 * inventory.transactions_archive when NULL) with the same bounds.  Before
 * the attach, the detached table gets a CHECK constraint equal to its old
 * partition constraint, marked valid without a scan (the rows were in the
 * partition, so they satisfy it; PostgreSQL's own DETACH CONCURRENTLY does
 * the same), so that the attach does not scan the month either.  The
 * archive's partitioned indexes mirror the hot ones, so the month's
 * indexes are adopted as they are.
 *
 * Rows of a partial month and old rows of the hot default partition move
 * in batches: one statement deletes a batch at the source and inserts it
 * at the destination, and the counts and checksums of both sides are
 * compared before the transaction may commit.  Rows are written straight
 * into partitions, never through the hot parent, so stock is not applied
 * again, and keep their txn_id and their claim in transaction_refs.
 *
 * A remote archive (another server, through postgres_fdw) receives whole
 * months: copied, then counted and checksummed on the remote side, and
 * only then removed locally.  postgres_fdw commits the remote transaction
 * just before the local one, so the order of each remote operation is
 * chosen so that a crash between the two commits leaves a row twice
 * (recognised and completed by a rerun), never nowhere: archiving copies
 * before it deletes locally; restoring copies back in one call and
 * deletes the remote copy in the next.
 *
 * Invariants: each function is one transaction, so a crash leaves either
 * the state before it or after it; the procedures (archive_before_proc,
 * archive_due) commit after each whole step, each a function call; each
 * row exists exactly once, hot or archived (locally).
 *
 * Locking: the advisory lock (INV_ADVISORY_KEY, parent oid) without
 * waiting, shared with maintenance (re-entrant within one session).
 * Every DDL statement runs through inv_spi_exec_ddl_retry, so that no lock
 * is waited on for longer than inventory_ext.lock_timeout per attempt.
 * DETACH PARTITION takes ACCESS EXCLUSIVE on the hot parent until commit,
 * so nothing that depends on the month's size runs after it.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/archive.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_archive_partition);
PG_FUNCTION_INFO_V1(inv_archive_step);
PG_FUNCTION_INFO_V1(inv_archive_before);
PG_FUNCTION_INFO_V1(inv_restore_month);
PG_FUNCTION_INFO_V1(inv_archive_partition_remote);
PG_FUNCTION_INFO_V1(inv_archive_detached);
PG_FUNCTION_INFO_V1(inv_archive_before_proc);
PG_FUNCTION_INFO_V1(inv_archive_due);
PG_FUNCTION_INFO_V1(inv_restore_month_remote);

/* Name of the CHECK constraint that carries a month's bounds */
#define INV_BOUNDS_CONSTRAINT	"inventory_archive_bounds"

/* A registered parent and where its archive is */
typedef struct InvArchivePolicy
{
	Oid			parent;
	Oid			archive;
	char	   *column;			/* partition column, unquoted */
	char	   *time_zone;
	char	   *columns;		/* quoted column list, in attribute order */
} InvArchivePolicy;

/* Bounds of a month partition */
typedef struct InvRange
{
	char	   *lower_text;		/* literal as PostgreSQL prints it */
	char	   *upper_text;
	TimestampTz lower_at;
	TimestampTz upper_at;
} InvRange;

/* What one step of a batched archival did */
typedef struct InvStep
{
	const char *action;			/* "attach", "batch" or "done" */
	char	   *relation;
	int64		rows;
} InvStep;

/* Quoted, schema-qualified name of a relation. */
static char *
rel_qname(Oid relid)
{
	char	   *name = inv_rel_qualname(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return name;
}

/* Run a query with one oid parameter; returns the rows processed. */
static uint64
exec_oid(const char *sql, Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];

	values[0] = ObjectIdGetDatum(relid);
	return inv_spi_exec(sql, 1, types, values, NULL, false, SPI_OK_SELECT);
}

/* First column of the first row as an oid, InvalidOid when none/NULL. */
static Oid
result_oid(uint64 n)
{
	bool		isnull;
	Datum		d;

	if (n == 0)
		return InvalidOid;
	d = inv_spi_getdatum(0, 1, &isnull);
	return isnull ? InvalidOid : DatumGetObjectId(d);
}

/* OID of a relation given by its quoted qualified name. */
static Oid
relname_oid(const char *qname)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(qname);
	return result_oid(inv_spi_exec("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid",
								   1, types, values, NULL, false,
								   SPI_OK_SELECT));
}

/*
 * Run DDL that needs a strong lock, with bounded waits; raise 55P03 when
 * every attempt timed out.  SPI must be connected.
 */
static void
ddl_or_fail(const char *sql, Oid relid)
{
	char	   *name = rel_qname(relid);

	if (!inv_spi_exec_ddl_retry(sql, name))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock table \"%s\"", name),
				 errdetail("The lock was not granted within %d ms in any of %d attempts.",
						   inv_lock_timeout_ms, inv_lock_retries),
				 errhint("Retry when the table is less busy, or raise inventory_ext.lock_timeout or inventory_ext.lock_retries.")));
}

/* The per-parent advisory lock, without waiting; 55P03 when held. */
static void
lock_parent(Oid parent)
{
	if (!inv_try_advisory_xact_lock((int32) parent))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock table \"%s\" for archival",
						rel_qname(parent)),
				 errdetail("Another maintenance or archival run holds its advisory lock."),
				 errhint("Retry when that run has finished.")));
}

/* Quoted list of the live columns of a relation, in attribute order. */
static char *
column_list(Oid relid)
{
	exec_oid("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' "
			 "ORDER BY a.attnum) "
			 "FROM pg_catalog.pg_attribute a "
			 "WHERE a.attrelid OPERATOR(pg_catalog.=) $1 "
			 "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
			 relid);
	return inv_spi_gettext(0, 1);
}

/* Column names and types of a relation, as one comparable text. */
static char *
column_shape(Oid relid)
{
	exec_oid("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) "
			 "OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) "
			 "pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' "
			 "ORDER BY a.attnum) "
			 "FROM pg_catalog.pg_attribute a "
			 "WHERE a.attrelid OPERATOR(pg_catalog.=) $1 "
			 "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
			 relid);
	return inv_spi_gettext(0, 1);
}

/*
 * load_policy
 *		Read the registration of parent and check that its archive is a
 *		partitioned table of the same shape.  SPI must be connected.
 */
static void
load_policy(Oid parent, InvArchivePolicy *pol)
{
	char	   *hot;
	char	   *arch;
	char		relkind;

	if (exec_oid("SELECT p.partition_column::pg_catalog.text, p.time_zone, "
				 "COALESCE(p.archive_parent, "
				 "'inventory.transactions_archive'::pg_catalog.regclass)::pg_catalog.oid "
				 "FROM inventory.partition_policies p "
				 "WHERE p.parent OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
				 parent) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not registered for partition management",
						rel_qname(parent)),
				 errhint("Register it with inventory.register_partitioned_table first.")));

	/* as for maintenance: archival is the owner's (DETACH needs it too) */
	if (!pg_class_ownercheck(parent, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\"", rel_qname(parent))));

	pol->parent = parent;
	pol->column = inv_spi_gettext(0, 1);
	pol->time_zone = inv_spi_gettext(0, 2);
	{
		bool		isnull;

		pol->archive = DatumGetObjectId(inv_spi_getdatum(0, 3, &isnull));
	}

	relkind = get_rel_relkind(pol->archive);
	if (relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("archive \"%s\" of table \"%s\" is not a partitioned table",
						rel_qname(pol->archive), rel_qname(parent))));

	hot = column_shape(parent);
	arch = column_shape(pol->archive);
	if (strcmp(hot, arch) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("archive \"%s\" does not have the shape of table \"%s\"",
						rel_qname(pol->archive), rel_qname(parent)),
				 errdetail("Table \"%s\" has columns (%s); the archive has (%s).",
						   rel_qname(parent), hot, arch),
				 errhint("Give the archive the same column names, types and order.")));
	pol->columns = column_list(parent);
}

/* The parent of a partition, InvalidOid when it is none. */
static Oid
partition_parent(Oid relid)
{
	return result_oid(exec_oid("SELECT i.inhparent FROM pg_catalog.pg_inherits i "
							   "WHERE i.inhrelid OPERATOR(pg_catalog.=) $1 "
							   "AND NOT i.inhdetachpending",
							   relid));
}

/* Copy row `row` of a list_partition_ranges result (partition first). */
static void
read_range(uint64 row, InvRange *r)
{
	bool		isnull;

	r->lower_text = inv_spi_gettext(row, 3);
	r->upper_text = inv_spi_gettext(row, 4);
	r->lower_at = DatumGetTimestampTz(inv_spi_getdatum(row, 5, &isnull));
	r->upper_at = DatumGetTimestampTz(inv_spi_getdatum(row, 6, &isnull));
}

#define RANGES_SQL \
	"SELECT r.partition::pg_catalog.oid, r.is_default, r.lower_text, " \
	"r.upper_text, r.lower_at, r.upper_at " \
	"FROM inventory.list_partition_ranges($1::pg_catalog.regclass) r "

/*
 * get_range
 *		Bounds of partition relid of parent; refuses the default partition
 *		and bounds that are not a single FROM/TO range.
 */
static void
get_range(Oid parent, Oid relid, InvRange *r)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	bool		isnull;

	values[0] = ObjectIdGetDatum(parent);
	values[1] = ObjectIdGetDatum(relid);
	if (inv_spi_exec(RANGES_SQL
					 "WHERE r.partition OPERATOR(pg_catalog.=) $2::pg_catalog.regclass",
					 2, types, values, NULL, false, SPI_OK_SELECT) != 1)
		elog(ERROR, "partition %u of %u not found", relid, parent);
	if (inv_spi_getbool(0, 2, &isnull))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot archive the default partition \"%s\"",
						rel_qname(relid)),
				 errhint("Use inventory.archive_before to move its old rows.")));
	(void) inv_spi_getdatum(0, 5, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot archive partition \"%s\": its bounds are not a month range",
						rel_qname(relid))));
	read_range(0, r);
}

/* The partition of parent with exactly these bounds, or InvalidOid. */
static Oid
find_range_partition(Oid parent, const InvRange *r)
{
	Oid			types[3] = {OIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3];

	values[0] = ObjectIdGetDatum(parent);
	values[1] = TimestampTzGetDatum(r->lower_at);
	values[2] = TimestampTzGetDatum(r->upper_at);
	return result_oid(inv_spi_exec(RANGES_SQL
								   "WHERE r.lower_at OPERATOR(pg_catalog.=) $2 "
								   "AND r.upper_at OPERATOR(pg_catalog.=) $3",
								   3, types, values, NULL, false,
								   SPI_OK_SELECT));
}

/* The default partition of a partitioned table, or InvalidOid. */
static Oid
default_partition(Oid parent)
{
	return result_oid(exec_oid("SELECT NULLIF(p.partdefid, 0) "
							   "FROM pg_catalog.pg_partitioned_table p "
							   "WHERE p.partrelid OPERATOR(pg_catalog.=) $1",
							   parent));
}

/* Text of an int64 result column (count, sum) of row 0. */
static int64
result_int64(int col)
{
	bool		isnull;
	int64		v = inv_spi_getint64(0, col, &isnull);

	return isnull ? 0 : v;
}

/*
 * move_rows
 *		Move the rows of src with column in [lower, upper) into dst in one
 *		statement, at most limit rows (0: all), checking that what was
 *		deleted equals what was inserted, by count and by checksum.
 *		Returns the rows moved, and their size in *bytes when bytes is not
 *		NULL.  SPI must be connected.
 *
 *		XXX: each batch finds its rows with a scan of the source that
 *		also visits the dead rows of earlier batches, so moving N rows
 *		in batches of B reads O(N^2/B) tuples; fine for the tail of one
 *		month, slow for a large default partition (run VACUUM between
 *		runs, or give the month its partition first).
 */
static int64
move_rows(const InvArchivePolicy *pol, Oid src, Oid dst,
		  TimestampTz lower, TimestampTz upper, int64 limit, int64 *bytes)
{
	StringInfoData sql;
	Oid			types[3] = {TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
	Datum		values[3];
	const char *col = quote_identifier(pol->column);
	char	   *src_name = rel_qname(src);
	int64		deleted;
	int64		inserted;
	char	   *sum_deleted;
	char	   *sum_inserted;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH moved AS (DELETE FROM %s s WHERE ", src_name);
	if (limit > 0)
		appendStringInfo(&sql,
						 "s.ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
						 "SELECT t.ctid FROM %s t "
						 "WHERE t.%s OPERATOR(pg_catalog.>=) $1 "
						 "AND t.%s OPERATOR(pg_catalog.<) $2 LIMIT $3)) ",
						 src_name, col, col);
	else
		appendStringInfo(&sql,
						 "s.%s OPERATOR(pg_catalog.>=) $1 "
						 "AND s.%s OPERATOR(pg_catalog.<) $2 "
						 "AND $3 OPERATOR(pg_catalog.=) 0 ",
						 col, col);
	appendStringInfo(&sql,
					 "RETURNING %s), "
					 "ins AS (INSERT INTO %s (%s) SELECT %s FROM moved "
					 "RETURNING %s) "
					 "SELECT (SELECT pg_catalog.count(*) FROM moved), "
					 "(SELECT pg_catalog.count(*) FROM ins), "
					 "(SELECT COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(m::pg_catalog.text, 0)), 0)"
					 "::pg_catalog.text FROM moved m), "
					 "(SELECT COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(i::pg_catalog.text, 0)), 0)"
					 "::pg_catalog.text FROM ins i), "
					 "(SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_column_size(m.*)), 0)"
					 "::pg_catalog.int8 FROM moved m)",
					 pol->columns, rel_qname(dst), pol->columns, pol->columns,
					 pol->columns);

	values[0] = TimestampTzGetDatum(lower);
	values[1] = TimestampTzGetDatum(upper);
	values[2] = Int64GetDatum(limit);
	inv_spi_exec(sql.data, 3, types, values, NULL, false, SPI_OK_SELECT);

	deleted = result_int64(1);
	inserted = result_int64(2);
	sum_deleted = inv_spi_gettext(0, 3);
	sum_inserted = inv_spi_gettext(0, 4);
	if (bytes)
		*bytes = result_int64(5);
	if (deleted != inserted || strcmp(sum_deleted, sum_inserted) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rows moved from \"%s\" to \"%s\" do not match",
						src_name, rel_qname(dst)),
				 errdetail("Deleted %lld rows with checksum %s, inserted %lld rows with checksum %s.",
						   (long long) deleted, sum_deleted,
						   (long long) inserted, sum_inserted)));
	pfree(sql.data);
	return deleted;
}

/*
 * add_trusted_bound_check
 *		Give relid a CHECK constraint equal to the month's partition
 *		constraint, marked valid without scanning the table, so that a
 *		later ATTACH PARTITION can skip its validation scan.  The caller
 *		must hold ACCESS EXCLUSIVE on relid and guarantee that every row is
 *		within the bounds (it was just detached from a partition with
 *		them).  Nothing is done when the constraint exists.
 */
static void
add_trusted_bound_check(Oid relid, const char *column, const InvRange *r)
{
	StringInfoData sql;
	List	   *parsed;
	RawStmt    *raw;
	AlterTableStmt *stmt;
	AlterTableCmd *cmd;
	Constraint *con;
	Relation	rel;
	const char *col = quote_identifier(column);

	if (exec_oid("SELECT 1 FROM pg_catalog.pg_constraint c "
				 "WHERE c.conrelid OPERATOR(pg_catalog.=) $1 "
				 "AND c.conname OPERATOR(pg_catalog.=) '" INV_BOUNDS_CONSTRAINT "'",
				 relid) > 0)
		return;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "ALTER TABLE %s ADD CONSTRAINT " INV_BOUNDS_CONSTRAINT
					 " CHECK (%s IS NOT NULL"
					 " AND %s OPERATOR(pg_catalog.>=) %s::pg_catalog.timestamptz"
					 " AND %s OPERATOR(pg_catalog.<) %s::pg_catalog.timestamptz)"
					 " NOT VALID",
					 rel_qname(relid), col, col,
					 quote_literal_cstr(r->lower_text), col,
					 quote_literal_cstr(r->upper_text));
	parsed = raw_parser(sql.data, RAW_PARSE_DEFAULT);
	raw = linitial_node(RawStmt, parsed);
	stmt = castNode(AlterTableStmt, raw->stmt);
	cmd = linitial_node(AlterTableCmd, stmt->cmds);
	con = castNode(Constraint, cmd->def);

	/*
	 * Known to hold: store it as valid without a scan, as DETACH
	 * CONCURRENTLY does.  ALTER TABLE would queue a validation scan, so the
	 * constraint is added at the catalog level; the caller holds ACCESS
	 * EXCLUSIVE on the table.
	 */
	con->skip_validation = true;
	con->initially_valid = true;
	rel = table_open(relid, AccessExclusiveLock);
	AddRelationNewConstraints(rel, NIL, list_make1(con), false, true, false,
							  sql.data);
	table_close(rel, NoLock);
	CommandCounterIncrement();
}

/*
 * attach_with_bounds
 *		Attach table relid to target with the month's bounds.  Rows of
 *		target's default partition in that range move into relid first,
 *		since PostgreSQL refuses the attach while they are there.  Returns
 *		the rows so moved.
 */
static int64
attach_with_bounds(const InvArchivePolicy *pol, Oid target, Oid relid,
				   const InvRange *r)
{
	Oid			deflt = default_partition(target);
	int64		rescued = 0;
	char	   *sql;

	if (OidIsValid(deflt))
		rescued = move_rows(pol, deflt, relid, r->lower_at, r->upper_at, 0, NULL);
	sql = psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
				   rel_qname(target), rel_qname(relid),
				   quote_literal_cstr(r->lower_text),
				   quote_literal_cstr(r->upper_text));
	ddl_or_fail(sql, target);
	return rescued;
}

/* Record one run in inventory.archive_runs. */
static void
record_run(Oid parent, const char *relation, const char *action, int months,
		   int64 rows, bool exact, int64 bytes, TimestampTz started)
{
	Oid			types[8] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT8OID,
	BOOLOID, INT8OID, TIMESTAMPTZOID};
	Datum		values[8];
	bool		nulls[8] = {false};

	values[0] = CStringGetTextDatum(rel_qname(parent));
	nulls[1] = relation == NULL;
	values[1] = relation ? CStringGetTextDatum(relation) : (Datum) 0;
	values[2] = CStringGetTextDatum(action);
	values[3] = Int32GetDatum(months);
	values[4] = Int64GetDatum(rows);
	values[5] = BoolGetDatum(exact);
	values[6] = Int64GetDatum(bytes);
	values[7] = TimestampTzGetDatum(started);
	inv_spi_exec("INSERT INTO inventory.archive_runs (parent, relation, action, "
				 "months, rows_moved, rows_exact, bytes, started_at, duration) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
				 "pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $8)",
				 8, types, values, nulls, false, SPI_OK_INSERT);
}

/* Rows (exact or estimated) and total bytes of a relation. */
static void
measure(Oid relid, bool exact, int64 *rows, int64 *bytes)
{
	if (exact)
	{
		inv_spi_exec(psprintf("SELECT pg_catalog.count(*) FROM %s",
							  rel_qname(relid)),
					 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
		*rows = result_int64(1);
	}
	else
	{
		exec_oid("SELECT GREATEST(c.reltuples, 0)::pg_catalog.int8 "
				 "FROM pg_catalog.pg_class c "
				 "WHERE c.oid OPERATOR(pg_catalog.=) $1", relid);
		*rows = result_int64(1);
	}
	exec_oid("SELECT pg_catalog.pg_total_relation_size($1)", relid);
	*bytes = result_int64(1);
}

/*
 * archive_detached_table
 *		Attach a table that holds one month, no longer a partition of the
 *		hot parent, to the archive.  An archive partition that already
 *		holds part of the month (from a batched archival) is merged into
 *		it and dropped.  SPI must be connected; relid locked by the caller.
 */
static void
archive_detached_table(const InvArchivePolicy *pol, Oid relid,
					   const InvRange *r)
{
	Oid			existing;

	add_trusted_bound_check(relid, pol->column, r);

	existing = find_range_partition(pol->archive, r);
	if (OidIsValid(existing))
	{
		move_rows(pol, existing, relid, r->lower_at, r->upper_at, 0, NULL);
		ddl_or_fail(psprintf("DROP TABLE %s", rel_qname(existing)),
					pol->archive);
	}
	attach_with_bounds(pol, pol->archive, relid, r);
}

/*
 * archive_whole
 *		Move the whole partition relid of pol->parent to the archive.
 *		Locks: SHARE on the partition while it is counted (only writers
 *		into that month wait), then ACCESS EXCLUSIVE on the hot parent
 *		(DETACH) until commit; SHARE UPDATE EXCLUSIVE on the archive and
 *		ACCESS EXCLUSIVE on its default partition (ATTACH).
 */
static int64
archive_whole(const InvArchivePolicy *pol, Oid relid, bool count_rows)
{
	InvRange	r;
	TimestampTz started = GetCurrentTimestamp();
	int64		rows;
	int64		bytes;
	char	   *name = rel_qname(relid);

	get_range(pol->parent, relid, &r);

	ddl_or_fail(psprintf("LOCK TABLE %s IN SHARE MODE", name), relid);
	measure(relid, count_rows, &rows, &bytes);

	ddl_or_fail(psprintf("ALTER TABLE %s DETACH PARTITION %s",
						 rel_qname(pol->parent), name), pol->parent);
	archive_detached_table(pol, relid, &r);

	record_run(pol->parent, name, "attach", 1, rows, count_rows, bytes,
			   started);
	ereport(DEBUG1,
			(errmsg_internal("archived partition \"%s\" (%lld rows)",
							 name, (long long) rows)));
	return rows;
}

/*
 * create_month_table
 *		A new table for the month r shaped like the hot parent (defaults,
 *		CHECK constraints and indexes, no identity), named
 *		<name_of>_pYYYYMM in name_of's schema (clipped to fit, with a
 *		suffix when taken), so that it can be a partition of the hot
 *		parent or of its archive and move between them as metadata.
 */
static Oid
create_month_table(const InvArchivePolicy *pol, Oid name_of, const InvRange *r)
{
	Oid			types[3] = {TIMESTAMPTZOID, TEXTOID, OIDOID};
	Datum		values[3];
	char	   *name;
	char	   *qname;
	Oid			save_userid;
	int			save_sec;

	values[0] = TimestampTzGetDatum(r->lower_at);
	values[1] = CStringGetTextDatum(pol->time_zone);
	values[2] = ObjectIdGetDatum(name_of);
	inv_spi_exec("WITH b AS (SELECT pg_catalog.left(c.relname, 40) "
				 "OPERATOR(pg_catalog.||) '_p' OPERATOR(pg_catalog.||) "
				 "pg_catalog.to_char($1 AT TIME ZONE $2, 'YYYYMM') AS base, "
				 "c.relnamespace AS ns FROM pg_catalog.pg_class c "
				 "WHERE c.oid OPERATOR(pg_catalog.=) $3) "
				 "SELECT n.name FROM b, LATERAL (SELECT b.base "
				 "OPERATOR(pg_catalog.||) CASE WHEN g OPERATOR(pg_catalog.=) 0 "
				 "THEN '' ELSE '_' OPERATOR(pg_catalog.||) g END AS name "
				 "FROM pg_catalog.generate_series(0, 99) g) n "
				 "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class x "
				 "WHERE x.relname OPERATOR(pg_catalog.=) n.name "
				 "AND x.relnamespace OPERATOR(pg_catalog.=) b.ns) LIMIT 1",
				 3, types, values, NULL, false, SPI_OK_SELECT);
	name = inv_spi_gettext(0, 1);
	qname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(name_of)),
									   name);

	/*
	 * Made by the owner of the table it will join, whoever runs archival
	 * (a member of the owner role, a superuser's job), as the partition
	 * engine makes partitions; the caller passed the ownership check.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(inv_rel_owner(name_of),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	inv_spi_exec(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS "
						  "INCLUDING CONSTRAINTS INCLUDING INDEXES)",
						  qname, rel_qname(pol->parent)),
				 0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	SetUserIdAndSecContext(save_userid, save_sec);
	return relname_oid(qname);
}

/*
 * ensure_archive_partition
 *		The archive partition for the month r, created (create_month_table)
 *		and attached when missing.
 */
static Oid
ensure_archive_partition(const InvArchivePolicy *pol, const InvRange *r)
{
	Oid			relid = find_range_partition(pol->archive, r);

	if (OidIsValid(relid))
		return relid;
	relid = create_month_table(pol, pol->archive, r);
	attach_with_bounds(pol, pol->archive, relid, r);
	return relid;
}

/* Validate the arguments shared by archive_step and archive_before. */
static void
check_cutoff(Oid parent, TimestampTz from, TimestampTz cutoff,
			 TimestampTz now, int batch)
{
	if (from >= cutoff)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start of range %s is not before the cutoff %s",
						timestamptz_to_str(from), timestamptz_to_str(cutoff))));
	if (cutoff > now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cutoff %s is in the future", timestamptz_to_str(cutoff)),
				 errdetail("Now is %s.", timestamptz_to_str(now)),
				 errhint("Only rows dated before now can be archived.")));
	if (batch <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch size must be positive"),
				 errdetail("The batch size given was %d.", batch)));
}

/*
 * archive_step_internal
 *		One unit of work on the rows dated in [from, cutoff), in this
 *		order: the earliest whole month inside the range (metadata); a
 *		batch of a month the range covers in part; a batch of the earliest
 *		month of such rows in the hot default partition.  from is
 *		DT_NOBEGIN for "everything before the cutoff".  SPI connected,
 *		policy loaded, locked.
 */
static void
archive_step_internal(const InvArchivePolicy *pol, TimestampTz from,
					  TimestampTz cutoff, int batch, InvStep *step)
{
	Oid			types[3] = {OIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3];
	Oid			src = InvalidOid;
	Oid			dst;
	InvRange	r;
	TimestampTz lower;
	TimestampTz upper;
	TimestampTz started = GetCurrentTimestamp();
	int64		bytes = 0;
	uint64		n;
	uint64		i;
	Oid			cand[2];
	InvRange	cand_r[2];
	const char *col = quote_identifier(pol->column);
	bool		isnull;

	values[0] = ObjectIdGetDatum(pol->parent);
	values[1] = TimestampTzGetDatum(cutoff);
	values[2] = TimestampTzGetDatum(from);

	step->action = "done";
	step->relation = NULL;
	step->rows = 0;

	/* a whole month */
	if (inv_spi_exec(RANGES_SQL "WHERE NOT r.is_default "
					 "AND r.upper_at OPERATOR(pg_catalog.<=) $2 "
					 "AND r.lower_at OPERATOR(pg_catalog.>=) $3 "
					 "ORDER BY r.lower_at LIMIT 1",
					 3, types, values, NULL, false, SPI_OK_SELECT) == 1)
	{
		src = result_oid(1);
		step->action = "attach";
		step->relation = rel_qname(src);
		step->rows = archive_whole(pol, src, true);
		return;
	}

	/* months the range covers in part: at most its first and its last */
	n = inv_spi_exec(RANGES_SQL "WHERE NOT r.is_default "
					 "AND r.lower_at OPERATOR(pg_catalog.<) $2 "
					 "AND r.upper_at OPERATOR(pg_catalog.>) $3 "
					 "ORDER BY r.lower_at LIMIT 2",
					 3, types, values, NULL, false, SPI_OK_SELECT);
	for (i = 0; i < n; i++)
	{
		cand[i] = DatumGetObjectId(inv_spi_getdatum(i, 1, &isnull));
		read_range(i, &cand_r[i]);
	}
	for (i = 0; i < n && !OidIsValid(src); i++)
	{
		Datum		rvalues[2];

		rvalues[0] = TimestampTzGetDatum(Max(cand_r[i].lower_at, from));
		rvalues[1] = TimestampTzGetDatum(Min(cand_r[i].upper_at, cutoff));
		if (inv_spi_exec(psprintf("SELECT 1 FROM %s t WHERE t.%s "
								  "OPERATOR(pg_catalog.>=) $1 AND t.%s "
								  "OPERATOR(pg_catalog.<) $2 LIMIT 1",
								  rel_qname(cand[i]), col, col),
						 2, (Oid[]) {TIMESTAMPTZOID, TIMESTAMPTZOID},
						 rvalues, NULL, false, SPI_OK_SELECT) > 0)
		{
			src = cand[i];
			r = cand_r[i];
		}
	}

	/* else the earliest month of such rows in the hot default partition */
	if (!OidIsValid(src))
	{
		Oid			deflt = default_partition(pol->parent);
		Oid			mtypes[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		mvalues[3];

		if (!OidIsValid(deflt))
			return;
		mvalues[0] = CStringGetTextDatum(pol->time_zone);
		mvalues[1] = TimestampTzGetDatum(cutoff);
		mvalues[2] = TimestampTzGetDatum(from);
		inv_spi_exec(psprintf("SELECT NULL, NULL, lo::pg_catalog.text, "
							  "hi::pg_catalog.text, lo, hi FROM "
							  "(SELECT pg_catalog.date_trunc('month', "
							  "pg_catalog.min(t.%s) AT TIME ZONE $1) AS m "
							  "FROM %s t WHERE t.%s OPERATOR(pg_catalog.<) $2 "
							  "AND t.%s OPERATOR(pg_catalog.>=) $3) x, "
							  "LATERAL (SELECT x.m AT TIME ZONE $1 AS lo, "
							  "(x.m OPERATOR(pg_catalog.+) "
							  "'1 month'::pg_catalog.interval) "
							  "AT TIME ZONE $1 AS hi) b "
							  "WHERE x.m IS NOT NULL",
							  col, rel_qname(deflt), col, col),
					 3, mtypes, mvalues, NULL, false, SPI_OK_SELECT);
		if (SPI_processed == 0)
			return;
		read_range(0, &r);
		src = deflt;
	}

	CHECK_FOR_INTERRUPTS();
	dst = ensure_archive_partition(pol, &r);
	lower = Max(r.lower_at, from);
	upper = Min(r.upper_at, cutoff);
	step->action = "batch";
	step->relation = rel_qname(src);
	step->rows = move_rows(pol, src, dst, lower, upper, batch, &bytes);
	record_run(pol->parent, step->relation, "batch", 0, step->rows, true,
			   bytes, started);
}

/*
 * archive_partition(p_partition regclass, p_count_rows boolean
 *					 DEFAULT false) RETURNS bigint
 *
 * Moves a whole hot partition to its parent's archive as metadata (see
 * archive_whole for the locks).  Returns the rows archived: exact when
 * p_count_rows (one scan of the month, before the parent is locked), else
 * the planner's estimate, which keeps the run's time independent of the
 * month's size.
 *
 * Errors: 22004 null argument; 55000 not a partition; 42704 parent not
 * registered; 22023 default partition; 42804 archive of another shape;
 * 55P03 lock not obtained.
 */
Datum
inv_archive_partition(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			parent;
	bool		count_rows;
	InvArchivePolicy pol;
	int64		rows;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("partition and count_rows must not be null")));
	relid = PG_GETARG_OID(0);
	count_rows = PG_GETARG_BOOL(1);

	inv_spi_connect();
	parent = partition_parent(relid);
	if (!OidIsValid(parent))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not a partition", rel_qname(relid)),
				 errhint("Give a partition of a registered table.")));
	load_policy(parent, &pol);
	lock_parent(parent);
	rows = archive_whole(&pol, relid, count_rows);
	inv_spi_finish();

	PG_RETURN_INT64(rows);
}

/* Common argument handling of archive_step and archive_before. */
static void
step_args(FunctionCallInfo fcinfo, InvArchivePolicy *pol,
		  TimestampTz *from, TimestampTz *cutoff, int *batch, int now_arg,
		  int from_arg)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(now_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent, cutoff and now must not be null")));
	*cutoff = PG_GETARG_TIMESTAMPTZ(1);
	*batch = PG_ARGISNULL(2) ? inv_archive_batch_size : PG_GETARG_INT32(2);
	if (PG_ARGISNULL(from_arg))
		TIMESTAMP_NOBEGIN(*from);
	else
		*from = PG_GETARG_TIMESTAMPTZ(from_arg);
	check_cutoff(PG_GETARG_OID(0), *from, *cutoff,
				 PG_GETARG_TIMESTAMPTZ(now_arg), *batch);
	load_policy(PG_GETARG_OID(0), pol);
	lock_parent(pol->parent);
}

/*
 * archive_step(p_parent regclass, p_cutoff timestamptz, p_batch_size int
 *				DEFAULT NULL, p_now timestamptz DEFAULT now(),
 *				p_from timestamptz DEFAULT NULL,
 *				OUT action text, OUT relation text, OUT rows_moved bigint)
 *
 * One unit of archival before the cutoff (see archive_step_internal);
 * action 'done' when nothing is left.  Locks as archive_partition for a
 * whole month; ROW EXCLUSIVE on the source partition and the archive
 * partition for a batch (writers of other months do not wait).
 *
 * Errors: 22004 null argument; 22023 cutoff after now, p_from not before
 * the cutoff, batch size not positive; 42704 unregistered parent; 42804 archive of another shape;
 * 55P03 lock not obtained.
 */
Datum
inv_archive_step(PG_FUNCTION_ARGS)
{
	InvArchivePolicy pol;
	TimestampTz from;
	TimestampTz cutoff;
	int			batch;
	InvStep		step;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	inv_spi_connect();
	step_args(fcinfo, &pol, &from, &cutoff, &batch, 3, 4);
	archive_step_internal(&pol, from, cutoff, batch, &step);
	inv_spi_finish();

	values[0] = CStringGetTextDatum(step.action);
	nulls[1] = step.relation == NULL;
	values[1] = step.relation ? CStringGetTextDatum(step.relation) : (Datum) 0;
	values[2] = Int64GetDatum(step.rows);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * archive_before(p_parent regclass, p_cutoff timestamptz, p_batch_size
 *				  int DEFAULT NULL, p_verbose boolean DEFAULT false,
 *				  p_now timestamptz DEFAULT now(),
 *				  p_from timestamptz DEFAULT NULL) RETURNS bigint
 *
 * Archives everything of the parent dated before the cutoff (and on or
 * after p_from, when given: a date range), in one
 * transaction: whole months as metadata, the rest in batches.  A NOTICE
 * per step when p_verbose, one LOG line at the end.  Returns the rows
 * archived.  Locks and errors as archive_step.
 */
Datum
inv_archive_before(PG_FUNCTION_ARGS)
{
	InvArchivePolicy pol;
	TimestampTz from;
	TimestampTz cutoff;
	int			batch;
	bool		verbose = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	InvStep		step;
	int64		total = 0;
	int			months = 0;
	int			steps = 0;

	inv_spi_connect();
	step_args(fcinfo, &pol, &from, &cutoff, &batch, 4, 5);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		archive_step_internal(&pol, from, cutoff, batch, &step);
		if (strcmp(step.action, "done") == 0)
			break;
		steps++;
		total += step.rows;
		if (strcmp(step.action, "attach") == 0)
			months++;
		if (verbose)
			ereport(NOTICE,
					(errmsg("archival of \"%s\": %s \"%s\", %lld rows (%lld in total)",
							rel_qname(pol.parent), step.action, step.relation,
							(long long) step.rows, (long long) total)));
	}
	inv_spi_finish();

	ereport(LOG,
			(errmsg("archival of \"%s\" before %s: %d months attached, %lld rows in %d steps",
					rel_qname(pol.parent), timestamptz_to_str(cutoff),
					months, (long long) total, steps)));
	PG_RETURN_INT64(total);
}

/*
 * restore_month(p_parent regclass, p_month date) RETURNS bigint
 *
 * Brings the archived month holding p_month (in the policy's zone) back
 * into the hot ledger.  When the hot parent has no partition for it, the
 * archive partition is detached from the archive and attached to the hot
 * parent (metadata; rows of the hot default partition in that month join
 * it first).  When it has one (the month was archived in batches), the
 * archived rows are inserted straight into that partition with their
 * txn_id, and the archive partition is dropped.  Rows of the archive's
 * default partition in the month follow.  Returns the rows restored.
 *
 * Locks: ACCESS EXCLUSIVE on the archive partition; SHARE UPDATE
 * EXCLUSIVE on the hot parent (ATTACH) and ACCESS EXCLUSIVE on its
 * default partition, or ACCESS EXCLUSIVE on the archive (DROP).
 *
 * Errors: 22004 null argument; 42704 unregistered parent; 42804 archive
 * of another shape; 42704 month not archived; 55P03 lock not obtained.
 */
Datum
inv_restore_month(PG_FUNCTION_ARGS)
{
	InvArchivePolicy pol;
	InvRange	r;
	Oid			arch;
	Oid			hot;
	Oid			adeflt;
	int64		rows = 0;
	int64		bytes = 0;
	TimestampTz started = GetCurrentTimestamp();
	Oid			types[2] = {DATEOID, TEXTOID};
	Datum		values[2];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent and month must not be null")));

	inv_spi_connect();
	load_policy(PG_GETARG_OID(0), &pol);
	lock_parent(pol.parent);

	values[0] = PG_GETARG_DATUM(1);
	values[1] = CStringGetTextDatum(pol.time_zone);
	inv_spi_exec("SELECT NULL, NULL, lo::pg_catalog.text, hi::pg_catalog.text, "
				 "lo, hi FROM (SELECT pg_catalog.date_trunc('month', $1::pg_catalog.timestamp) "
				 "AT TIME ZONE $2 AS lo, (pg_catalog.date_trunc('month', $1::pg_catalog.timestamp) "
				 "OPERATOR(pg_catalog.+) '1 month'::pg_catalog.interval) AT TIME ZONE $2 AS hi) b",
				 2, types, values, NULL, false, SPI_OK_SELECT);
	read_range(0, &r);

	arch = find_range_partition(pol.archive, &r);
	hot = find_range_partition(pol.parent, &r);
	adeflt = default_partition(pol.archive);

	if (!OidIsValid(arch))
	{
		Oid			ttypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		tvalues[2];

		tvalues[0] = TimestampTzGetDatum(r.lower_at);
		tvalues[1] = TimestampTzGetDatum(r.upper_at);
		if (!OidIsValid(adeflt) || !OidIsValid(hot) ||
			inv_spi_exec(psprintf("SELECT 1 FROM %s t WHERE t.%s "
								  "OPERATOR(pg_catalog.>=) $1 AND t.%s "
								  "OPERATOR(pg_catalog.<) $2 LIMIT 1",
								  rel_qname(adeflt),
								  quote_identifier(pol.column),
								  quote_identifier(pol.column)),
						 2, ttypes, tvalues, NULL, false,
						 SPI_OK_SELECT) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("month starting %s of table \"%s\" is not archived",
							r.lower_text, rel_qname(pol.parent)),
					 errhint("See inventory.archive_runs for the months archived.")));
	}
	else if (OidIsValid(hot))
	{
		/* batched month: rows go straight into the hot partition */
		rows = move_rows(&pol, arch, hot, r.lower_at, r.upper_at, 0, NULL);
		ddl_or_fail(psprintf("DROP TABLE %s", rel_qname(arch)), pol.archive);
	}
	else
	{
		/* whole month: metadata */
		ddl_or_fail(psprintf("LOCK TABLE %s IN SHARE MODE", rel_qname(arch)),
					arch);
		measure(arch, true, &rows, &bytes);
		ddl_or_fail(psprintf("ALTER TABLE %s DETACH PARTITION %s",
							 rel_qname(pol.archive), rel_qname(arch)),
					pol.archive);
		add_trusted_bound_check(arch, pol.column, &r);
		/* hot rows of the month in the hot default join it, uncounted */
		(void) attach_with_bounds(&pol, pol.parent, arch, &r);
		hot = arch;
	}

	/* stray rows of the month in the archive's default partition */
	if (OidIsValid(adeflt))
		rows += move_rows(&pol, adeflt, hot, r.lower_at, r.upper_at, 0, NULL);

	record_run(pol.parent, rel_qname(hot), "restore", 1, rows, true, bytes,
			   started);
	inv_spi_finish();
	PG_RETURN_INT64(rows);
}

/*
 * archive_detached(p_table regclass, p_parent regclass) RETURNS bigint
 *
 * Second half of the concurrent path (archive_statements): attaches to
 * the archive a table that ALTER TABLE ... DETACH PARTITION ...
 * CONCURRENTLY took out of the hot parent.  The month's bounds are read
 * from the valid CHECK constraint that the concurrent detach leaves on the
 * table, so the attach does not scan the month.  Returns the rows of the
 * month (exact, counted under SHARE lock on the detached table, which no
 * writer uses any more).
 *
 * Locks: ACCESS EXCLUSIVE on the table; SHARE UPDATE EXCLUSIVE on the
 * archive, ACCESS EXCLUSIVE on its default partition.  The hot parent is
 * not locked.
 *
 * Errors: 22004 null argument; 42704 parent not registered; 42804 archive
 * of another shape; 55000 table still (or half) a partition, or without
 * a bounds constraint; 55P03 lock not obtained.
 */
Datum
inv_archive_detached(PG_FUNCTION_ARGS)
{
	Oid			relid;
	InvArchivePolicy pol;
	InvRange	r;
	int64		rows;
	int64		bytes;
	char	   *name;
	TimestampTz started = GetCurrentTimestamp();
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and parent must not be null")));
	relid = PG_GETARG_OID(0);

	inv_spi_connect();
	load_policy(PG_GETARG_OID(1), &pol);
	lock_parent(pol.parent);
	name = rel_qname(relid);

	values[0] = ObjectIdGetDatum(relid);
	if (inv_spi_exec("SELECT i.inhdetachpending FROM pg_catalog.pg_inherits i "
					 "WHERE i.inhrelid OPERATOR(pg_catalog.=) $1",
					 1, types, values, NULL, false, SPI_OK_SELECT) > 0)
	{
		if (inv_spi_getbool(0, 1, &isnull))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" is still being detached", name),
					 errdetail("A DETACH PARTITION ... CONCURRENTLY was interrupted."),
					 errhint("Run ALTER TABLE %s DETACH PARTITION %s FINALIZE first.",
							 rel_qname(pol.parent), name)));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is still a partition", name),
				 errhint("Run the statements of inventory.archive_statements in order, or use inventory.archive_partition.")));
	}

	/* bounds from the CHECK constraint DETACH CONCURRENTLY added */
	if (inv_spi_exec("SELECT NULL, NULL, x.m[1], x.m[2], "
					 "x.m[1]::pg_catalog.timestamptz, x.m[2]::pg_catalog.timestamptz "
					 "FROM (SELECT pg_catalog.regexp_match("
					 "pg_catalog.pg_get_constraintdef(c.oid), "
					 "'>= ''([^'']*)''::timestamp with time zone\\).* < ''([^'']*)''::timestamp with time zone') AS m "
					 "FROM pg_catalog.pg_constraint c "
					 "WHERE c.conrelid OPERATOR(pg_catalog.=) $1 "
					 "AND c.contype OPERATOR(pg_catalog.=) 'c' AND c.convalidated "
					 "ORDER BY c.oid) x WHERE x.m IS NOT NULL LIMIT 1",
					 1, types, values, NULL, false, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no valid CHECK constraint with month bounds", name),
				 errhint("Only tables detached with DETACH PARTITION ... CONCURRENTLY, or by this extension, can be archived this way.")));
	read_range(0, &r);

	ddl_or_fail(psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", name),
				relid);
	measure(relid, true, &rows, &bytes);
	archive_detached_table(&pol, relid, &r);
	record_run(pol.parent, name, "attach", 1, rows, true, bytes, started);
	inv_spi_finish();

	PG_RETURN_INT64(rows);
}

/* Count and checksum of the rows of rel (any relation) in [lower, upper). */
static void
count_and_sum(const InvArchivePolicy *pol, const char *rel,
			  TimestampTz lower, TimestampTz upper,
			  int64 *count, char **checksum)
{
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2];
	const char *col = quote_identifier(pol->column);

	values[0] = TimestampTzGetDatum(lower);
	values[1] = TimestampTzGetDatum(upper);
	inv_spi_exec(psprintf("SELECT pg_catalog.count(*), "
						  "COALESCE(pg_catalog.sum(pg_catalog.hashtextextended("
						  "ROW(%s)::pg_catalog.text, 0)), 0)::pg_catalog.text "
						  "FROM %s AS t WHERE t.%s OPERATOR(pg_catalog.>=) $1 "
						  "AND t.%s OPERATOR(pg_catalog.<) $2",
						  pol->columns, rel, col, col),
				 2, types, values, NULL, false, SPI_OK_SELECT);
	*count = result_int64(1);
	*checksum = inv_spi_gettext(0, 2);
}

/* Split "schema.table" (or "table", in schema public) of a remote table. */
static void
parse_remote_name(text *arg, char **rschema, char **rtable)
{
	char	   *str = text_to_cstring(arg);
	List	   *names = stringToQualifiedNameList(str);

	if (list_length(names) == 1)
	{
		*rschema = "public";
		*rtable = strVal(linitial(names));
	}
	else if (list_length(names) == 2)
	{
		*rschema = strVal(linitial(names));
		*rtable = strVal(lsecond(names));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("remote table name \"%s\" is not schema.table", str)));
}

/* 42704 unless server is a foreign server of postgres_fdw. */
static void
check_fdw_server(const char *server)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(server);
	if (inv_spi_exec("SELECT 1 FROM pg_catalog.pg_foreign_server s "
					 "JOIN pg_catalog.pg_foreign_data_wrapper w "
					 "ON w.oid OPERATOR(pg_catalog.=) s.srvfdw "
					 "WHERE s.srvname OPERATOR(pg_catalog.=) $1 "
					 "AND w.fdwname OPERATOR(pg_catalog.=) 'postgres_fdw'",
					 1, types, values, NULL, true, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("postgres_fdw server \"%s\" does not exist", server),
				 errhint("CREATE EXTENSION postgres_fdw, then CREATE SERVER and CREATE USER MAPPING for the archive server.")));
}

/*
 * create_remote_ftable
 *		A foreign table with the columns of parent for the remote table,
 *		named after tag; created inside the caller's transaction and
 *		dropped by the caller, so that it is gone at commit or abort.
 */
static char *
create_remote_ftable(Oid parent, Oid tag, const char *server,
					 const char *rschema, const char *rtable)
{
	char	   *coldefs;
	char	   *ftable;

	exec_oid("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) "
			 "OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) "
			 "pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' "
			 "ORDER BY a.attnum) "
			 "FROM pg_catalog.pg_attribute a "
			 "WHERE a.attrelid OPERATOR(pg_catalog.=) $1 "
			 "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
			 parent);
	coldefs = inv_spi_gettext(0, 1);
	ftable = psprintf("inventory.%s",
					  quote_identifier(psprintf("archive_remote_%u", tag)));
	inv_spi_exec(psprintf("CREATE FOREIGN TABLE %s (%s) SERVER %s "
						  "OPTIONS (schema_name %s, table_name %s, batch_size '1000')",
						  ftable, coldefs, quote_identifier(server),
						  quote_literal_cstr(rschema),
						  quote_literal_cstr(rtable)),
				 0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	return ftable;
}

/*
 * archive_partition_remote(p_partition regclass, p_server name,
 *							p_remote_table text) RETURNS bigint
 *
 * Moves a whole hot month to a table on another server reached through
 * postgres_fdw (p_server is a foreign server of that wrapper; the remote
 * table, "schema.table" or "table" in schema public, has the ledger's
 * columns in the same order).  The rows are copied inside this
 * transaction, then counted and checksummed on the remote side and
 * compared with the local month; only when both agree is the partition
 * detached and dropped.  A rerun after a failure between the remote and
 * the local commit finds an identical remote copy, skips the copy and
 * completes; a remote month that holds different rows is refused.  The
 * function runs with TimeZone UTC and DateStyle ISO so that row texts,
 * and so the checksums, are computed alike on both servers.
 *
 * Locks: SHARE on the partition while it is copied (writers of that month
 * wait, writers of other months do not), then ACCESS EXCLUSIVE on the hot
 * parent (DETACH) until commit.
 *
 * Errors: 22004 null argument; 42704 parent not registered, server
 * unknown or not a postgres_fdw server; 22023 default partition; 55000
 * not a partition; XX001 remote copy differs (nothing is removed); 55P03
 * lock not obtained; remote errors as postgres_fdw reports them.
 */
Datum
inv_archive_partition_remote(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			parent;
	InvArchivePolicy pol;
	InvRange	r;
	char	   *server;
	char	   *rschema;
	char	   *rtable;
	char	   *name;
	char	   *ftable;
	int64		rows;
	int64		bytes;
	int64		rcount;
	char	   *lsum;
	char	   *rsum;
	bool		copied = false;
	TimestampTz started = GetCurrentTimestamp();

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("partition, server and remote table must not be null")));
	relid = PG_GETARG_OID(0);
	server = NameStr(*PG_GETARG_NAME(1));
	parse_remote_name(PG_GETARG_TEXT_PP(2), &rschema, &rtable);

	inv_spi_connect();
	parent = partition_parent(relid);
	if (!OidIsValid(parent))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not a partition", rel_qname(relid)),
				 errhint("Give a partition of a registered table.")));
	load_policy(parent, &pol);
	get_range(parent, relid, &r);
	lock_parent(parent);
	name = rel_qname(relid);

	check_fdw_server(server);
	ftable = create_remote_ftable(parent, relid, server, rschema, rtable);

	/* the local month, held still while it is copied */
	ddl_or_fail(psprintf("LOCK TABLE %s IN SHARE MODE", name), relid);
	measure(relid, false, &rows, &bytes);
	count_and_sum(&pol, name, r.lower_at, r.upper_at, &rows, &lsum);

	count_and_sum(&pol, ftable, r.lower_at, r.upper_at, &rcount, &rsum);
	if (rcount > 0 && (rcount != rows || strcmp(rsum, lsum) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("remote table %s.%s already holds other rows of the month of \"%s\"",
						rschema, rtable, name),
				 errdetail("Remote: %lld rows, checksum %s; local: %lld rows, checksum %s.",
						   (long long) rcount, rsum, (long long) rows, lsum),
				 errhint("Compare the two copies; delete the month's rows on the archive server to archive it again.")));
	if (rcount == 0 && rows > 0)
	{
		inv_spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
							  ftable, pol.columns, pol.columns, name),
					 0, NULL, NULL, NULL, false, SPI_OK_INSERT);
		copied = true;
		count_and_sum(&pol, ftable, r.lower_at, r.upper_at, &rcount, &rsum);
	}
	if (rcount != rows || strcmp(rsum, lsum) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("remote copy of \"%s\" does not match; nothing was removed",
						name),
				 errdetail("Remote: %lld rows, checksum %s; local: %lld rows, checksum %s.",
						   (long long) rcount, rsum, (long long) rows, lsum)));

	/* verified: the month leaves the hot ledger */
	ddl_or_fail(psprintf("ALTER TABLE %s DETACH PARTITION %s",
						 rel_qname(pol.parent), name), pol.parent);
	ddl_or_fail(psprintf("DROP TABLE %s", name), relid);
	inv_spi_exec(psprintf("DROP FOREIGN TABLE %s", ftable),
				 0, NULL, NULL, NULL, false, SPI_OK_UTILITY);

	record_run(pol.parent, name, "remote", 1, rows, true, bytes, started);
	ereport(NOTICE,
			(errmsg("archived partition \"%s\" to %s.%s on server \"%s\": %lld rows%s",
					name, rschema, rtable, server, (long long) rows,
					copied ? "" : " (already copied by an earlier run)")));
	inv_spi_finish();

	PG_RETURN_INT64(rows);
}

/*
 * Run one SQL statement (no parameters but $1 oid / $2 timestamptz /
 * $3 int4 as given) in a subtransaction; returns NULL on success, else the
 * error, which has been cleaned up.  A cancel or a shutdown is re-thrown:
 * it ends the whole procedure.
 */
static ErrorData *
try_exec(const char *sql, int nargs, Oid *types, Datum *values, bool *nulls)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		inv_spi_exec(sql, nargs, types, values, nulls, false, SPI_OK_SELECT);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
	}
	PG_END_TRY();
	return edata;
}

/* Whether a procedure was called so that it may commit. */
static bool
call_is_atomic(FunctionCallInfo fcinfo)
{
	CallContext *callctx = (CallContext *) fcinfo->context;

	return callctx == NULL || !IsA(callctx, CallContext) || callctx->atomic;
}

/* Record a failed or skipped run (parent by OID). */
static void
record_outcome(Oid parent, const char *relation, const char *action,
			   int months, int64 rows, const char *outcome,
			   const char *detail)
{
	Oid			types[7] = {OIDOID, TEXTOID, TEXTOID, INT4OID, INT8OID,
	TEXTOID, TEXTOID};
	Datum		values[7];
	bool		nulls[7] = {false};

	values[0] = ObjectIdGetDatum(parent);
	nulls[1] = relation == NULL;
	values[1] = relation ? CStringGetTextDatum(relation) : (Datum) 0;
	values[2] = CStringGetTextDatum(action);
	values[3] = Int32GetDatum(months);
	values[4] = Int64GetDatum(rows);
	values[5] = CStringGetTextDatum(outcome);
	nulls[6] = detail == NULL;
	values[6] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	inv_spi_exec("INSERT INTO inventory.archive_runs (parent, relation, action, "
				 "months, rows_moved, outcome, detail) "
				 "VALUES ($1::pg_catalog.regclass::pg_catalog.text, $2, $3, "
				 "$4, $5, $6, $7)",
				 7, types, values, nulls, false, SPI_OK_INSERT);
}

/*
 * PROCEDURE archive_before_proc(p_parent regclass, p_cutoff timestamptz,
 *		p_batch_size integer DEFAULT NULL, p_verbose boolean DEFAULT true,
 *		p_now timestamptz DEFAULT NULL, p_from timestamptz DEFAULT NULL)
 *
 * archive_before, committing after every month and every batch, so that a
 * crash or a cancel loses at most the step in flight (which rolls back
 * whole) and a rerun continues.  After each step the progress row of the
 * parent in inventory.archive_progress is updated and committed, so other
 * sessions can watch it; a NOTICE per step when p_verbose.  A failing
 * step marks the progress row 'failed', records a failed run and raises
 * its error.  Called inside a transaction block (atomic CALL), it cannot
 * commit and runs everything in the caller's transaction.
 *
 * Written in C, not PL/pgSQL: a procedure that commits cannot carry a SET
 * search_path clause; every name here is qualified instead.
 *
 * Locks and errors: as archive_step, per step.  The arguments are checked
 * before anything is written: bad input changes nothing.
 */
Datum
inv_archive_before_proc(PG_FUNCTION_ARGS)
{
	bool		atomic = call_is_atomic(fcinfo);
	InvArchivePolicy pol;
	Oid			parent;
	TimestampTz from;
	TimestampTz cutoff;
	TimestampTz now;
	int			batch;
	bool		verbose = PG_ARGISNULL(3) || PG_GETARG_BOOL(3);
	int			steps = 0;
	int			months = 0;
	int64		total = 0;
	Oid			types[6] = {OIDOID, TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID,
	TEXTOID, TIMESTAMPTZOID};
	Datum		values[6];
	bool		nulls[6] = {false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent and cutoff must not be null")));
	parent = PG_GETARG_OID(0);
	cutoff = PG_GETARG_TIMESTAMPTZ(1);
	batch = PG_ARGISNULL(2) ? inv_archive_batch_size : PG_GETARG_INT32(2);
	now = PG_ARGISNULL(4) ? GetCurrentTransactionStartTimestamp() :
		PG_GETARG_TIMESTAMPTZ(4);
	if (PG_ARGISNULL(5))
		TIMESTAMP_NOBEGIN(from);
	else
		from = PG_GETARG_TIMESTAMPTZ(5);

	inv_spi_connect_nonatomic(atomic);

	/* validate before writing anything */
	check_cutoff(parent, from, cutoff, now, batch);
	load_policy(parent, &pol);

	values[0] = ObjectIdGetDatum(parent);
	values[1] = TimestampTzGetDatum(cutoff);
	values[2] = Int32GetDatum(batch);
	values[3] = TimestampTzGetDatum(now);
	values[4] = (Datum) 0;
	nulls[4] = true;
	values[5] = TimestampTzGetDatum(from);
	inv_spi_exec("INSERT INTO inventory.archive_progress AS g "
				 "(parent, cutoff, state, started_at, updated_at) "
				 "VALUES ($1::pg_catalog.regclass::pg_catalog.text, $2, 'running', "
				 "pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp()) "
				 "ON CONFLICT (parent) DO UPDATE "
				 "SET cutoff = EXCLUDED.cutoff, state = 'running', "
				 "started_at = EXCLUDED.started_at, "
				 "updated_at = EXCLUDED.updated_at, steps = 0, "
				 "months_attached = 0, rows_moved = 0, "
				 "current_relation = NULL, detail = NULL",
				 2, types, values, NULL, false, SPI_OK_INSERT);
	if (!atomic)
		inv_spi_commit();

	for (;;)
	{
		ErrorData  *edata;
		char	   *action;
		char	   *relation;
		int64		rows;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		values[0] = ObjectIdGetDatum(parent);
		edata = try_exec("SELECT s.action, s.relation, s.rows_moved "
						 "FROM inventory.archive_step($1::pg_catalog.regclass, "
						 "$2, $3, $4, $6) s",
						 6, types, values, nulls);
		if (edata != NULL)
		{
			char	   *detail = psprintf("%s: %s",
										  unpack_sql_state(edata->sqlerrcode),
										  edata->message);

			values[4] = CStringGetTextDatum(detail);
			nulls[4] = false;
			inv_spi_exec("UPDATE inventory.archive_progress "
						 "SET state = 'failed', detail = $5, "
						 "updated_at = pg_catalog.clock_timestamp() "
						 "WHERE parent OPERATOR(pg_catalog.=) "
						 "$1::pg_catalog.regclass::pg_catalog.text "
						 "AND $2 IS NOT NULL AND $3 IS NOT NULL AND $4 IS NOT NULL",
						 5, types, values, nulls, false, SPI_OK_UPDATE);
			record_outcome(parent, NULL, "batch", months, total, "failed",
						   detail);
			if (!atomic)
				inv_spi_commit();
			ereport(ERROR,
					(errcode(edata->sqlerrcode),
					 errmsg("archival of \"%s\" before %s failed after %d steps: %s",
							rel_qname(parent), timestamptz_to_str(cutoff),
							steps, edata->message),
					 edata->detail ? errdetail("%s", edata->detail) : 0,
					 edata->hint ? errhint("%s", edata->hint) : 0));
		}

		action = inv_spi_gettext(0, 1);
		if (strcmp(action, "done") == 0)
			break;
		relation = inv_spi_gettext(0, 2);
		rows = inv_spi_getint64(0, 3, &isnull);
		steps++;
		total += rows;
		if (strcmp(action, "attach") == 0)
			months++;

		{
			Oid			ptypes[5] = {OIDOID, INT4OID, INT4OID, INT8OID, TEXTOID};
			Datum		pvalues[5];

			pvalues[0] = ObjectIdGetDatum(parent);
			pvalues[1] = Int32GetDatum(steps);
			pvalues[2] = Int32GetDatum(months);
			pvalues[3] = Int64GetDatum(total);
			pvalues[4] = CStringGetTextDatum(relation);
			inv_spi_exec("UPDATE inventory.archive_progress "
						 "SET steps = $2, months_attached = $3, rows_moved = $4, "
						 "current_relation = $5, "
						 "updated_at = pg_catalog.clock_timestamp() "
						 "WHERE parent OPERATOR(pg_catalog.=) "
						 "$1::pg_catalog.regclass::pg_catalog.text",
						 5, ptypes, pvalues, NULL, false, SPI_OK_UPDATE);
		}
		if (verbose)
			ereport(NOTICE,
					(errmsg("archival of \"%s\": %s \"%s\", %lld rows (%lld in total)",
							rel_qname(parent), action, relation,
							(long long) rows, (long long) total)));
		if (!atomic)
			inv_spi_commit();
	}

	values[0] = ObjectIdGetDatum(parent);
	inv_spi_exec("UPDATE inventory.archive_progress "
				 "SET state = 'done', updated_at = pg_catalog.clock_timestamp() "
				 "WHERE parent OPERATOR(pg_catalog.=) "
				 "$1::pg_catalog.regclass::pg_catalog.text",
				 1, types, values, NULL, false, SPI_OK_UPDATE);
	ereport(LOG,
			(errmsg("archival of \"%s\" before %s: %d months attached, %lld rows in %d steps",
					rel_qname(parent), timestamptz_to_str(cutoff), months,
					(long long) total, steps)));
	if (!atomic)
		inv_spi_commit();
	inv_spi_finish();
	PG_RETURN_VOID();
}

/*
 * PROCEDURE archive_due(p_now timestamptz DEFAULT NULL)
 *
 * The scheduled job: for every policy with retention action 'archive' and
 * a retention, archives (archive_partition) the whole months that ended on
 * or before the start of the month holding p_now - retention, in the
 * policy's zone, never the current month; p_now NULL means now().
 * Commits after each month.  A parent whose advisory lock is held by
 * another run is skipped with a NOTICE and a 'skip' run; a month that
 * fails is a WARNING and a 'failed' run, and the others go on.
 *
 * Written in C for the reason given at archive_before_proc.
 */
Datum
inv_archive_due(PG_FUNCTION_ARGS)
{
	bool		atomic = call_is_atomic(fcinfo);
	MemoryContext keepcxt = fcinfo->flinfo->fn_mcxt;
	TimestampTz now;
	Oid		   *parents;
	Oid		   *parts;
	uint64		n;
	uint64		i;
	Oid			skipped = InvalidOid;
	int			months = 0;
	int			failed = 0;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1];

	now = PG_ARGISNULL(0) ? GetCurrentTransactionStartTimestamp() :
		PG_GETARG_TIMESTAMPTZ(0);

	inv_spi_connect_nonatomic(atomic);
	values[0] = TimestampTzGetDatum(now);
	n = inv_spi_exec("SELECT p.parent::pg_catalog.oid, r.partition::pg_catalog.oid "
					 "FROM inventory.partition_policies p "
					 "CROSS JOIN LATERAL (SELECT LEAST("
					 "pg_catalog.timezone(p.time_zone, pg_catalog.date_trunc('month', "
					 "pg_catalog.timezone(p.time_zone, $1 OPERATOR(pg_catalog.-) p.retention))), "
					 "pg_catalog.timezone(p.time_zone, pg_catalog.date_trunc('month', "
					 "pg_catalog.timezone(p.time_zone, $1)))) AS cut) c "
					 "CROSS JOIN LATERAL inventory.list_partition_ranges(p.parent) r "
					 "WHERE p.retention_action OPERATOR(pg_catalog.=) 'archive' "
					 "AND p.retention IS NOT NULL AND NOT r.is_default "
					 "AND r.upper_at OPERATOR(pg_catalog.<=) c.cut "
					 "ORDER BY p.parent::pg_catalog.text COLLATE \"C\", r.lower_at",
					 1, types, values, NULL, true, SPI_OK_SELECT);

	/* the lists must outlive the commits below */
	parents = MemoryContextAlloc(keepcxt, sizeof(Oid) * (n + 1));
	parts = MemoryContextAlloc(keepcxt, sizeof(Oid) * (n + 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		parents[i] = DatumGetObjectId(inv_spi_getdatum(i, 1, &isnull));
		parts[i] = DatumGetObjectId(inv_spi_getdatum(i, 2, &isnull));
	}

	for (i = 0; i < n; i++)
	{
		ErrorData  *edata;
		Oid			ptypes[1] = {OIDOID};
		Datum		pvalues[1];

		CHECK_FOR_INTERRUPTS();
		if (parents[i] == skipped)
			continue;
		if (!inv_try_advisory_xact_lock((int32) parents[i]))
		{
			ereport(NOTICE,
					(errmsg("skipping table \"%s\": another maintenance or archival run holds its lock",
							rel_qname(parents[i]))));
			record_outcome(parents[i], NULL, "skip", 0, 0, "skipped",
						   "advisory lock held by another run");
			skipped = parents[i];
		}
		else
		{
			pvalues[0] = ObjectIdGetDatum(parts[i]);
			edata = try_exec("SELECT inventory.archive_partition($1::pg_catalog.regclass)",
							 1, ptypes, pvalues, NULL);
			if (edata == NULL)
				months++;
			else
			{
				char	   *name = get_rel_name(parts[i]);

				failed++;
				ereport(WARNING,
						(errcode(edata->sqlerrcode),
						 errmsg("could not archive partition \"%s\": %s",
								name ? name : "?", edata->message)));
				record_outcome(parents[i], name, "attach", 0, 0, "failed",
							   psprintf("%s: %s",
										unpack_sql_state(edata->sqlerrcode),
										edata->message));
				FreeErrorData(edata);
			}
		}
		if (!atomic)
			inv_spi_commit();
	}
	inv_spi_finish();

	ereport(LOG,
			(errmsg("archive_due: %d months archived, %d failed", months,
					failed)));
	PG_RETURN_VOID();
}

/* The month holding date d, in the policy's zone. */
static void
month_range(const InvArchivePolicy *pol, Datum d, InvRange *r)
{
	Oid			types[2] = {DATEOID, TEXTOID};
	Datum		values[2];

	values[0] = d;
	values[1] = CStringGetTextDatum(pol->time_zone);
	inv_spi_exec("SELECT NULL, NULL, lo::pg_catalog.text, hi::pg_catalog.text, "
				 "lo, hi FROM (SELECT pg_catalog.date_trunc('month', $1::pg_catalog.timestamp) "
				 "AT TIME ZONE $2 AS lo, (pg_catalog.date_trunc('month', $1::pg_catalog.timestamp) "
				 "OPERATOR(pg_catalog.+) '1 month'::pg_catalog.interval) AT TIME ZONE $2 AS hi) b",
				 2, types, values, NULL, false, SPI_OK_SELECT);
	read_range(0, r);
}

/*
 * restore_month_remote(p_parent regclass, p_month date, p_server name,
 *						p_remote_table text) RETURNS bigint
 *
 * Brings a month that archive_partition_remote moved to another server
 * back into the hot ledger, in two calls, so that no crash can lose a row
 * (postgres_fdw commits the remote transaction just before the local one):
 *
 * 1. When the hot ledger holds nothing of the month, its rows are copied
 *	  from the remote table into a new table shaped like the ledger,
 *	  counted and checksummed against the remote copy, and the table is
 *	  attached to the hot parent as the month's partition (or the rows go
 *	  into the month's hot partition when it exists).  The remote copy is
 *	  kept.  Returns the rows restored.
 * 2. When the hot month already holds exactly the remote copy (same count
 *	  and checksum), the remote copy is deleted.  Returns the rows deleted
 *	  there, as a negative number.
 *
 * A hot month that differs from the remote copy is refused (XX001).
 * Runs with TimeZone UTC and DateStyle ISO (see archive_partition_remote).
 *
 * Locks: as restore_month for the attach; ROW EXCLUSIVE on the month's
 * hot partition for the copy.
 *
 * Errors: 22004 null argument; 42704 parent not registered, server
 * unknown, or the remote table holds nothing of the month; XX001 copies
 * differ; 55P03 lock not obtained; remote errors as postgres_fdw reports
 * them.
 */
Datum
inv_restore_month_remote(PG_FUNCTION_ARGS)
{
	InvArchivePolicy pol;
	InvRange	r;
	char	   *server;
	char	   *rschema;
	char	   *rtable;
	char	   *ftable;
	char	   *pname;
	int64		lcount;
	int64		rcount;
	char	   *lsum;
	char	   *rsum;
	int64		result;
	Oid			hot;
	TimestampTz started = GetCurrentTimestamp();
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2];
	const char *col;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) ||
		PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent, month, server and remote table must not be null")));
	server = NameStr(*PG_GETARG_NAME(2));
	parse_remote_name(PG_GETARG_TEXT_PP(3), &rschema, &rtable);

	inv_spi_connect();
	load_policy(PG_GETARG_OID(0), &pol);
	lock_parent(pol.parent);
	check_fdw_server(server);
	month_range(&pol, PG_GETARG_DATUM(1), &r);
	pname = rel_qname(pol.parent);
	col = quote_identifier(pol.column);
	ftable = create_remote_ftable(pol.parent, pol.parent, server, rschema,
								  rtable);

	count_and_sum(&pol, ftable, r.lower_at, r.upper_at, &rcount, &rsum);
	count_and_sum(&pol, pname, r.lower_at, r.upper_at, &lcount, &lsum);
	if (rcount == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("remote table %s.%s holds nothing of the month starting %s",
						rschema, rtable, r.lower_text)));

	if (lcount > 0)
	{
		if (lcount != rcount || strcmp(lsum, rsum) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("rows of the month starting %s differ between table \"%s\" and remote table %s.%s",
							r.lower_text, pname, rschema, rtable),
					 errdetail("Local: %lld rows, checksum %s; remote: %lld rows, checksum %s.",
							   (long long) lcount, lsum, (long long) rcount,
							   rsum),
					 errhint("Nothing was changed; compare the two copies.")));

		/* second call: the hot copy is verified, the remote one goes */
		values[0] = TimestampTzGetDatum(r.lower_at);
		values[1] = TimestampTzGetDatum(r.upper_at);
		inv_spi_exec(psprintf("DELETE FROM %s t WHERE t.%s "
							  "OPERATOR(pg_catalog.>=) $1 AND t.%s "
							  "OPERATOR(pg_catalog.<) $2",
							  ftable, col, col),
					 2, types, values, NULL, false, SPI_OK_DELETE);
		if (SPI_processed != (uint64) rcount)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("deleted %llu remote rows of the month starting %s, expected %lld",
							(unsigned long long) SPI_processed, r.lower_text,
							(long long) rcount)));
		result = -rcount;
		record_run(pol.parent, psprintf("%s.%s", rschema, rtable), "remote",
				   0, rcount, true, 0, started);
		ereport(NOTICE,
				(errmsg("deleted the remote copy of the month starting %s: %lld rows",
						r.lower_text, (long long) rcount)));
	}
	else
	{
		/* first call: copy back, verify, attach; the remote copy stays */
		hot = find_range_partition(pol.parent, &r);
		if (OidIsValid(hot))
		{
			values[0] = TimestampTzGetDatum(r.lower_at);
			values[1] = TimestampTzGetDatum(r.upper_at);
			inv_spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s t "
								  "WHERE t.%s OPERATOR(pg_catalog.>=) $1 "
								  "AND t.%s OPERATOR(pg_catalog.<) $2",
								  rel_qname(hot), pol.columns, pol.columns,
								  ftable, col, col),
						 2, types, values, NULL, false, SPI_OK_INSERT);
		}
		else
		{
			hot = create_month_table(&pol, pol.parent, &r);
			values[0] = TimestampTzGetDatum(r.lower_at);
			values[1] = TimestampTzGetDatum(r.upper_at);
			inv_spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s t "
								  "WHERE t.%s OPERATOR(pg_catalog.>=) $1 "
								  "AND t.%s OPERATOR(pg_catalog.<) $2",
								  rel_qname(hot), pol.columns, pol.columns,
								  ftable, col, col),
						 2, types, values, NULL, false, SPI_OK_INSERT);
			/* every row was selected within the bounds */
			ddl_or_fail(psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE",
								 rel_qname(hot)), hot);
			add_trusted_bound_check(hot, pol.column, &r);
			(void) attach_with_bounds(&pol, pol.parent, hot, &r);
		}
		count_and_sum(&pol, pname, r.lower_at, r.upper_at, &lcount, &lsum);
		if (lcount != rcount || strcmp(lsum, rsum) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("restored copy of the month starting %s does not match the remote copy",
							r.lower_text),
					 errdetail("Local: %lld rows, checksum %s; remote: %lld rows, checksum %s.",
							   (long long) lcount, lsum, (long long) rcount,
							   rsum)));
		result = lcount;
		record_run(pol.parent, rel_qname(hot), "restore", 1, lcount, true, 0,
				   started);
		ereport(NOTICE,
				(errmsg("restored the month starting %s from server \"%s\": %lld rows",
						r.lower_text, server, (long long) lcount),
				 errhint("The remote copy is kept; call inventory.restore_month_remote again to delete it.")));
	}

	inv_spi_exec(psprintf("DROP FOREIGN TABLE %s", ftable),
				 0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	inv_spi_finish();
	PG_RETURN_INT64(result);
}
