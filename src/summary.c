/*-------------------------------------------------------------------------
 *
 * summary.c
 *	  Statement triggers that keep inventory.stock_summary current.
 *
 * Every lot change (each ledger movement, each allocation) fires one of
 * these, so they are on the hot path of every writer.  They turn the
 * statement's transition tables into per-product deltas (new minus old)
 * and add them to the summary rows in one INSERT ... ON CONFLICT DO
 * UPDATE whose input is sorted by product_id: missing rows are inserted,
 * existing ones locked and updated in product_id order, after the lots
 * (every writer locks lots in lot_id order), so two statements touching
 * several products cannot deadlock on summary rows.  Under READ COMMITTED
 * the update adds to the latest committed row version, so concurrent
 * deltas add up.
 *
 * What deltas cannot give is recomputed from the lots, only for the
 * products the delta statement flags: locations_with_stock when a lot's
 * on-hand crosses zero (either way), a lot with stock changes location,
 * or a lot changes product; last_movement_at when a lot's last movement
 * goes back or the lot leaves the product; and whether the product still
 * has lots (else its row is deleted).  The recomputation is a second
 * statement, so its snapshot is taken after our row locks were granted:
 * every transaction that changed these products' lots before us has
 * committed and is seen; one that changes them later waits for our locks.
 *
 * XXX: deltas carry any earlier error forward: a summary made wrong by a
 * restore with triggers disabled or by hand stays wrong until
 * inventory.rebuild_stock_summary(); check_stock_summary() (and the
 * nightly check_rollups()) report it.
 *
 * The SQL lives here rather than in PL/pgSQL to run each statement from a
 * plan prepared once per backend, without an interpreter in between.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/summary.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_stock_summary_trigger);

/*
 * Delta subqueries: one row per product with the columns product_id,
 * on_hand, allocated, on_order, available, last_movement_at, recompute.
 */
#define AVAILABLE_OF(t) \
	"CASE WHEN " t ".status OPERATOR(pg_catalog.=) 'available' " \
	"THEN " t ".qty_available ELSE 0 END"

static const char *const insert_deltas =
"SELECT n.product_id, pg_catalog.sum(n.qty_on_hand) AS on_hand, "
"  pg_catalog.sum(n.qty_allocated) AS allocated, "
"  pg_catalog.sum(n.qty_on_order) AS on_order, "
"  pg_catalog.sum(" AVAILABLE_OF("n") ") AS available, "
"  pg_catalog.max(n.last_movement_at) AS last_movement_at, "
"  pg_catalog.bool_or(n.qty_on_hand OPERATOR(pg_catalog.>) 0) AS recompute "
"FROM new_lots n GROUP BY n.product_id";

/* each changed lot: minus its old figures, plus its new ones */
static const char *const update_deltas =
"SELECT x.product_id, pg_catalog.sum(x.on_hand) AS on_hand, "
"  pg_catalog.sum(x.allocated) AS allocated, "
"  pg_catalog.sum(x.on_order) AS on_order, "
"  pg_catalog.sum(x.available) AS available, "
"  pg_catalog.max(x.last_movement_at) AS last_movement_at, "
"  pg_catalog.bool_or(x.recompute) AS recompute "
"FROM new_lots n "
"JOIN old_lots o ON o.lot_id OPERATOR(pg_catalog.=) n.lot_id "
"CROSS JOIN LATERAL ("
"  SELECT n.product_id IS DISTINCT FROM o.product_id "
"      OR (n.qty_on_hand OPERATOR(pg_catalog.>) 0) IS DISTINCT FROM "
"         (o.qty_on_hand OPERATOR(pg_catalog.>) 0) "
"      OR (n.location_id IS DISTINCT FROM o.location_id "
"          AND o.qty_on_hand OPERATOR(pg_catalog.>) 0) "
"      OR (o.last_movement_at IS NOT NULL "
"          AND (n.last_movement_at IS NULL "
"               OR n.last_movement_at OPERATOR(pg_catalog.<) "
"                  o.last_movement_at)) AS flag) f "
"CROSS JOIN LATERAL (VALUES "
"  (n.product_id, n.qty_on_hand, n.qty_allocated, n.qty_on_order, "
"   " AVAILABLE_OF("n") ", n.last_movement_at, f.flag), "
"  (o.product_id, OPERATOR(pg_catalog.-) o.qty_on_hand, "
"   OPERATOR(pg_catalog.-) o.qty_allocated, "
"   OPERATOR(pg_catalog.-) o.qty_on_order, "
"   OPERATOR(pg_catalog.-) " AVAILABLE_OF("o") ", "
"   NULL::pg_catalog.timestamptz, f.flag)"
") AS x(product_id, on_hand, allocated, on_order, available, "
"       last_movement_at, recompute) "
"WHERE (n.product_id, n.location_id, n.qty_on_hand, n.qty_allocated, "
"       n.qty_on_order, n.status, n.last_movement_at) "
"      IS DISTINCT FROM "
"      (o.product_id, o.location_id, o.qty_on_hand, o.qty_allocated, "
"       o.qty_on_order, o.status, o.last_movement_at) "
"GROUP BY x.product_id";

/*
 * A deleted lot may have held the latest movement, the only stock at its
 * location or been the product's last lot: always recompute.
 */
static const char *const delete_deltas =
"SELECT o.product_id, "
"  OPERATOR(pg_catalog.-) pg_catalog.sum(o.qty_on_hand) AS on_hand, "
"  OPERATOR(pg_catalog.-) pg_catalog.sum(o.qty_allocated) AS allocated, "
"  OPERATOR(pg_catalog.-) pg_catalog.sum(o.qty_on_order) AS on_order, "
"  OPERATOR(pg_catalog.-) pg_catalog.sum(" AVAILABLE_OF("o") ") "
"      AS available, "
"  NULL::pg_catalog.timestamptz AS last_movement_at, "
"  true AS recompute "
"FROM old_lots o GROUP BY o.product_id";

/* Applies the deltas; returns the products to recompute (or NULL). */
static const char *const apply_fmt =
"WITH d AS MATERIALIZED (%s), "
"up AS ("
"  INSERT INTO inventory.stock_summary AS s "
"    (org_id, product_id, on_hand, allocated, on_order, available, "
"     locations_with_stock, last_movement_at) "
"  SELECT p.org_id, d.product_id, d.on_hand, d.allocated, d.on_order, "
"         d.available, 0, d.last_movement_at "
"  FROM d JOIN inventory.products p "
"    ON p.product_id OPERATOR(pg_catalog.=) d.product_id "
"  ORDER BY d.product_id "
"  ON CONFLICT (product_id) DO UPDATE "
"  SET on_hand = s.on_hand OPERATOR(pg_catalog.+) excluded.on_hand, "
"      allocated = s.allocated OPERATOR(pg_catalog.+) excluded.allocated, "
"      on_order = s.on_order OPERATOR(pg_catalog.+) excluded.on_order, "
"      available = s.available OPERATOR(pg_catalog.+) excluded.available, "
"      last_movement_at = GREATEST(s.last_movement_at, "
"                                  excluded.last_movement_at)) "
"SELECT pg_catalog.array_agg(d.product_id) FILTER (WHERE d.recompute) "
"FROM d";

/*
 * Must agree with inventory.compute_stock_summary() for these two
 * columns; deletes the rows of products left without lots.
 */
static const char *const recompute_sql =
"WITH c AS ("
"  SELECT l.product_id, "
"         pg_catalog.count(DISTINCT l.location_id) "
"             FILTER (WHERE l.qty_on_hand OPERATOR(pg_catalog.>) 0) "
"             AS locations_with_stock, "
"         pg_catalog.max(l.last_movement_at) AS last_movement_at "
"  FROM inventory.lots l "
"  WHERE l.product_id OPERATOR(pg_catalog.=) ANY ($1) "
"  GROUP BY l.product_id), "
"gone AS ("
"  DELETE FROM inventory.stock_summary s "
"  WHERE s.product_id OPERATOR(pg_catalog.=) ANY ($1) "
"    AND NOT EXISTS (SELECT 1 FROM c "
"                    WHERE c.product_id OPERATOR(pg_catalog.=) "
"                          s.product_id)) "
"UPDATE inventory.stock_summary s "
"SET locations_with_stock = c.locations_with_stock, "
"    last_movement_at = c.last_movement_at "
"FROM c "
"WHERE s.product_id OPERATOR(pg_catalog.=) c.product_id "
"  AND (s.locations_with_stock, s.last_movement_at) "
"      IS DISTINCT FROM (c.locations_with_stock, c.last_movement_at)";

/* indexed by event: 0 insert, 1 update, 2 delete */
static SPIPlanPtr apply_plans[3] = {NULL, NULL, NULL};
static SPIPlanPtr recompute_plan = NULL;

/*
 * inv_stock_summary_trigger
 *		AFTER INSERT/UPDATE/DELETE FOR EACH STATEMENT trigger on
 *		inventory.lots, with transition tables named new_lots and old_lots.
 */
Datum
inv_stock_summary_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int			event;
	Datum		ids = (Datum) 0;
	bool		isnull = true;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "inv_stock_summary_trigger: not fired as AFTER FOR EACH STATEMENT");
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		event = 0;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		event = 1;
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		event = 2;
	else
		elog(ERROR, "inv_stock_summary_trigger: not fired by INSERT, UPDATE or DELETE");
	if ((event != 0 && trigdata->tg_oldtable == NULL) ||
		(event != 2 && trigdata->tg_newtable == NULL))
		elog(ERROR, "inv_stock_summary_trigger: transition tables missing");

	inv_spi_connect();
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");

	if (apply_plans[event] == NULL)
	{
		const char *deltas[3] = {insert_deltas, update_deltas, delete_deltas};

		apply_plans[event] = inv_spi_prepare_keep(psprintf(apply_fmt,
														   deltas[event]),
												  0, NULL);
	}
	if (inv_spi_exec_plan(apply_plans[event], NULL, NULL, false,
						  SPI_OK_SELECT) == 1)
		ids = inv_spi_getdatum(0, 1, &isnull);

	if (!isnull)
	{
		if (recompute_plan == NULL)
		{
			Oid			types[1] = {INT8ARRAYOID};

			recompute_plan = inv_spi_prepare_keep(recompute_sql, 1, types);
		}
		/* a new statement: a snapshot taken after our row locks */
		inv_spi_exec_plan(recompute_plan, &ids, &isnull, false,
						  SPI_OK_UPDATE);
	}
	inv_spi_finish();

	return PointerGetDatum(NULL);
}
