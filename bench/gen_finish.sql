/*
 * bench/gen_finish.sql: after every month of bench/gen.sql's history is
 * in (bench/run runs bench.gen_month(m) for m = 0..35 in parallel
 * sessions), applies to the lots what the ledger's trigger would have,
 * rebuilds the stock summaries from the lots and verifies that the
 * derived tables are what the triggers would keep.
 */
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';
\timing on

SET session_replication_role = replica;
UPDATE inventory.lots l
SET qty_on_hand = d.on_hand, last_movement_at = d.last_at
FROM (SELECT lot_id, sum(delta) AS on_hand, max(last_at) AS last_at
      FROM bench.lot_delta GROUP BY lot_id) d
WHERE l.lot_id = d.lot_id;
RESET session_replication_role;
SELECT inventory.rebuild_stock_summary() AS stock_summary_rows;
SELECT inventory.refresh_summary(false) IS NOT NULL AS summary_refreshed;
ANALYZE;

/*
 * Verify that the derived tables are what the triggers would keep: the
 * rollup against the ledger (check_daily_usage) for the big month and
 * the last one, every reference claimed, a sample of lots against the
 * sum of their ledger rows, the stock summary against the lots.
 */
DO $$
DECLARE
    v bench.params%ROWTYPE;
    n bigint;
BEGIN
    SELECT * INTO v FROM bench.params;
    SELECT count(*) INTO n
    FROM (SELECT * FROM inventory.check_daily_usage(v.org_id, v.first_month,
              (v.first_month + interval '1 month - 1 day')::date)
          UNION ALL
          SELECT * FROM inventory.check_daily_usage(v.org_id, v.last_month,
              (v.last_month + interval '1 month - 1 day')::date)) c;
    IF n <> 0 THEN
        RAISE EXCEPTION 'bench data: daily_usage differs on % rows', n;
    END IF;
    IF (SELECT count(*) FROM inventory.transactions)
       <> (SELECT count(*) FROM inventory.transaction_refs) THEN
        RAISE EXCEPTION 'bench data: references not all claimed';
    END IF;
    SELECT count(*) INTO n
    FROM (SELECT lot_id FROM inventory.lots ORDER BY lot_id LIMIT 200) s
    JOIN inventory.lots l USING (lot_id)
    WHERE l.qty_on_hand <> (SELECT coalesce(sum(t.quantity), 0)
                            FROM inventory.transactions t
                            WHERE t.lot_id = l.lot_id);
    IF n <> 0 THEN
        RAISE EXCEPTION 'bench data: % lots differ from their ledger rows', n;
    END IF;
    SELECT count(*) INTO n FROM inventory.lots WHERE qty_on_hand < 0;
    IF n <> 0 THEN
        RAISE EXCEPTION 'bench data: % lots below zero', n;
    END IF;
    SELECT count(*) INTO n FROM inventory.check_stock_summary();
    IF n <> 0 THEN
        RAISE EXCEPTION 'bench data: stock_summary differs on % rows', n;
    END IF;
END;
$$;

/*
 * VACUUM (hint bits, visibility map) only of the months the rows read or
 * move (1..9) and of the small tables, as a long-lived ledger's old
 * months would be: vacuuming all 36 months would double the load time
 * for nothing the rows measure.
 */
VACUUM inventory.lots, inventory.products, inventory.locations,
    inventory.stock_summary, inventory.daily_usage;
SELECT format('VACUUM %s', bench.month_partition(m))
FROM generate_series(1, 9) m
\gexec
