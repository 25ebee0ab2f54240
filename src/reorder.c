/*-------------------------------------------------------------------------
 *
 * reorder.c
 *	  Reorder analysis: usage per calendar day, days of stock left, safety
 *	  stock and the quantity to order, read from the daily usage rollup.
 *
 * Usage is read from inventory.daily_usage (sql/install/50_reorder.sql),
 * never from the raw ledger: one streamed query returns, in key order,
 * one row per product (or product and location) with its stock and
 * attributes, followed by that key's rollup rows inside the window.  Each
 * rollup row is added into a per-day slot, so days without a row count
 * as zero, and the statistics are taken over the whole day grid.  The
 * cost is therefore proportional to keys times window days plus rollup
 * rows, whatever the number of ledger rows behind them.
 *
 * Statistics: mean and standard deviation are over calendar days; the
 * standard deviation is the POPULATION one (divided by the number of
 * days, not days - 1), since the window is the whole period considered.
 *
 * Locks: ACCESS SHARE on products, lots, daily_usage and organizations,
 * through the reading queries only.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/reorder.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_service_level_z);
PG_FUNCTION_INFO_V1(inv_analyze_reorder);

/* Longest window accepted, in days (ten years) */
#define INV_REORDER_MAX_WINDOW	3660

/* Rows fetched from the cursor at a time */
#define INV_REORDER_FETCH		1000

/* Days per year, to turn usage per day into the annual demand of the EOQ */
#define INV_DAYS_PER_YEAR		365.0

/* Output columns of analyze_reorder */
#define INV_REORDER_NCOLS		14

/*
 * The streamed query.  %s placeholders are constant SQL fragments chosen
 * by the mode (per product, or per product and location), never values.
 * Parameters: $1 org_id, $2 first day, $3 day after the last (as_of),
 * $4 category or NULL.  Columns: 1 kind (0 key, 1 usage), 2 product_id,
 * 3 location_id, 4 day, 5 demand, 6 returned, 7 sku, 8 on_hand,
 * 9 allocated, 10 on_order, 11 available, 12 stored reorder point,
 * 13 lead_time_days, 14 pack_multiple, 15 unit_cost.
 *
 * The organisation's products are named as the table in every part, not
 * as a shared CTE: joining a CTE to itself (or to a CTE built from it)
 * leaves the planner without statistics, and it then estimated 3.2
 * million rows for 75 thousand, which made JIT compile the query for
 * longer than it runs (see the bench's row 4).  The window's rollup rows
 * are found through daily_usage_day_idx, not a scan of every day kept.
 */
static const char *const reorder_query_fmt =
"WITH s AS ("
" SELECT l.product_id, %s AS location_id,"
" pg_catalog.sum(l.qty_on_hand) AS on_hand,"
" pg_catalog.sum(l.qty_allocated) AS allocated,"
" pg_catalog.sum(l.qty_on_order) AS on_order,"
" pg_catalog.sum(l.qty_available) FILTER ("
" WHERE l.status OPERATOR(pg_catalog.=) 'available') AS available"
" FROM inventory.lots l"
" JOIN inventory.products p"
" ON p.product_id OPERATOR(pg_catalog.=) l.product_id"
" WHERE p.org_id OPERATOR(pg_catalog.=) $1"
" AND ($4::text IS NULL OR p.category OPERATOR(pg_catalog.=) $4)"
" GROUP BY 1, 2),"
" u AS ("
" SELECT d.product_id, %s AS location_id, d.day, d.demand, d.returned"
" FROM inventory.daily_usage d"
" JOIN inventory.products p"
" ON p.product_id OPERATOR(pg_catalog.=) d.product_id"
" WHERE p.org_id OPERATOR(pg_catalog.=) $1"
" AND ($4::text IS NULL OR p.category OPERATOR(pg_catalog.=) $4)"
" AND d.day OPERATOR(pg_catalog.>=) $2"
" AND d.day OPERATOR(pg_catalog.<) $3),"
" k AS (%s)"
" SELECT 0 AS kind, k.product_id, k.location_id, NULL::date,"
" NULL::numeric, NULL::numeric, p.sku,"
" COALESCE(s.on_hand, 0), COALESCE(s.allocated, 0),"
" COALESCE(s.on_order, 0), COALESCE(s.available, 0),"
" p.reorder_point, p.lead_time_days, p.pack_multiple, p.unit_cost"
" FROM k"
" JOIN inventory.products p"
" ON p.product_id OPERATOR(pg_catalog.=) k.product_id"
" LEFT JOIN s ON %s"
" UNION ALL"
" SELECT 1, u.product_id, u.location_id, u.day, u.demand, u.returned,"
" NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
" FROM u"
" ORDER BY 2, 3, 1";

/* Fragments of the per-product mode */
static const char *const product_loc_lots = "NULL::bigint";
static const char *const product_loc_usage = "NULL::bigint";
static const char *const product_keys =
"SELECT p.product_id, NULL::bigint AS location_id"
" FROM inventory.products p"
" WHERE p.org_id OPERATOR(pg_catalog.=) $1"
" AND ($4::text IS NULL OR p.category OPERATOR(pg_catalog.=) $4)";
static const char *const product_join =
"s.product_id OPERATOR(pg_catalog.=) k.product_id";

/* Fragments of the per-location mode */
static const char *const location_loc_lots = "l.location_id";
static const char *const location_loc_usage = "d.location_id";
static const char *const location_keys =
"SELECT s.product_id, s.location_id FROM s"
" UNION SELECT u.product_id, u.location_id FROM u";
static const char *const location_join =
"s.product_id OPERATOR(pg_catalog.=) k.product_id"
" AND s.location_id OPERATOR(pg_catalog.=) k.location_id";

/* The analysis options, checked */
typedef struct InvReorderArgs
{
	int64		org_id;
	DateADT		as_of;
	bool		as_of_given;
	int32		window_days;
	double		z;
	bool		by_location;
	bool		only_below;
	text	   *category;		/* NULL: all categories */
	bool		net_returns;
	bool		use_eoq;
	double		holding_cost_rate;
	double		order_cost;
} InvReorderArgs;

/* One key (product, or product and location) being accumulated */
typedef struct InvReorderKey
{
	bool		valid;
	int64		product_id;
	int64		location_id;
	bool		location_null;
	Datum		sku;
	Datum		on_hand;
	Datum		allocated;
	Datum		on_order;
	Datum		available;
	Datum		stored_rp;
	bool		stored_rp_null;
	int32		lead_time;
	Datum		pack_multiple;
	double		unit_cost;		/* < 0: unknown */
} InvReorderKey;

/*
 * inv_reorder_normal_quantile
 *		Inverse of the standard normal CDF, for 0 < p < 1.
 *
 * Method: P. J. Acklam's rational approximation ("An algorithm for
 * computing the inverse normal cumulative distribution function", 2003):
 * a rational function in the central region 0.02425 <= p <= 0.97575, and
 * one in sqrt(-2 log p) in each tail, relative error below 1.15e-9.  One
 * step of Halley's method against erfc() then brings it to about machine
 * precision, as Acklam suggests.
 */
double
inv_reorder_normal_quantile(double p)
{
	static const double a[6] = {
		-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00
	};
	static const double b[5] = {
		-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
		-1.328068155288572e+01
	};
	static const double c[6] = {
		-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00, 2.938163982698783e+00
	};
	static const double d[4] = {
		7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00
	};
	const double p_low = 0.02425;
	double		q;
	double		r;
	double		x;
	double		e;
	double		u;

	Assert(p > 0.0 && p < 1.0);

	if (p < p_low)
	{
		/* lower tail */
		q = sqrt(-2.0 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	else if (p <= 1.0 - p_low)
	{
		/* central region */
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
	}
	else
	{
		/* upper tail, by symmetry */
		q = sqrt(-2.0 * log(1.0 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}

	/* one Halley step: e is the CDF error at x */
	e = 0.5 * erfc(-x / M_SQRT2) - p;
	u = e * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
	x = x - u / (1.0 + x * u / 2.0);

	return x;
}

/* Check a service level and turn it into z; raises 22023 outside (0, 1). */
static double
service_level_to_z(Numeric level)
{
	double		p;

	p = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(level)));
	if (!(p > 0.0 && p < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("service level must be between 0 and 1, exclusive"),
				 errdetail("The service level given was %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(level))))));
	return inv_reorder_normal_quantile(p);
}

/*
 * service_level_z(p_service_level numeric) RETURNS double precision
 *
 * The standard normal quantile of the service level: the safety factor z
 * of analyze_reorder.  Takes no locks.  Raises 22023 when the level is not
 * strictly between 0 and 1.
 */
Datum
inv_service_level_z(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(service_level_to_z(PG_GETARG_NUMERIC(0)));
}

/* A numeric argument as double; raises 22023 when below min (or at it). */
static double
positive_numeric_arg(Numeric value, const char *what, bool allow_zero)
{
	double		v;

	v = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(value)));
	if (isnan(v) || v < 0.0 || (!allow_zero && v == 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 allow_zero ?
				 errmsg("%s must not be negative", what) :
				 errmsg("%s must be positive", what),
				 errdetail("The value given was %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(value))))));
	return v;
}

/* Read and check the arguments of analyze_reorder; see its header. */
static void
reorder_read_args(FunctionCallInfo fcinfo, InvReorderArgs *args)
{
	memset(args, 0, sizeof(*args));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3) ||
		PG_ARGISNULL(4) || PG_ARGISNULL(5) || PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("organization, window, service level and the boolean options must not be null"),
				 errhint("Only the date, the category and the two costs may be null.")));

	args->org_id = PG_GETARG_INT64(0);
	args->as_of_given = !PG_ARGISNULL(1);
	if (args->as_of_given)
	{
		args->as_of = PG_GETARG_DATEADT(1);
		if (DATE_NOT_FINITE(args->as_of))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("analysis date must be finite")));
	}

	args->window_days = PG_GETARG_INT32(2);
	if (args->window_days <= 0 || args->window_days > INV_REORDER_MAX_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window must be between 1 and %d days",
						INV_REORDER_MAX_WINDOW),
				 errdetail("The window given was %d days.",
						   args->window_days)));

	args->z = service_level_to_z(PG_GETARG_NUMERIC(3));
	args->by_location = PG_GETARG_BOOL(4);
	args->only_below = PG_GETARG_BOOL(5);
	args->category = PG_ARGISNULL(6) ? NULL : PG_GETARG_TEXT_PP(6);
	args->net_returns = PG_GETARG_BOOL(7);

	if (PG_ARGISNULL(8) != PG_ARGISNULL(9))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("holding cost rate and order cost must be given together"),
				 errhint("Give both for an economic order quantity, or neither.")));
	if (!PG_ARGISNULL(8))
	{
		args->use_eoq = true;
		args->holding_cost_rate =
			positive_numeric_arg(PG_GETARG_NUMERIC(8), "holding cost rate",
								 false);
		args->order_cost =
			positive_numeric_arg(PG_GETARG_NUMERIC(9), "order cost", false);
	}
}

/*
 * Look up the organisation; set args->as_of to today in its zone when the
 * caller gave no date.  Raises 42704 when it does not exist.  SPI must be
 * connected.
 */
static void
reorder_lookup_org(InvReorderArgs *args)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;

	values[0] = Int64GetDatum(args->org_id);
	if (inv_spi_exec("SELECT (pg_catalog.now() AT TIME ZONE o.time_zone)::date"
					 " FROM inventory.organizations o"
					 " WHERE o.org_id OPERATOR(pg_catalog.=) $1",
					 1, types, values, NULL, true, SPI_OK_SELECT) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("organization %lld does not exist",
						(long long) args->org_id)));
	if (!args->as_of_given)
		args->as_of = DatumGetDateADT(inv_spi_getdatum(0, 1, &isnull));
	if (!IS_VALID_DATE(args->as_of) ||
		!IS_VALID_DATE(args->as_of - args->window_days))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("analysis window falls outside the range of dates")));
}

/* double -> numeric rounded to 4 decimals */
static Datum
numeric_of(double v)
{
	Datum		n = DirectFunctionCall1(float8_numeric, Float8GetDatum(v));

	return DirectFunctionCall2(numeric_round, n, Int32GetDatum(4));
}

static double
double_of(Datum numeric)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, numeric));
}

/*
 * Compute one key's figures from its per-day slots and add its row to the
 * result, unless only items needing an order were asked for.  The
 * memory context current at the call holds the key's values.
 */
static void
reorder_emit(const InvReorderArgs *args, const InvReorderKey *key,
			 const double *slots, Tuplestorestate *store, TupleDesc desc)
{
	Datum		values[INV_REORDER_NCOLS];
	bool		nulls[INV_REORDER_NCOLS];
	int			w = args->window_days;
	int			i;
	double		sum = 0.0;
	double		sq = 0.0;
	double		mean;
	double		sigma;
	double		safety;
	double		computed_rp;
	double		rp;
	double		available = double_of(key->available);
	double		position;
	double		pack = double_of(key->pack_multiple);
	bool		needed;
	int64		packs = 0;
	Datum		qty;

	/* mean and population standard deviation over the whole day grid */
	for (i = 0; i < w; i++)
		sum += slots[i];
	mean = sum / w;
	for (i = 0; i < w; i++)
		sq += (slots[i] - mean) * (slots[i] - mean);
	sigma = sqrt(sq / w);

	/*
	 * With returns netted, a window with more returns than demand has a
	 * negative mean; stock that comes back is not negative demand over
	 * the lead time, so the reorder point counts such usage as zero.
	 */
	safety = args->z * sigma * sqrt((double) key->lead_time);
	computed_rp = Max(mean, 0.0) * key->lead_time + safety;
	rp = key->stored_rp_null ? computed_rp : double_of(key->stored_rp);

	/* what is there and coming, against the reorder point */
	position = available + double_of(key->on_order);
	needed = position < rp || (position == rp && rp > 0.0);
	if (args->only_below && !needed)
		return;

	if (needed)
	{
		double		raw = rp - position;

		if (args->use_eoq && key->unit_cost > 0.0 && mean > 0.0)
		{
			double		eoq;

			eoq = sqrt(2.0 * mean * INV_DAYS_PER_YEAR * args->order_cost /
					   (args->holding_cost_rate * key->unit_cost));
			raw = Max(raw, eoq);
		}

		/*
		 * Whole packs, rounded up; the small tolerance keeps a quotient
		 * that is whole but for binary rounding from taking one pack too
		 * many.  Landing exactly on the reorder point is not above it.
		 */
		packs = (int64) ceil(raw / pack - 1e-9);
		if (packs * pack <= rp - position)
			packs++;
	}
	qty = DirectFunctionCall2(numeric_mul,
							  NumericGetDatum(int64_to_numeric(packs)),
							  key->pack_multiple);

	memset(nulls, false, sizeof(nulls));
	values[0] = Int64GetDatum(key->product_id);
	values[1] = key->sku;
	values[2] = Int64GetDatum(key->location_id);
	nulls[2] = key->location_null;
	values[3] = key->on_hand;
	values[4] = key->allocated;
	values[5] = key->on_order;
	values[6] = key->available;
	values[7] = key->stored_rp_null ? numeric_of(computed_rp) : key->stored_rp;
	values[8] = numeric_of(mean);
	values[9] = numeric_of(sigma);
	if (mean > 0.0)
		values[10] = numeric_of(available / mean);
	else
		nulls[10] = true;
	values[11] = numeric_of(safety);
	values[12] = numeric_of(computed_rp);
	values[13] = qty;

	tuplestore_putvalues(store, desc, values, nulls);
}

/* Copy column col of the current batch's row into the current context. */
static Datum
copy_col(uint64 row, int col, bool *isnull)
{
	Datum		d = inv_spi_getdatum(row, col, isnull);

	return *isnull ? (Datum) 0 : datumCopy(d, false, -1);
}

/*
 * analyze_reorder(p_org_id bigint, p_as_of date DEFAULT NULL,
 *		p_window_days int DEFAULT 30, p_service_level numeric DEFAULT 0.95,
 *		p_by_location boolean DEFAULT false,
 *		p_only_below boolean DEFAULT false, p_category text DEFAULT NULL,
 *		p_net_returns boolean DEFAULT false,
 *		p_holding_cost_rate numeric DEFAULT NULL,
 *		p_order_cost numeric DEFAULT NULL) RETURNS TABLE (...)
 *
 * One row per product of the organisation (per product and location with
 * p_by_location), with stock from its lots and usage from the rollup over
 * the p_window_days whole local days ending the day before p_as_of (NULL:
 * today in the organisation's zone).  See doc/reorder.md for each column.
 *
 * Locks: ACCESS SHARE on the tables read.  Errors: 22004 for a NULL
 * organisation, window, service level or flag; 22023 for a window outside
 * 1..3660, a service level outside (0, 1), a cost that is not positive or
 * only one of the two costs; 42704 for an unknown organisation.
 */
Datum
inv_analyze_reorder(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InvReorderArgs args;
	MemoryContext callcxt;
	MemoryContext keycxt;
	MemoryContext oldcxt;
	InvReorderKey key;
	double	   *slots;
	char	   *sql;
	Oid			types[4] = {INT8OID, DATEOID, DATEOID, TEXTOID};
	Datum		values[4];
	bool		nulls[4];
	Portal		portal;
	uint64		n;
	uint64		row;
	int64		keys_read = 0;
	int64		usage_rows = 0;
	int			guc_level;

	reorder_read_args(fcinfo, &args);
	InitMaterializedSRF(fcinfo, 0);

	callcxt = CurrentMemoryContext;
	keycxt = AllocSetContextCreate(callcxt, "analyze_reorder key",
								   ALLOCSET_DEFAULT_SIZES);
	slots = palloc0(sizeof(double) * args.window_days);

	inv_spi_connect();
	reorder_lookup_org(&args);

	if (args.by_location)
		sql = psprintf(reorder_query_fmt, location_loc_lots,
					   location_loc_usage, location_keys, location_join);
	else
		sql = psprintf(reorder_query_fmt, product_loc_lots,
					   product_loc_usage, product_keys, product_join);

	values[0] = Int64GetDatum(args.org_id);
	values[1] = DateADTGetDatum(args.as_of - args.window_days);
	values[2] = DateADTGetDatum(args.as_of);
	values[3] = args.category ? PointerGetDatum(args.category) : (Datum) 0;
	memset(nulls, false, sizeof(nulls));
	nulls[3] = (args.category == NULL);

	ereport(DEBUG1,
			(errmsg_internal("analyze_reorder: organization %lld, window of %d days before %s, z %.6f",
							 (long long) args.org_id, args.window_days,
							 DatumGetCString(DirectFunctionCall1(date_out,
																 DateADTGetDatum(args.as_of))),
							 args.z)));

	/*
	 * No JIT for the streamed query: it is one pass over the window's
	 * rollup rows and a sort, tens of milliseconds, and at the product's
	 * scale its cost passes jit_above_cost and jit_optimize_above_cost, so
	 * compiling it (inlining and optimising some 70 functions) took longer
	 * than running it: over a second on the bench's data.  No nested
	 * loops either: every product is read, so hash and merge joins are
	 * right, and without statistics (the rollup and lots filled in the
	 * same transaction, before any ANALYZE) the planner chose a nested
	 * loop that aggregated all the lots again for each product: minutes
	 * on the Online Retail year.  The settings are undone when the cursor
	 * is closed, or by the abort on error.
	 */
	guc_level = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_nestloop", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	portal = inv_spi_cursor_open(sql, 4, types, values, nulls, true);
	key.valid = false;

	while ((n = inv_spi_cursor_fetch(portal, INV_REORDER_FETCH)) > 0)
	{
		for (row = 0; row < n; row++)
		{
			bool		isnull;
			int64		kind = inv_spi_getint64(row, 1, &isnull);

			CHECK_FOR_INTERRUPTS();

			if (kind == 0)
			{
				/* a new key: finish the previous one, then read this one */
				if (key.valid)
				{
					oldcxt = MemoryContextSwitchTo(keycxt);
					reorder_emit(&args, &key, slots, rsinfo->setResult,
								 rsinfo->setDesc);
					MemoryContextSwitchTo(oldcxt);
				}
				MemoryContextReset(keycxt);
				memset(slots, 0, sizeof(double) * args.window_days);

				oldcxt = MemoryContextSwitchTo(keycxt);
				key.valid = true;
				key.product_id = inv_spi_getint64(row, 2, &isnull);
				key.location_id = inv_spi_getint64(row, 3,
												   &key.location_null);
				key.sku = copy_col(row, 7, &isnull);
				key.on_hand = copy_col(row, 8, &isnull);
				key.allocated = copy_col(row, 9, &isnull);
				key.on_order = copy_col(row, 10, &isnull);
				key.available = copy_col(row, 11, &isnull);
				key.stored_rp = copy_col(row, 12, &key.stored_rp_null);
				key.lead_time = (int32) inv_spi_getint64(row, 13, &isnull);
				key.pack_multiple = copy_col(row, 14, &isnull);
				key.unit_cost = -1.0;
				{
					Datum		cost = inv_spi_getdatum(row, 15, &isnull);

					if (!isnull)
						key.unit_cost = double_of(cost);
				}
				MemoryContextSwitchTo(oldcxt);
				keys_read++;
			}
			else
			{
				/* a rollup row of the current key: add it to its day */
				DateADT		day;
				double		qty;
				int			slot;

				day = DatumGetDateADT(inv_spi_getdatum(row, 4, &isnull));
				slot = day - (args.as_of - args.window_days);
				if (!key.valid || slot < 0 || slot >= args.window_days)
					elog(ERROR, "rollup row outside the key or window");
				qty = double_of(inv_spi_getdatum(row, 5, &isnull));
				if (args.net_returns)
					qty -= double_of(inv_spi_getdatum(row, 6, &isnull));
				slots[slot] += qty;
				usage_rows++;
			}
		}
	}
	inv_spi_cursor_close(portal);
	AtEOXact_GUC(true, guc_level);

	if (key.valid)
	{
		oldcxt = MemoryContextSwitchTo(keycxt);
		reorder_emit(&args, &key, slots, rsinfo->setResult, rsinfo->setDesc);
		MemoryContextSwitchTo(oldcxt);
	}

	inv_spi_finish();
	MemoryContextDelete(keycxt);

	ereport(DEBUG1,
			(errmsg_internal("analyze_reorder: %lld keys, %lld rollup rows",
							 (long long) keys_read, (long long) usage_rows)));
	return (Datum) 0;
}
