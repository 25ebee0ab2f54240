/*-------------------------------------------------------------------------
 *
 * fifo.c
 *	  Allocation of stock lots to demand: FIFO, FEFO and LIFO.
 *
 * allocate() and allocate_lines() reserve stock (lots.qty_allocated) for
 * demand lines and record each lot taken in inventory.allocations;
 * commit_allocation() turns reservations into ledger shipments and
 * release_allocation() gives them back.
 *
 * Exactness under concurrency rests on one lock order, shared with the
 * ledger's statement trigger:
 *
 *	 1. the demand's advisory lock (bigint form, high half INV_ADVISORY_KEY,
 *		low half hashtext(demand_ref)): allocate, commit and release of one
 *		demand run one at a time, so a line is never allocated twice;
 *	 2. the demand's allocation rows, in allocation_id order;
 *	 3. lots, in lot_id order.
 *
 * Candidate lots are locked with one SELECT ... ORDER BY lot_id FOR NO KEY
 * UPDATE before anything is decided.  In READ COMMITTED a lot changed by a
 * concurrent transaction is re-read after the lock is granted and
 * re-checked against the filter, so the quantities we decide on are the
 * latest committed ones and nobody can change them until we commit.  No
 * lot is ever created here, and no row is skipped because it is locked:
 * a session that cannot get a lock within inventory_ext.lock_timeout gets
 * SQLSTATE 55P03 and may simply retry.
 *
 * Quantities are numeric throughout; arithmetic uses the numeric
 * functions directly, never floating point.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/fifo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_allocate);
PG_FUNCTION_INFO_V1(inv_allocate_lines);
PG_FUNCTION_INFO_V1(inv_commit_allocation);
PG_FUNCTION_INFO_V1(inv_release_allocation);

/* Scale of every quantity column (numeric(18,4)) */
#define ALLOC_QTY_SCALE		4

/* Columns of the result of allocate() and allocate_lines() */
#define ALLOC_RESULT_COLS	8

typedef enum AllocStrategy
{
	ALLOC_FIFO,
	ALLOC_FEFO,
	ALLOC_LIFO
} AllocStrategy;

/* One demand line */
typedef struct AllocLine
{
	int32		demand_line;
	int64		product_id;
	Numeric		quantity;		/* as asked */
	Numeric		pack_multiple;	/* NULL: no rounding */
	Numeric		demand;			/* quantity rounded up to the pack multiple */
	Numeric		allocated;
	int64		org_id;
	DateADT		as_of;
} AllocLine;

/* One candidate lot, locked */
typedef struct AllocLot
{
	int64		lot_id;
	int64		product_id;
	int64		location_id;
	TimestampTz received_at;
	bool		has_expiry;
	DateADT		expires_on;
	int32		priority;
	Numeric		available;		/* what this call has not taken yet */
} AllocLot;

/* One lot taken for one line */
typedef struct AllocTake
{
	int			line;			/* index into lines */
	int			lot;			/* index into lots */
	Numeric		quantity;
	int64		allocation_id;
} AllocTake;

typedef struct AllocRequest
{
	char	   *demand_ref;
	AllocStrategy strategy;
	const char *strategy_name;
	bool		has_locations;
	int64	   *locations;
	int			nlocations;
	bool		has_as_of;
	DateADT		as_of;
	int32		min_shelf_days;
	bool		all_or_nothing;
	bool		dry_run;
	AllocLine  *lines;
	int			nlines;
} AllocRequest;

/* Which argument holds each common option; -1 when the function has none */
typedef struct AllocArgNumbers
{
	int			demand_ref;
	int			strategy;
	int			locations;
	int			as_of;
	int			min_shelf_days;
	int			all_or_nothing;
	int			dry_run;
} AllocArgNumbers;

/* Strategy used by qsort's comparator (qsort has no context argument) */
static AllocStrategy sort_strategy;

/* Plans kept for the life of the backend: allocation runs very often */
static SPIPlanPtr plan_demand_lock = NULL;
static SPIPlanPtr plan_candidates[2] = {NULL, NULL};
static SPIPlanPtr plan_products = NULL;
static SPIPlanPtr plan_locations = NULL;
static SPIPlanPtr plan_allocated = NULL;
static SPIPlanPtr plan_reserve = NULL;
static SPIPlanPtr plan_insert_allocations = NULL;
static SPIPlanPtr plan_settle_allocations = NULL;
static SPIPlanPtr plan_settle_lots = NULL;
static SPIPlanPtr plan_unreserve = NULL;
static SPIPlanPtr plan_settle_status = NULL;
static SPIPlanPtr plan_ship = NULL;

/*
 * Run a statement through a plan prepared on first use and kept in *plan:
 * parsing and planning each statement again would cost more than running
 * it.  Arguments as inv_spi_exec.
 */
static uint64
exec_kept(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *types,
		  const Datum *values, const bool *isnull, bool read_only,
		  int expected)
{
	if (*plan == NULL)
		*plan = inv_spi_prepare_keep(sql, nargs, types);
	return inv_spi_exec_plan(*plan, values, isnull, read_only, expected);
}

/* ---------------------------------------------------------------------
 * numeric helpers
 * ---------------------------------------------------------------------
 */
static int
num_cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(a),
											 NumericGetDatum(b)));
}

static Numeric
num_add(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add,
											   NumericGetDatum(a),
											   NumericGetDatum(b)));
}

static Numeric
num_sub(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_sub,
											   NumericGetDatum(a),
											   NumericGetDatum(b)));
}

/* n at the scale of the stock columns; n has at most that many decimals */
static Numeric
num_scale(Numeric n)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_round,
											   NumericGetDatum(n),
											   Int32GetDatum(ALLOC_QTY_SCALE)));
}

static char *
num_str(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(n)));
}

/*
 * A quantity must be a finite positive number with at most four decimals
 * (the scale of the stock columns): anything finer would be rounded on
 * the way into the tables and the allocation would no longer be exact.
 */
static void
check_quantity(Numeric q, const char *what, int32 demand_line)
{
	Numeric		rounded;

	if (numeric_is_nan(q) || numeric_is_inf(q))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of demand line %d must be a finite number",
						what, demand_line)));
	if (num_cmp(q, int64_to_numeric(0)) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of demand line %d must be positive",
						what, demand_line),
				 errdetail("The value given was %s.", num_str(q))));
	rounded = DatumGetNumeric(DirectFunctionCall2(numeric_round,
												  NumericGetDatum(q),
												  Int32GetDatum(ALLOC_QTY_SCALE)));
	if (num_cmp(q, rounded) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of demand line %d has more than %d decimal places",
						what, demand_line, ALLOC_QTY_SCALE),
				 errdetail("The value given was %s.", num_str(q))));
}

/*
 * The demand of a line: its quantity rounded UP to a whole number of pack
 * multiples.  The stock is never rounded; a lot may serve part of a pack.
 * Exact integer division, so no rounding error can sneak in.
 */
static Numeric
round_demand(Numeric q, Numeric pack)
{
	Numeric		packs;
	Numeric		rest;

	if (pack == NULL)
		return q;
	packs = DatumGetNumeric(DirectFunctionCall2(numeric_div_trunc,
												NumericGetDatum(q),
												NumericGetDatum(pack)));
	rest = DatumGetNumeric(DirectFunctionCall2(numeric_mod,
											   NumericGetDatum(q),
											   NumericGetDatum(pack)));
	if (num_cmp(rest, int64_to_numeric(0)) != 0)
		packs = num_add(packs, int64_to_numeric(1));
	return DatumGetNumeric(DirectFunctionCall2(numeric_mul,
											   NumericGetDatum(packs),
											   NumericGetDatum(pack)));
}

/* ---------------------------------------------------------------------
 * arguments
 * ---------------------------------------------------------------------
 */
static void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

static void
check_demand_line(int32 demand_line)
{
	if (demand_line < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("demand line must be positive"),
				 errdetail("The value given was %d.", demand_line)));
}

/* Read the options allocate() and allocate_lines() share. */
static void
read_common_args(FunctionCallInfo fcinfo, const AllocArgNumbers *an,
				 AllocRequest *req)
{
	char	   *strategy;

	require_arg(fcinfo, an->demand_ref, "demand reference");
	req->demand_ref = text_to_cstring(PG_GETARG_TEXT_PP(an->demand_ref));
	if (req->demand_ref[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("demand reference must not be empty")));

	require_arg(fcinfo, an->strategy, "strategy");
	strategy = text_to_cstring(PG_GETARG_TEXT_PP(an->strategy));
	if (pg_strcasecmp(strategy, "fifo") == 0)
	{
		req->strategy = ALLOC_FIFO;
		req->strategy_name = "fifo";
	}
	else if (pg_strcasecmp(strategy, "fefo") == 0)
	{
		req->strategy = ALLOC_FEFO;
		req->strategy_name = "fefo";
	}
	else if (pg_strcasecmp(strategy, "lifo") == 0)
	{
		req->strategy = ALLOC_LIFO;
		req->strategy_name = "lifo";
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized allocation strategy: \"%s\"", strategy),
				 errhint("Use fifo, fefo or lifo.")));

	req->has_locations = !PG_ARGISNULL(an->locations);
	if (req->has_locations)
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(an->locations);
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		deconstruct_array(arr, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, &nulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("list of locations must not be empty"),
					 errhint("Pass NULL to allocate from every location.")));
		req->locations = palloc(sizeof(int64) * n);
		req->nlocations = n;
		for (i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("list of locations must not contain null")));
			req->locations[i] = DatumGetInt64(elems[i]);
		}
	}

	req->has_as_of = !PG_ARGISNULL(an->as_of);
	if (req->has_as_of)
	{
		req->as_of = PG_GETARG_DATEADT(an->as_of);
		if (DATE_NOT_FINITE(req->as_of))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("allocation date must be finite")));
	}

	require_arg(fcinfo, an->min_shelf_days, "minimum shelf life");
	req->min_shelf_days = PG_GETARG_INT32(an->min_shelf_days);
	if (req->min_shelf_days < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("minimum shelf life must not be negative"),
				 errdetail("The value given was %d.", req->min_shelf_days)));

	require_arg(fcinfo, an->all_or_nothing, "all_or_nothing");
	req->all_or_nothing = PG_GETARG_BOOL(an->all_or_nothing);
	require_arg(fcinfo, an->dry_run, "dry_run");
	req->dry_run = PG_GETARG_BOOL(an->dry_run);
}

/* Validate a line's quantities and work out its demand. */
static void
prepare_line(AllocLine *line)
{
	check_demand_line(line->demand_line);
	check_quantity(line->quantity, "quantity", line->demand_line);
	if (line->pack_multiple != NULL)
		check_quantity(line->pack_multiple, "pack multiple",
					   line->demand_line);
	/* scale 4 like the stock columns, so results read 12.0000, not 12 */
	line->demand = num_scale(round_demand(line->quantity,
										  line->pack_multiple));
	line->allocated = num_scale(int64_to_numeric(0));
}

/* ---------------------------------------------------------------------
 * SPI steps
 * ---------------------------------------------------------------------
 */
static Datum
int8_array(const int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, sizeof(int64),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Look up the product of every line: it must exist.  Gives each line its
 * organization and its allocation date: the one asked for, or today in
 * the organization's time zone (never the session's).  Then check the
 * locations asked for belong to those organizations.
 */
static void
lookup_products(AllocRequest *req)
{
	int64	   *ids = palloc(sizeof(int64) * req->nlines);
	Oid			types[2] = {INT8ARRAYOID, INT8ARRAYOID};
	Datum		values[2];
	uint64		n;
	uint64		row;
	int			i;
	int64	   *orgs;
	int			norgs = 0;

	for (i = 0; i < req->nlines; i++)
		ids[i] = req->lines[i].product_id;
	values[0] = int8_array(ids, req->nlines);
	n = exec_kept(&plan_products, "SELECT u.product_id, p.org_id,"
				  "       pg_catalog.timezone(o.time_zone, pg_catalog.now())::pg_catalog.date"
				  "  FROM pg_catalog.unnest($1) AS u(product_id)"
				  "  LEFT JOIN inventory.products p"
				  "         ON p.product_id OPERATOR(pg_catalog.=) u.product_id"
				  "  LEFT JOIN inventory.organizations o"
				  "         ON o.org_id OPERATOR(pg_catalog.=) p.org_id",
				  1, types, values, NULL, true, SPI_OK_SELECT);
	orgs = palloc(sizeof(int64) * req->nlines);
	for (row = 0; row < n; row++)
	{
		bool		isnull;
		int64		product_id = inv_spi_getint64(row, 1, &isnull);
		int64		org_id = inv_spi_getint64(row, 2, &isnull);
		DateADT		today;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("product %lld does not exist",
							(long long) product_id)));
		today = DatumGetDateADT(inv_spi_getdatum(row, 3, &isnull));
		for (i = 0; i < req->nlines; i++)
		{
			if (req->lines[i].product_id != product_id)
				continue;
			req->lines[i].org_id = org_id;
			req->lines[i].as_of = req->has_as_of ? req->as_of : today;
		}
		for (i = 0; i < norgs; i++)
			if (orgs[i] == org_id)
				break;
		if (i == norgs)
			orgs[norgs++] = org_id;
	}

	if (req->has_locations)
	{
		values[0] = int8_array(req->locations, req->nlocations);
		values[1] = int8_array(orgs, norgs);
		n = exec_kept(&plan_locations, "SELECT u.location_id"
					  "  FROM pg_catalog.unnest($1) AS u(location_id)"
					  " WHERE NOT EXISTS (SELECT 1 FROM inventory.locations l"
					  "       WHERE l.location_id OPERATOR(pg_catalog.=) u.location_id"
					  "         AND l.org_id OPERATOR(pg_catalog.=) ANY ($2))"
					  " LIMIT 1",
					  2, types, values, NULL, true, SPI_OK_SELECT);
		if (n > 0)
		{
			bool		isnull;

			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("location %lld does not exist",
							(long long) inv_spi_getint64(0, 1, &isnull)),
					 errdetail("Only locations of the product's organization can serve it.")));
		}
	}
}

/*
 * Run fn(arg) with lock_timeout set to inventory_ext.lock_timeout, put
 * back afterwards.  A lock wait that times out is reported as a clear,
 * retryable 55P03 naming what could not be locked.
 */
static void
with_lock_timeout(void (*fn) (void *), void *arg, const char *what)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	char		timeout[32];
	int			nestlevel;

	snprintf(timeout, sizeof(timeout), "%d", inv_lock_timeout_ms);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("lock_timeout", timeout, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			PG_RE_THROW();
		FlushErrorState();
		/* the transaction is aborting: only rewrite the message */
		edata->message = psprintf("could not lock %s within %d ms", what,
								  inv_lock_timeout_ms);
		edata->detail = pstrdup("Another session holds the lock; nothing was changed by this call.");
		edata->hint = pstrdup("Retry the call, or raise inventory_ext.lock_timeout.");
		ReThrowError(edata);
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nestlevel);
}

/*
 * The demand's advisory lock: one allocate/commit/release at a time.
 *
 * XXX: two transactions that each handle two demands, in opposite orders,
 * can deadlock here; the lots are still safe.  One demand per transaction,
 * or demands in a fixed order, avoids it.
 */
static void
lock_demand(void *arg)
{
	const char *demand_ref = (const char *) arg;
	Datum		values[1];

	if (plan_demand_lock == NULL)
	{
		Oid			types[1] = {TEXTOID};
		char	   *sql;

		sql = psprintf("SELECT pg_catalog.pg_advisory_xact_lock("
					   "(%lld::pg_catalog.int8 OPERATOR(pg_catalog.<<) 32)"
					   " OPERATOR(pg_catalog.|)"
					   " (pg_catalog.hashtext($1)::pg_catalog.int8"
					   "  OPERATOR(pg_catalog.&) 4294967295))",
					   (long long) INV_ADVISORY_KEY);
		plan_demand_lock = inv_spi_prepare_keep(sql, 1, types);
	}
	values[0] = CStringGetTextDatum(demand_ref);
	inv_spi_exec_plan(plan_demand_lock, values, NULL, false, SPI_OK_SELECT);
}

/*
 * A line of the demand that is already allocated (reserved or committed)
 * cannot be allocated again: a retried call must not double the stock
 * set aside.  Serialized by the demand's advisory lock.
 */
static void
check_not_allocated(AllocRequest *req)
{
	Oid			types[2] = {TEXTOID, INT4ARRAYOID};
	Datum		values[2];
	Datum	   *d = palloc(sizeof(Datum) * req->nlines);
	int			i;
	bool		isnull;

	for (i = 0; i < req->nlines; i++)
		d[i] = Int32GetDatum(req->lines[i].demand_line);
	values[0] = CStringGetTextDatum(req->demand_ref);
	values[1] = PointerGetDatum(construct_array(d, req->nlines, INT4OID,
												sizeof(int32), true,
												TYPALIGN_INT));
	if (exec_kept(&plan_allocated, "SELECT a.demand_line FROM inventory.allocations a"
				  " WHERE a.demand_ref OPERATOR(pg_catalog.=) $1"
				  "   AND a.demand_line OPERATOR(pg_catalog.=) ANY ($2)"
				  "   AND a.status OPERATOR(pg_catalog.<>) 'released'"
				  " ORDER BY a.demand_line LIMIT 1",
				  2, types, values, NULL, false, SPI_OK_SELECT) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("demand line %d of \"%s\" is already allocated",
						(int) inv_spi_getint64(0, 1, &isnull),
						req->demand_ref),
				 errhint("Release it first, or allocate another demand line.")));
}

/* State of the candidate query, for with_lock_timeout */
typedef struct CandidateQuery
{
	AllocRequest *req;
	AllocLot   *lots;
	int			nlots;
} CandidateQuery;

/*
 * Read (and, unless this is a dry run, lock) every lot that can serve a
 * line of the request, in lot_id order: the global lock order.
 *
 * XXX: all open lots of the products are locked, even when the first lot
 * in service order would do.  Locking lazily in service order would break
 * the lot_id order that keeps callers and the ledger deadlock-free.
 */
static void
fetch_candidates(void *arg)
{
	CandidateQuery *cq = (CandidateQuery *) arg;
	AllocRequest *req = cq->req;
	bool		lock = !req->dry_run;
	int64	   *products = palloc(sizeof(int64) * req->nlines);
	Datum	   *dates = palloc(sizeof(Datum) * req->nlines);
	int			nproducts = 0;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	uint64		n;
	uint64		row;
	int			i;
	int			j;

	if (plan_candidates[lock] == NULL)
	{
		Oid			types[4] = {INT8ARRAYOID, DATEARRAYOID, INT4OID,
		INT8ARRAYOID};
		char	   *sql;

		sql = psprintf("SELECT l.lot_id, l.product_id, l.location_id,"
					   "       l.received_at, l.expires_on, loc.priority,"
					   "       l.qty_on_hand OPERATOR(pg_catalog.-) l.qty_allocated"
					   "  FROM inventory.lots l"
					   "  JOIN ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2))"
					   "       AS p(product_id, as_of)"
					   "    ON l.product_id OPERATOR(pg_catalog.=) p.product_id"
					   "  JOIN inventory.locations loc"
					   "    ON loc.location_id OPERATOR(pg_catalog.=) l.location_id"
					   " WHERE l.status OPERATOR(pg_catalog.=) 'available'"
					   "   AND l.qty_on_hand OPERATOR(pg_catalog.>) 0"
					   "   AND l.qty_on_hand OPERATOR(pg_catalog.>) l.qty_allocated"
					   "   AND inventory.lot_is_usable(l.expires_on, p.as_of, $3)"
					   "   AND ($4 IS NULL"
					   "        OR l.location_id OPERATOR(pg_catalog.=) ANY ($4))"
					   " ORDER BY l.lot_id%s",
					   lock ? " FOR NO KEY UPDATE OF l" : "");
		plan_candidates[lock] = inv_spi_prepare_keep(sql, 4, types);
	}

	/* one (product, date) pair per product */
	for (i = 0; i < req->nlines; i++)
	{
		for (j = 0; j < nproducts; j++)
			if (products[j] == req->lines[i].product_id)
				break;
		if (j < nproducts)
			continue;
		products[nproducts] = req->lines[i].product_id;
		dates[nproducts] = DateADTGetDatum(req->lines[i].as_of);
		nproducts++;
	}
	values[0] = int8_array(products, nproducts);
	values[1] = PointerGetDatum(construct_array(dates, nproducts, DATEOID,
												sizeof(DateADT), true,
												TYPALIGN_INT));
	values[2] = Int32GetDatum(req->min_shelf_days);
	if (req->has_locations)
		values[3] = int8_array(req->locations, req->nlocations);
	else
		nulls[3] = true;

	n = inv_spi_exec_plan(plan_candidates[lock], values, nulls, !lock,
						  SPI_OK_SELECT);
	cq->lots = palloc(sizeof(AllocLot) * Max(n, 1));
	cq->nlots = (int) n;
	for (row = 0; row < n; row++)
	{
		AllocLot   *lot = &cq->lots[row];
		bool		isnull;

		lot->lot_id = inv_spi_getint64(row, 1, &isnull);
		lot->product_id = inv_spi_getint64(row, 2, &isnull);
		lot->location_id = inv_spi_getint64(row, 3, &isnull);
		lot->received_at = DatumGetTimestampTz(inv_spi_getdatum(row, 4,
																&isnull));
		lot->expires_on = DatumGetDateADT(inv_spi_getdatum(row, 5, &isnull));
		lot->has_expiry = !isnull;
		lot->priority = (int32) inv_spi_getint64(row, 6, &isnull);
		lot->available = DatumGetNumeric(inv_spi_getdatum_copy(row, 7,
															   &isnull));
	}
}

/*
 * Order of service within a product.  FIFO: oldest receipt first; LIFO:
 * newest first; FEFO: earliest expiry first, lots without an expiry date
 * last.  Ties: lower location priority first, then lower lot_id.
 */
static int
lot_order(const void *a, const void *b)
{
	const AllocLot *x = (const AllocLot *) a;
	const AllocLot *y = (const AllocLot *) b;

	if (x->product_id != y->product_id)
		return x->product_id < y->product_id ? -1 : 1;
	switch (sort_strategy)
	{
		case ALLOC_FIFO:
			if (x->received_at != y->received_at)
				return x->received_at < y->received_at ? -1 : 1;
			break;
		case ALLOC_LIFO:
			if (x->received_at != y->received_at)
				return x->received_at > y->received_at ? -1 : 1;
			break;
		case ALLOC_FEFO:
			if (x->has_expiry != y->has_expiry)
				return x->has_expiry ? -1 : 1;
			if (x->has_expiry && x->expires_on != y->expires_on)
				return x->expires_on < y->expires_on ? -1 : 1;
			break;
	}
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->lot_id != y->lot_id)
		return x->lot_id < y->lot_id ? -1 : 1;
	return 0;
}

static int
line_order(const void *a, const void *b)
{
	const AllocLine *x = (const AllocLine *) a;
	const AllocLine *y = (const AllocLine *) b;

	return x->demand_line < y->demand_line ? -1 :
		x->demand_line > y->demand_line ? 1 : 0;
}

/* Reserve the takes: one UPDATE of lots, one INSERT of allocations. */
static void
write_takes(AllocRequest *req, AllocLot *lots, AllocTake *takes, int ntakes)
{
	Datum	   *lot_ids = palloc(sizeof(Datum) * ntakes);
	Datum	   *qtys = palloc(sizeof(Datum) * ntakes);
	Datum	   *lines = palloc(sizeof(Datum) * ntakes);
	Datum	   *products = palloc(sizeof(Datum) * ntakes);
	Datum	   *locations = palloc(sizeof(Datum) * ntakes);
	Datum		values[7];
	Oid			types[7] = {INT8ARRAYOID, NUMERICARRAYOID, TEXTOID,
	INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTOID};
	uint64		n;
	uint64		row;
	int			nlots = 0;
	int			i;

	for (i = 0; i < ntakes; i++)
	{
		AllocLot   *lot = &lots[takes[i].lot];
		int			k;

		lot_ids[i] = Int64GetDatum(lot->lot_id);
		qtys[i] = NumericGetDatum(takes[i].quantity);
		lines[i] = Int32GetDatum(req->lines[takes[i].line].demand_line);
		products[i] = Int64GetDatum(lot->product_id);
		locations[i] = Int64GetDatum(lot->location_id);
		for (k = 0; k < i; k++)
			if (takes[k].lot == takes[i].lot)
				break;
		if (k == i)
			nlots++;
	}
	values[0] = PointerGetDatum(construct_array(lot_ids, ntakes, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(qtys, ntakes, NUMERICOID, -1,
												false, TYPALIGN_INT));
	values[2] = CStringGetTextDatum(req->demand_ref);
	values[3] = PointerGetDatum(construct_array(lines, ntakes, INT4OID,
												sizeof(int32), true,
												TYPALIGN_INT));
	values[4] = PointerGetDatum(construct_array(products, ntakes, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[5] = PointerGetDatum(construct_array(locations, ntakes, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[6] = CStringGetTextDatum(req->strategy_name);

	n = exec_kept(&plan_reserve, "UPDATE inventory.lots l"
				  "   SET qty_allocated = l.qty_allocated OPERATOR(pg_catalog.+) t.q"
				  "  FROM (SELECT u.lot_id, pg_catalog.sum(u.q) AS q"
				  "          FROM ROWS FROM (pg_catalog.unnest($1),"
				  "                          pg_catalog.unnest($2)) AS u(lot_id, q)"
				  "         GROUP BY u.lot_id) t"
				  " WHERE l.lot_id OPERATOR(pg_catalog.=) t.lot_id",
				  2, types, values, NULL, false, SPI_OK_UPDATE);
	if (n != (uint64) nlots)
		elog(ERROR, "allocation updated %llu lots, expected %d",
			 (unsigned long long) n, nlots);

	n = exec_kept(&plan_insert_allocations, "INSERT INTO inventory.allocations"
				  "       (demand_ref, demand_line, product_id, lot_id,"
				  "        location_id, quantity, strategy)"
				  "SELECT $3, u.line, u.product_id, u.lot_id,"
				  "       u.location_id, u.q, $7"
				  "  FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5),"
				  "                 pg_catalog.unnest($1), pg_catalog.unnest($6),"
				  "                 pg_catalog.unnest($2))"
				  "       WITH ORDINALITY AS u(line, product_id, lot_id,"
				  "                            location_id, q, n)"
				  " ORDER BY u.n "
				  "RETURNING allocation_id, demand_line, lot_id",
				  7, types, values, NULL, false,
				  SPI_OK_INSERT_RETURNING);
	if (n != (uint64) ntakes)
		elog(ERROR, "allocation inserted %llu rows, expected %d",
			 (unsigned long long) n, ntakes);
	/* match ids by (line, lot), unique within a call */
	for (row = 0; row < n; row++)
	{
		bool		isnull;
		int64		id = inv_spi_getint64(row, 1, &isnull);
		int32		line = (int32) inv_spi_getint64(row, 2, &isnull);
		int64		lot_id = inv_spi_getint64(row, 3, &isnull);

		for (i = 0; i < ntakes; i++)
			if (req->lines[takes[i].line].demand_line == line &&
				lots[takes[i].lot].lot_id == lot_id)
				takes[i].allocation_id = id;
	}
}

/*
 * The allocation itself, shared by allocate() and allocate_lines(): look
 * up, lock, decide, write, and put the result rows in the tuplestore.
 */
static void
run_allocation(FunctionCallInfo fcinfo, AllocRequest *req)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CandidateQuery cq;
	AllocTake  *takes;
	int			ntakes = 0;
	int			nshort = 0;
	int			i;
	int			j;

	/* the same line twice would be ambiguous */
	qsort(req->lines, req->nlines, sizeof(AllocLine), line_order);
	for (i = 1; i < req->nlines; i++)
		if (req->lines[i].demand_line == req->lines[i - 1].demand_line)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("demand line %d appears more than once",
							req->lines[i].demand_line)));

	InitMaterializedSRF(fcinfo, 0);
	inv_spi_connect();

	lookup_products(req);

	cq.req = req;
	cq.lots = NULL;
	cq.nlots = 0;
	if (req->dry_run)
	{
		check_not_allocated(req);
		fetch_candidates(&cq);
	}
	else
	{
		with_lock_timeout(lock_demand, req->demand_ref,
						  psprintf("demand \"%s\"", req->demand_ref));
		check_not_allocated(req);
		with_lock_timeout(fetch_candidates, &cq,
						  "the lots to allocate from");
	}

	sort_strategy = req->strategy;
	qsort(cq.lots, cq.nlots, sizeof(AllocLot), lot_order);

	/* serve lines in demand_line order, each from what is left */
	takes = palloc(sizeof(AllocTake) * (cq.nlots + req->nlines));
	for (i = 0; i < req->nlines; i++)
	{
		AllocLine  *line = &req->lines[i];
		Numeric		remaining = line->demand;

		for (j = 0; j < cq.nlots; j++)
		{
			AllocLot   *lot = &cq.lots[j];
			Numeric		take;

			if (lot->product_id != line->product_id ||
				num_cmp(lot->available, int64_to_numeric(0)) <= 0)
				continue;
			take = num_cmp(lot->available, remaining) < 0 ?
				lot->available : remaining;
			takes[ntakes].line = i;
			takes[ntakes].lot = j;
			takes[ntakes].quantity = take;
			takes[ntakes].allocation_id = 0;
			ntakes++;
			lot->available = num_sub(lot->available, take);
			remaining = num_sub(remaining, take);
			line->allocated = num_add(line->allocated, take);
			if (num_cmp(remaining, int64_to_numeric(0)) == 0)
				break;
		}
		if (num_cmp(line->allocated, line->demand) < 0)
			nshort++;
	}

	if (nshort > 0 && req->all_or_nothing)
	{
		ereport(DEBUG1,
				(errmsg_internal("allocation of \"%s\": %d of %d lines short, all or nothing: nothing allocated",
								 req->demand_ref, nshort, req->nlines)));
		ntakes = 0;
		for (i = 0; i < req->nlines; i++)
			req->lines[i].allocated = num_scale(int64_to_numeric(0));
	}

	if (ntakes > 0 && !req->dry_run)
		write_takes(req, cq.lots, takes, ntakes);

	/* result: each line's lots, then its shortfall if any */
	for (i = 0; i < req->nlines; i++)
	{
		AllocLine  *line = &req->lines[i];
		Datum		values[ALLOC_RESULT_COLS];
		bool		nulls[ALLOC_RESULT_COLS];
		Numeric		shortfall;

		for (j = 0; j < ntakes; j++)
		{
			AllocLot   *lot = &cq.lots[takes[j].lot];

			if (takes[j].line != i)
				continue;
			memset(nulls, false, sizeof(nulls));
			values[0] = Int32GetDatum(line->demand_line);
			values[1] = Int64GetDatum(line->product_id);
			values[2] = Int64GetDatum(lot->lot_id);
			values[3] = Int64GetDatum(lot->location_id);
			values[4] = NumericGetDatum(takes[j].quantity);
			values[5] = DateADTGetDatum(lot->expires_on);
			nulls[5] = !lot->has_expiry;
			values[6] = Int64GetDatum(takes[j].allocation_id);
			nulls[6] = req->dry_run;
			values[7] = NumericGetDatum(num_scale(int64_to_numeric(0)));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		shortfall = num_sub(line->demand, line->allocated);
		if (num_cmp(shortfall, int64_to_numeric(0)) > 0)
		{
			memset(nulls, true, sizeof(nulls));
			values[0] = Int32GetDatum(line->demand_line);
			nulls[0] = false;
			values[1] = Int64GetDatum(line->product_id);
			nulls[1] = false;
			values[4] = NumericGetDatum(num_scale(int64_to_numeric(0)));
			nulls[4] = false;
			values[7] = NumericGetDatum(shortfall);
			nulls[7] = false;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}

	ereport(DEBUG1,
			(errmsg_internal("allocation of \"%s\" (%s%s): %d lines, %d lots locked, %d taken, %d lines short",
							 req->demand_ref, req->strategy_name,
							 req->dry_run ? ", dry run" : "", req->nlines,
							 cq.nlots, ntakes, nshort)));
	inv_spi_finish();
}

/*
 * inventory.allocate(product, quantity, demand_ref, strategy, locations,
 *		as_of, min_shelf_life_days, pack_multiple, all_or_nothing, dry_run,
 *		demand_line)
 *
 * Locks: the demand's advisory lock; ROW NO KEY UPDATE on every candidate
 * lot of the product (none in a dry run).  Errors: 22004 for a NULL
 * argument (other than locations, as_of and pack_multiple); 22023 for a
 * quantity or pack multiple that is not positive, not finite or finer
 * than 4 decimals, an unknown strategy, a negative shelf life, an empty
 * location list; 42704 for an unknown product or location; 23505 when the
 * line is already allocated; 55P03 when a lock is not obtained within
 * inventory_ext.lock_timeout.
 */
Datum
inv_allocate(PG_FUNCTION_ARGS)
{
	static const AllocArgNumbers an = {2, 3, 4, 5, 6, 8, 9};
	AllocRequest req;
	AllocLine  *line;

	memset(&req, 0, sizeof(req));
	require_arg(fcinfo, 0, "product");
	require_arg(fcinfo, 1, "quantity");
	require_arg(fcinfo, 10, "demand line");
	read_common_args(fcinfo, &an, &req);

	line = palloc0(sizeof(AllocLine));
	line->demand_line = PG_GETARG_INT32(10);
	line->product_id = PG_GETARG_INT64(0);
	line->quantity = PG_GETARG_NUMERIC(1);
	line->pack_multiple = PG_ARGISNULL(7) ? NULL : PG_GETARG_NUMERIC(7);
	prepare_line(line);
	req.lines = line;
	req.nlines = 1;

	run_allocation(fcinfo, &req);
	return (Datum) 0;
}

/*
 * inventory.allocate_lines(demand_ref, lines, strategy, locations, as_of,
 *		min_shelf_life_days, all_or_nothing, dry_run)
 *
 * Locks and errors as allocate(), for all lines at once; 22023 also for
 * lines that are not a non-empty jsonb array or a demand line given
 * twice.  A line without "demand_line" takes its position in the array.
 */
Datum
inv_allocate_lines(PG_FUNCTION_ARGS)
{
	static const AllocArgNumbers an = {0, 2, 3, 4, 5, 6, 7};
	AllocRequest req;
	MemoryContext callcxt = CurrentMemoryContext;
	Oid			types[1] = {JSONBOID};
	Datum		values[1];
	uint64		n;
	uint64		row;

	memset(&req, 0, sizeof(req));
	require_arg(fcinfo, 1, "lines");
	read_common_args(fcinfo, &an, &req);

	/* the lines are read with SQL: jsonb numbers become numeric exactly */
	values[0] = PG_GETARG_DATUM(1);
	inv_spi_connect();
	n = inv_spi_exec("SELECT pg_catalog.jsonb_typeof($1)",
					 1, types, values, NULL, true, SPI_OK_SELECT);
	if (strcmp(inv_spi_gettext(0, 1), "array") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lines must be a jsonb array of objects"),
				 errhint("Example: '[{\"demand_line\": 1, \"product_id\": 7, \"quantity\": 3}]'.")));
	n = inv_spi_exec("SELECT COALESCE((e OPERATOR(pg_catalog.->>) 'demand_line')::pg_catalog.int4,"
					 "                t.n::pg_catalog.int4),"
					 "       (e OPERATOR(pg_catalog.->>) 'product_id')::pg_catalog.int8,"
					 "       (e OPERATOR(pg_catalog.->>) 'quantity')::pg_catalog.numeric,"
					 "       (e OPERATOR(pg_catalog.->>) 'pack_multiple')::pg_catalog.numeric"
					 "  FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY AS t(e, n)"
					 " ORDER BY t.n",
					 1, types, values, NULL, true, SPI_OK_SELECT);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lines must not be empty")));
	/* outside SPI's memory, which inv_spi_finish frees */
	req.lines = MemoryContextAllocZero(callcxt, sizeof(AllocLine) * n);
	req.nlines = (int) n;
	for (row = 0; row < n; row++)
	{
		AllocLine  *line = &req.lines[row];
		bool		isnull;
		Datum		d;

		line->demand_line = (int32) inv_spi_getint64(row, 1, &isnull);
		line->product_id = inv_spi_getint64(row, 2, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("product of demand line %d must not be null",
							line->demand_line)));
		d = inv_spi_getdatum_copy(row, 3, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quantity of demand line %d must not be null",
							line->demand_line)));
		line->quantity = DatumGetNumeric(d);
		d = inv_spi_getdatum_copy(row, 4, &isnull);
		line->pack_multiple = isnull ? NULL : DatumGetNumeric(d);
	}
	inv_spi_finish();

	for (row = 0; row < n; row++)
		prepare_line(&req.lines[row]);

	run_allocation(fcinfo, &req);
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * commit and release
 * ---------------------------------------------------------------------
 */
typedef struct SettleState
{
	const char *demand_ref;
	bool		has_line;
	int32		demand_line;
	Datum		allocation_ids; /* int8[] of the reserved allocations */
	Datum		lot_ids;		/* int8[] of their lots */
	uint64		nallocations;
} SettleState;

/* Lock the demand's reserved allocations, then their lots in order. */
static void
settle_lock(void *arg)
{
	SettleState *st = (SettleState *) arg;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	bool		nulls[2] = {false, !st->has_line};
	int64	   *alloc_ids;
	int64	   *lot_ids;
	uint64		row;

	lock_demand((void *) st->demand_ref);

	values[0] = CStringGetTextDatum(st->demand_ref);
	values[1] = Int32GetDatum(st->demand_line);
	st->nallocations =
		exec_kept(&plan_settle_allocations, "SELECT a.allocation_id, a.lot_id"
				  "  FROM inventory.allocations a"
				  " WHERE a.demand_ref OPERATOR(pg_catalog.=) $1"
				  "   AND ($2 IS NULL OR a.demand_line OPERATOR(pg_catalog.=) $2)"
				  "   AND a.status OPERATOR(pg_catalog.=) 'reserved'"
				  " ORDER BY a.allocation_id"
				  "   FOR UPDATE",
				  2, types, values, nulls, false, SPI_OK_SELECT);
	if (st->nallocations == 0)
		return;
	alloc_ids = palloc(sizeof(int64) * st->nallocations);
	lot_ids = palloc(sizeof(int64) * st->nallocations);
	for (row = 0; row < st->nallocations; row++)
	{
		bool		isnull;

		alloc_ids[row] = inv_spi_getint64(row, 1, &isnull);
		lot_ids[row] = inv_spi_getint64(row, 2, &isnull);
	}
	st->allocation_ids = int8_array(alloc_ids, (int) st->nallocations);
	st->lot_ids = int8_array(lot_ids, (int) st->nallocations);

	types[0] = INT8ARRAYOID;
	values[0] = st->lot_ids;
	exec_kept(&plan_settle_lots, "SELECT l.lot_id FROM inventory.lots l"
			  " WHERE l.lot_id OPERATOR(pg_catalog.=) ANY ($1)"
			  " ORDER BY l.lot_id"
			  "   FOR NO KEY UPDATE",
			  1, types, values, NULL, false, SPI_OK_SELECT);
}

/*
 * Commit (write shipments) or release the reserved allocations of a
 * demand or of one of its lines.  Returns how many were settled; 0, with
 * a NOTICE, when nothing is reserved (a repeated call).
 */
static int32
settle(FunctionCallInfo fcinfo, bool commit)
{
	SettleState st;
	Oid			types[2];
	Datum		values[2];
	uint64		n;
	const char *verb = commit ? "commit" : "release";

	memset(&st, 0, sizeof(st));
	require_arg(fcinfo, 0, "demand reference");
	st.demand_ref = text_to_cstring(PG_GETARG_TEXT_PP(0));
	st.has_line = !PG_ARGISNULL(1);
	if (st.has_line)
	{
		st.demand_line = PG_GETARG_INT32(1);
		check_demand_line(st.demand_line);
	}
	if (commit)
		require_arg(fcinfo, 2, "shipment time");

	inv_spi_connect();
	with_lock_timeout(settle_lock, &st,
					  psprintf("the allocations of demand \"%s\"",
							   st.demand_ref));

	if (st.nallocations == 0)
	{
		bool		isnull;
		bool		nulls[2] = {false, !st.has_line};

		types[0] = TEXTOID;
		types[1] = INT4OID;
		values[0] = CStringGetTextDatum(st.demand_ref);
		values[1] = Int32GetDatum(st.demand_line);
		inv_spi_exec("SELECT pg_catalog.count(*) FILTER (WHERE a.status OPERATOR(pg_catalog.=) 'committed'),"
					 "       pg_catalog.count(*) FILTER (WHERE a.status OPERATOR(pg_catalog.=) 'released')"
					 "  FROM inventory.allocations a"
					 " WHERE a.demand_ref OPERATOR(pg_catalog.=) $1"
					 "   AND ($2 IS NULL OR a.demand_line OPERATOR(pg_catalog.=) $2)",
					 2, types, values, nulls, false, SPI_OK_SELECT);
		ereport(NOTICE,
				(errmsg("nothing to %s: demand \"%s\"%s has no reserved allocation",
						verb, st.demand_ref,
						st.has_line ? psprintf(" line %d", st.demand_line) : ""),
				 errdetail("It has %lld committed and %lld released allocations.",
						   (long long) inv_spi_getint64(0, 1, &isnull),
						   (long long) inv_spi_getint64(0, 2, &isnull))));
		inv_spi_finish();
		return 0;
	}

	/* allocated first: the lots' check wants allocated <= on-hand */
	types[0] = INT8ARRAYOID;
	values[0] = st.allocation_ids;
	n = exec_kept(&plan_unreserve, "UPDATE inventory.lots l"
				  "   SET qty_allocated = l.qty_allocated OPERATOR(pg_catalog.-) t.q"
				  "  FROM (SELECT a.lot_id, pg_catalog.sum(a.quantity) AS q"
				  "          FROM inventory.allocations a"
				  "         WHERE a.allocation_id OPERATOR(pg_catalog.=) ANY ($1)"
				  "         GROUP BY a.lot_id) t"
				  " WHERE l.lot_id OPERATOR(pg_catalog.=) t.lot_id",
				  1, types, values, NULL, false, SPI_OK_UPDATE);

	types[1] = TEXTOID;
	values[1] = CStringGetTextDatum(commit ? "committed" : "released");
	n = exec_kept(&plan_settle_status, "UPDATE inventory.allocations"
				  "   SET status = $2, updated_at = pg_catalog.now()"
				  " WHERE allocation_id OPERATOR(pg_catalog.=) ANY ($1)",
				  2, types, values, NULL, false, SPI_OK_UPDATE);
	if (n != st.nallocations)
		elog(ERROR, "%s updated %llu allocations, expected %llu", verb,
			 (unsigned long long) n, (unsigned long long) st.nallocations);

	if (commit)
	{
		/*
		 * The reference is derived from the allocation, so the ledger's own
		 * uniqueness rule would refuse a second shipment of it.
		 */
		types[1] = TIMESTAMPTZOID;
		values[1] = PG_GETARG_DATUM(2);
		n = exec_kept(&plan_ship, "INSERT INTO inventory.transactions"
					  "       (created_at, org_id, product_id, location_id,"
					  "        lot_id, txn_type, quantity, reference,"
					  "        demand_ref, note)"
					  "SELECT $2, p.org_id, a.product_id, a.location_id,"
					  "       a.lot_id, 'shipment',"
					  "       OPERATOR(pg_catalog.-) a.quantity,"
					  "       'allocation:' OPERATOR(pg_catalog.||) a.allocation_id,"
					  "       a.demand_ref,"
					  "       'demand line ' OPERATOR(pg_catalog.||) a.demand_line"
					  "  FROM inventory.allocations a"
					  "  JOIN inventory.products p"
					  "    ON p.product_id OPERATOR(pg_catalog.=) a.product_id"
					  " WHERE a.allocation_id OPERATOR(pg_catalog.=) ANY ($1)"
					  " ORDER BY a.allocation_id",
					  2, types, values, NULL, false, SPI_OK_INSERT);
		if (n != st.nallocations)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("the ledger already holds a shipment of an allocation of demand \"%s\"",
							st.demand_ref),
					 errdetail("%llu of %llu shipment rows were recorded.",
							   (unsigned long long) n,
							   (unsigned long long) st.nallocations)));
	}

	ereport(DEBUG1,
			(errmsg_internal("%s of demand \"%s\": %llu allocations",
							 verb, st.demand_ref,
							 (unsigned long long) st.nallocations)));
	inv_spi_finish();
	return (int32) st.nallocations;
}

/*
 * inventory.commit_allocation(demand_ref, demand_line, shipped_at)
 *
 * Locks: the demand's advisory lock, its reserved allocation rows, their
 * lots (lot_id order).  Errors: 22004 for a NULL demand or time, 22023 for
 * a demand line below 1, 55P03 on lock timeout.
 */
Datum
inv_commit_allocation(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(settle(fcinfo, true));
}

/*
 * inventory.release_allocation(demand_ref, demand_line)
 *
 * Locks and errors as commit_allocation.
 */
Datum
inv_release_allocation(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(settle(fcinfo, false));
}
