/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *	  The one place where inventory_ext talks to SPI.
 *
 * Every statement runs with its values bound as $n parameters; identifiers
 * are quoted by the callers with quote_identifier before they reach here.
 * Each call checks the exact SPI result code it expects, so a statement
 * that does something other than intended fails loudly instead of being
 * taken for success.  Values read back are copied out of SPI's memory so
 * they survive inv_spi_finish.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/spi_util.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "inventory_ext.h"

/* Longest pause between two attempts of a DDL statement, in ms */
#define INV_MAX_BACKOFF_MS	2000

/*
 * inv_spi_connect
 *		Connect to SPI; results copied by the getters go to the memory
 *		context current at this call.
 */
void
inv_spi_connect(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

/*
 * inv_spi_connect_nonatomic
 *		Connect to SPI for a procedure that may commit (inv_spi_commit)
 *		when called by a CALL outside a transaction block; atomic tells
 *		whether the call was atomic, in which case it must not commit.
 */
void
inv_spi_connect_nonatomic(bool atomic)
{
	int			rc = SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC);

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));
}

/*
 * inv_spi_commit
 *		Commit the current transaction and start the next one, from a
 *		procedure connected with inv_spi_connect_nonatomic(false).
 */
void
inv_spi_commit(void)
{
	/* since PostgreSQL 15 this also starts the next transaction */
	SPI_commit();
}

void
inv_spi_finish(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
}

/* Turn a bool null array into the ' '/'n' array SPI wants, or NULL. */
static char *
spi_nulls(int nargs, const bool *isnull)
{
	char	   *nulls;
	int			i;

	if (isnull == NULL || nargs == 0)
		return NULL;
	nulls = palloc(nargs + 1);
	for (i = 0; i < nargs; i++)
		nulls[i] = isnull[i] ? 'n' : ' ';
	nulls[nargs] = '\0';
	return nulls;
}

/* Raise an internal error unless rc is what the caller expected. */
static void
spi_check(int rc, int expected, const char *sql)
{
	if (rc < 0 || (expected != 0 && rc != expected))
		elog(ERROR, "SPI returned %s, expected %s, for: %s",
			 SPI_result_code_string(rc),
			 expected ? SPI_result_code_string(expected) : "success", sql);
}

/*
 * inv_spi_exec
 *		Run one statement with bound parameters.  expected is the SPI_OK_*
 *		code the statement must return (0 accepts any success).  Returns
 *		the number of rows processed.  SPI must be connected.
 */
uint64
inv_spi_exec(const char *sql, int nargs, const Oid *argtypes,
			 const Datum *values, const bool *isnull, bool read_only,
			 int expected)
{
	int			rc;

	elog(DEBUG2, "inventory_ext: %s", sql);
	rc = SPI_execute_with_args(sql, nargs, (Oid *) argtypes, (Datum *) values,
							   spi_nulls(nargs, isnull), read_only, 0);
	spi_check(rc, expected, sql);
	return SPI_processed;
}

/*
 * inv_spi_prepare_keep
 *		Prepare a statement and keep its plan for the life of the backend;
 *		callers cache the result in a static variable.  SPI must be
 *		connected.
 */
SPIPlanPtr
inv_spi_prepare_keep(const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	plan;

	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s for: %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed for: %s", sql);
	return plan;
}

uint64
inv_spi_exec_plan(SPIPlanPtr plan, const Datum *values, const bool *isnull,
				  bool read_only, int expected)
{
	int			rc;
	int			nargs = SPI_getargcount(plan);

	rc = SPI_execute_plan(plan, (Datum *) values, spi_nulls(nargs, isnull),
						  read_only, 0);
	spi_check(rc, expected, "prepared statement");
	return SPI_processed;
}

/* Value of column col (1-based) of result row; valid until SPI changes. */
Datum
inv_spi_getdatum(uint64 row, int col, bool *isnull)
{
	Assert(SPI_tuptable != NULL && row < SPI_processed);
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						 col, isnull);
}

/* Same, copied into the context that was current at inv_spi_connect. */
Datum
inv_spi_getdatum_copy(uint64 row, int col, bool *isnull)
{
	Datum		d = inv_spi_getdatum(row, col, isnull);
	int16		typlen;
	bool		typbyval;

	if (*isnull)
		return (Datum) 0;
	get_typlenbyval(SPI_gettypeid(SPI_tuptable->tupdesc, col),
					&typlen, &typbyval);
	return SPI_datumTransfer(d, typbyval, typlen);
}

/* Text form of a column, copied out of SPI memory; NULL for SQL NULL. */
char *
inv_spi_gettext(uint64 row, int col)
{
	char	   *s;
	char	   *copy;

	Assert(SPI_tuptable != NULL && row < SPI_processed);
	s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	if (s == NULL)
		return NULL;
	copy = SPI_palloc(strlen(s) + 1);
	strcpy(copy, s);
	return copy;
}

/* An integer column of any width as int64. */
int64
inv_spi_getint64(uint64 row, int col, bool *isnull)
{
	Datum		d = inv_spi_getdatum(row, col, isnull);

	if (*isnull)
		return 0;
	switch (SPI_gettypeid(SPI_tuptable->tupdesc, col))
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return DatumGetInt64(d);
		default:
			elog(ERROR, "column %d is not an integer", col);
	}
	return 0;					/* keep compiler quiet */
}

bool
inv_spi_getbool(uint64 row, int col, bool *isnull)
{
	Datum		d = inv_spi_getdatum(row, col, isnull);

	return *isnull ? false : DatumGetBool(d);
}

/*
 * inv_try_advisory_xact_lock
 *		Try the transaction-scoped advisory lock (INV_ADVISORY_KEY, key2)
 *		without waiting.  SPI must be connected.
 */
bool
inv_try_advisory_xact_lock(int32 key2)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2];
	bool		isnull;

	values[0] = Int32GetDatum(INV_ADVISORY_KEY);
	values[1] = Int32GetDatum(key2);
	inv_spi_exec("SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2)",
				 2, types, values, NULL, false, SPI_OK_SELECT);
	return inv_spi_getbool(0, 1, &isnull);
}

/* Set lock_timeout for the rest of the current (sub)transaction. */
static void
set_lock_timeout(const char *value)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(value);
	inv_spi_exec("SELECT pg_catalog.set_config('lock_timeout', $1, true)",
				 1, types, values, NULL, false, SPI_OK_SELECT);
}

/*
 * inv_spi_exec_ddl_retry
 *		See inventory_ext.h.  Each attempt runs in a subtransaction so that
 *		a timed-out attempt leaves nothing behind; the caller's own
 *		lock_timeout is put back after a successful attempt.
 */
bool
inv_spi_exec_ddl_retry(const char *sql, const char *what)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *saved = pstrdup(GetConfigOption("lock_timeout", false, false));
	char		timeout[32];
	int			attempt;
	long		pause_ms = 10;

	snprintf(timeout, sizeof(timeout), "%dms", inv_lock_timeout_ms);

	for (attempt = 1; attempt <= inv_lock_retries; attempt++)
	{
		bool		done = false;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcxt);

		PG_TRY();
		{
			set_lock_timeout(timeout);
			inv_spi_exec(sql, 0, NULL, NULL, NULL, false, 0);
			set_lock_timeout(saved);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			done = true;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;

			if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
				ReThrowError(edata);
			ereport(DEBUG1,
					(errmsg_internal("lock for %s not obtained within %s, attempt %d of %d",
									 what, timeout, attempt,
									 inv_lock_retries)));
			FreeErrorData(edata);
		}
		PG_END_TRY();

		if (done)
			return true;
		if (attempt < inv_lock_retries)
		{
			pg_usleep(pause_ms * 1000L);
			pause_ms = Min(pause_ms * 2, INV_MAX_BACKOFF_MS);
		}
		CHECK_FOR_INTERRUPTS();
	}
	return false;
}

/*
 * inv_spi_cursor_open
 *		Open a cursor on one statement with bound parameters, for results
 *		too large to materialize at once.  Read it with inv_spi_cursor_fetch
 *		and close it with inv_spi_cursor_close.  SPI must be connected.
 */
Portal
inv_spi_cursor_open(const char *sql, int nargs, const Oid *argtypes,
					const Datum *values, const bool *isnull, bool read_only)
{
	Portal		portal;

	elog(DEBUG2, "inventory_ext: %s", sql);
	portal = SPI_cursor_open_with_args(NULL, sql, nargs, (Oid *) argtypes,
									   (Datum *) values,
									   spi_nulls(nargs, isnull), read_only, 0);
	if (portal == NULL)
		elog(ERROR, "SPI_cursor_open failed: %s for: %s",
			 SPI_result_code_string(SPI_result), sql);
	return portal;
}

/*
 * inv_spi_cursor_fetch
 *		Fetch up to count rows into SPI_tuptable, for the getters, freeing
 *		the previous result first; returns the number of rows (0 at the
 *		end).  Values read from the previous batch are no longer valid.
 */
uint64
inv_spi_cursor_fetch(Portal portal, long count)
{
	if (SPI_tuptable != NULL)
		SPI_freetuptable(SPI_tuptable);
	SPI_cursor_fetch(portal, true, count);
	return SPI_processed;
}

void
inv_spi_cursor_close(Portal portal)
{
	SPI_cursor_close(portal);
}

/* Owner of a relation; an error when it is gone. */
Oid
inv_rel_owner(Oid relid)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* Quoted, schema-qualified name of a relation; NULL when it is gone. */
char *
inv_rel_qualname(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *nspname;

	if (relname == NULL)
		return NULL;
	nspname = get_namespace_name(get_rel_namespace(relid));
	if (nspname == NULL)
		return NULL;
	return quote_qualified_identifier(nspname, relname);
}
