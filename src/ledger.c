/*-------------------------------------------------------------------------
 *
 * ledger.c
 *	  Row trigger of the transactions ledger: one record per reference.
 *
 * The ledger is partitioned by month, so a unique index cannot span it.
 * Each row instead claims its (org_id, reference) in the unpartitioned
 * table inventory.transaction_refs; a second row with the same reference
 * is silently skipped, whichever month it falls in.  A row whose reference
 * is already claimed by its own txn_id is the same movement being moved
 * between partitions (default-partition rescue, archive restore) and is
 * let through.
 *
 * Stock and rollups are updated by statement triggers on the parent that
 * read the transition table, so bulk loads stay set-based.  Those fire
 * only for rows inserted through the parent; rows written straight into a
 * partition are moves of rows already counted.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/ledger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_ledger_before_insert);

static SPIPlanPtr claim_plan = NULL;
static SPIPlanPtr owner_plan = NULL;

/* Attribute number of a column the ledger must have */
static int
ledger_attnum(TupleDesc tupdesc, const char *name)
{
	int			attnum = SPI_fnumber(tupdesc, name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("ledger table has no column \"%s\"", name)));
	return attnum;
}

/*
 * inv_ledger_before_insert
 *		BEFORE INSERT FOR EACH ROW trigger on inventory.transactions.
 *
 * Returns the row when its reference is new (or is its own), NULL to skip
 * a duplicate.  Takes a row lock on the reference's entry through the
 * unique index, so two sessions recording the same reference serialise
 * and only one records it.
 */
Datum
inv_ledger_before_insert(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4];
	bool		keep;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "inv_ledger_before_insert: not fired as BEFORE INSERT FOR EACH ROW");

	tuple = trigdata->tg_trigtuple;
	tupdesc = RelationGetDescr(trigdata->tg_relation);

	values[0] = SPI_getbinval(tuple, tupdesc,
							  ledger_attnum(tupdesc, "org_id"), &nulls[0]);
	values[1] = SPI_getbinval(tuple, tupdesc,
							  ledger_attnum(tupdesc, "reference"), &nulls[1]);
	values[2] = SPI_getbinval(tuple, tupdesc,
							  ledger_attnum(tupdesc, "txn_id"), &nulls[2]);
	values[3] = SPI_getbinval(tuple, tupdesc,
							  ledger_attnum(tupdesc, "created_at"), &nulls[3]);

	/* NOT NULL constraints report missing values with the right message */
	if (nulls[0] || nulls[1] || nulls[2] || nulls[3])
		return PointerGetDatum(tuple);

	inv_spi_connect();
	if (claim_plan == NULL)
	{
		Oid			types[4] = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID};

		claim_plan = inv_spi_prepare_keep(
			"INSERT INTO inventory.transaction_refs "
			"(org_id, reference, txn_id, created_at) "
			"VALUES ($1, $2, $3, $4) "
			"ON CONFLICT (org_id, reference) DO NOTHING",
			4, types);
		owner_plan = inv_spi_prepare_keep(
			"SELECT r.txn_id OPERATOR(pg_catalog.=) $3 "
			"FROM inventory.transaction_refs r "
			"WHERE r.org_id OPERATOR(pg_catalog.=) $1 "
			"AND r.reference OPERATOR(pg_catalog.=) $2",
			4, types);
	}

	keep = inv_spi_exec_plan(claim_plan, values, nulls, false,
							 SPI_OK_INSERT) == 1;
	if (!keep)
	{
		bool		isnull;

		/* Claimed already: ours (a move) or another row's (a duplicate) */
		if (inv_spi_exec_plan(owner_plan, values, nulls, true,
							  SPI_OK_SELECT) == 1)
			keep = inv_spi_getbool(0, 1, &isnull);
		if (!keep)
			ereport(DEBUG1,
					(errmsg_internal("ledger: skipping duplicate reference \"%s\"",
									 TextDatumGetCString(values[1]))));
	}
	inv_spi_finish();

	return keep ? PointerGetDatum(tuple) : PointerGetDatum(NULL);
}
