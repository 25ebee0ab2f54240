-- Summaries: the materialized view, its refresh, and the incremental
-- stock_summary kept by triggers on lots, checked against a recomputation.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
\set VERBOSITY terse
SET TimeZone = 'UTC';

-- a small load through the loader: 3 products, 2 countries
COPY inventory.retail_import_raw (invoice_no, stock_code, description,
    quantity, invoice_date, unit_price, customer_ref, country)
FROM stdin WITH (FORMAT csv);
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,P00001,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,P00001,United Kingdom
536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,10,2010-12-02 09:05:00,2.55,P00002,France
536367,85123A,WHITE HANGING HEART T-LIGHT HOLDER,4,2010-12-03 10:00:00,2.40,,United Kingdom
C536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-3,2010-12-04 11:00:00,2.55,P00001,United Kingdom
536369,71053,damaged,-2,2010-12-05 12:00:00,0,,United Kingdom
536370,22222,PAPER CHAIN,12,2011-01-04 09:00:00,2.55,P00003,France
\.
SELECT rows_loaded, lots_created FROM inventory.import_online_retail();

-- the incremental summary is current at once
SELECT p.sku, s.on_hand, s.allocated, s.on_order, s.available,
       s.locations_with_stock, s.last_movement_at
FROM inventory.stock_summary s
JOIN inventory.products p USING (product_id)
ORDER BY p.sku;
SELECT count(*) AS mismatches_after_load FROM inventory.check_stock_summary();

-- the materialized view shows what it held at the last refresh
SELECT count(*) AS rows_before_refresh FROM inventory.inventory_summary;
SELECT inventory.refresh_summary() IS NOT NULL AS refreshed;
SELECT inventory.refresh_summary(false) >= interval '0' AS refreshed_blocking;
SELECT sku, on_hand, allocated, available, locations_with_stock
FROM inventory.inventory_summary
ORDER BY sku;
-- both summaries agree
SELECT count(*) AS views_disagree
FROM inventory.inventory_summary v
FULL JOIN inventory.stock_summary s USING (product_id)
WHERE (v.on_hand, v.allocated, v.on_order, v.available,
       v.locations_with_stock, v.last_movement_at)
      IS DISTINCT FROM
      (s.on_hand, s.allocated, s.on_order, s.available,
       s.locations_with_stock, s.last_movement_at);

-- allocation (what the allocator does to lots) keeps it current
UPDATE inventory.lots SET qty_allocated = qty_on_hand
WHERE lot_id IN (SELECT lot_id FROM inventory.lots
                 WHERE qty_on_hand > 0 ORDER BY lot_id LIMIT 2);
UPDATE inventory.lots SET qty_allocated = 1
WHERE lot_id = (SELECT max(lot_id) FROM inventory.lots);
SELECT p.sku, s.on_hand, s.allocated, s.available, s.locations_with_stock
FROM inventory.stock_summary s
JOIN inventory.products p USING (product_id)
ORDER BY p.sku;
SELECT count(*) AS mismatches_after_allocation
FROM inventory.check_stock_summary();

-- a quarantined lot is on hand but not available
UPDATE inventory.lots SET status = 'quarantine'
WHERE lot_id = (SELECT max(lot_id) FROM inventory.lots);
SELECT p.sku, s.on_hand, s.allocated, s.available
FROM inventory.stock_summary s
JOIN inventory.products p USING (product_id)
WHERE p.sku = '22222';

-- movements through the ledger, several products in one statement
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT '2011-01-10 12:00+00', p.org_id, l.product_id, l.location_id,
       l.lot_id, 'receipt', 5, 'summary-test:' || l.lot_id
FROM inventory.lots l JOIN inventory.products p USING (product_id);
SELECT count(*) AS mismatches_after_receipts
FROM inventory.check_stock_summary();
-- an update touching nothing summarised leaves the figures alone
UPDATE inventory.lots SET lot_code = lot_code || '-x';
SELECT count(*) AS mismatches_after_relabel
FROM inventory.check_stock_summary();

-- a new lot at a second location
SELECT inventory.receive(
    (SELECT product_id FROM inventory.products WHERE sku = '71053'),
    (SELECT location_id FROM inventory.locations WHERE code = 'France'),
    7, 'summary-test:new', '2011-01-11 00:00+00') IS NOT NULL AS received;
SELECT s.on_hand, s.locations_with_stock
FROM inventory.stock_summary s
JOIN inventory.products p USING (product_id)
WHERE p.sku = '71053';

-- damage and repair: check_stock_summary reports, rebuild repairs
UPDATE inventory.stock_summary SET on_hand = on_hand + 1
WHERE product_id = (SELECT min(product_id) FROM inventory.stock_summary);
DELETE FROM inventory.stock_summary
WHERE product_id = (SELECT max(product_id) FROM inventory.stock_summary);
INSERT INTO inventory.stock_summary (org_id, product_id) VALUES (1, 999999);
SELECT issue, summary_on_hand, actual_on_hand
FROM inventory.check_stock_summary() ORDER BY product_id;
-- the nightly job's check fails (so pg_cron marks the run failed)
DO $$
BEGIN
    PERFORM inventory.check_rollups();
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING '%: %', SQLSTATE, SQLERRM;
END;
$$;
SELECT inventory.rebuild_stock_summary() AS rows_rebuilt;
SELECT count(*) AS mismatches_after_rebuild
FROM inventory.check_stock_summary();
SELECT inventory.check_rollups() AS rollup_check_after_rebuild;

-- what deltas could get wrong; each step ends with the truth test
CREATE TEMP VIEW sv AS
SELECT p.sku, s.on_hand, s.allocated, s.on_order, s.available,
       s.locations_with_stock, s.last_movement_at
FROM inventory.stock_summary s
JOIN inventory.products p USING (product_id)
ORDER BY p.sku;
UPDATE inventory.lots SET qty_allocated = 0;
-- a lot moving to another location (85123A had stock at both)
UPDATE inventory.lots SET location_id =
       (SELECT location_id FROM inventory.locations WHERE code = 'France')
WHERE product_id = (SELECT product_id FROM inventory.products
                    WHERE sku = '85123A');
SELECT * FROM sv WHERE sku = '85123A';
SELECT count(*) AS mismatches_after_location_move
FROM inventory.check_stock_summary();
-- a lot moving to another product, carrying the latest movement away
UPDATE inventory.lots
SET product_id = (SELECT product_id FROM inventory.products
                  WHERE sku = '22222')
WHERE lot_id = (SELECT max(lot_id) FROM inventory.lots
                WHERE product_id = (SELECT product_id
                                    FROM inventory.products
                                    WHERE sku = '71053'));
SELECT * FROM sv;
SELECT count(*) AS mismatches_after_product_move
FROM inventory.check_stock_summary();
-- on-hand crossing zero downwards, then upwards
UPDATE inventory.lots SET qty_on_hand = 0
WHERE product_id = (SELECT product_id FROM inventory.products
                    WHERE sku = '22222')
  AND lot_id = (SELECT min(lot_id) FROM inventory.lots
                WHERE product_id = (SELECT product_id
                                    FROM inventory.products
                                    WHERE sku = '22222'));
SELECT * FROM sv WHERE sku = '22222';
SELECT count(*) AS mismatches_after_crossing_down
FROM inventory.check_stock_summary();
UPDATE inventory.lots SET qty_on_hand = 3
WHERE qty_on_hand = 0;
SELECT * FROM sv WHERE sku = '22222';
SELECT count(*) AS mismatches_after_crossing_up
FROM inventory.check_stock_summary();
-- negative on-hand (an adjustment below zero) and back
UPDATE inventory.lots SET qty_on_hand = -2
WHERE lot_id = (SELECT min(lot_id) FROM inventory.lots);
SELECT count(*) AS mismatches_after_negative
FROM inventory.check_stock_summary();
UPDATE inventory.lots SET qty_on_hand = 4
WHERE lot_id = (SELECT min(lot_id) FROM inventory.lots);
-- status to and from 'available'
UPDATE inventory.lots SET status = 'blocked';
SELECT * FROM sv;
SELECT count(*) AS mismatches_after_block
FROM inventory.check_stock_summary();
UPDATE inventory.lots SET status = 'available', qty_allocated = 1;
SELECT * FROM sv;
SELECT count(*) AS mismatches_after_unblock
FROM inventory.check_stock_summary();
-- one UPDATE touching several products, on-hand, on-order and last
-- movement (some going back in time) at once
UPDATE inventory.lots
SET qty_on_hand = qty_on_hand + lot_id % 3,
    qty_on_order = lot_id % 2,
    last_movement_at = CASE WHEN lot_id % 2 = 0
                            THEN timestamptz '2011-03-01 00:00+00'
                            ELSE timestamptz '2010-01-01 00:00+00' END;
SELECT * FROM sv;
SELECT count(*) AS mismatches_after_multi_update
FROM inventory.check_stock_summary();
-- a lot inserted with stock, and one without a movement
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'NEW-1', 'New' FROM inventory.products LIMIT 1;
INSERT INTO inventory.lots (product_id, location_id, received_at,
                            qty_on_hand, last_movement_at)
SELECT (SELECT product_id FROM inventory.products WHERE sku = 'NEW-1'),
       location_id, '2011-04-01 00:00+00', 5, '2011-04-01 00:00+00'
FROM inventory.locations;
INSERT INTO inventory.lots (product_id, location_id, received_at)
SELECT product_id, (SELECT min(location_id) FROM inventory.locations),
       '2011-04-02 00:00+00'
FROM inventory.products WHERE sku = 'NEW-1';
SELECT * FROM sv WHERE sku = 'NEW-1';
SELECT count(*) AS mismatches_after_insert
FROM inventory.check_stock_summary();
-- deleting one lot, then the last lots of the product
DELETE FROM inventory.lots
WHERE lot_id = (SELECT min(lot_id) FROM inventory.lots
                WHERE product_id = (SELECT product_id
                                    FROM inventory.products
                                    WHERE sku = 'NEW-1'));
SELECT * FROM sv WHERE sku = 'NEW-1';
SELECT count(*) AS mismatches_after_delete_one
FROM inventory.check_stock_summary();
DELETE FROM inventory.lots
WHERE product_id = (SELECT product_id FROM inventory.products
                    WHERE sku = 'NEW-1');
SELECT count(*) AS rows_of_product_without_lots
FROM sv WHERE sku = 'NEW-1';
SELECT count(*) AS mismatches_after_delete_last
FROM inventory.check_stock_summary();
-- moving every lot of a product away leaves no row behind
UPDATE inventory.lots
SET product_id = (SELECT product_id FROM inventory.products
                  WHERE sku = '85123A')
WHERE product_id = (SELECT product_id FROM inventory.products
                    WHERE sku = '71053');
SELECT * FROM sv;
SELECT count(*) AS mismatches_after_moving_all
FROM inventory.check_stock_summary();
DROP VIEW sv;

-- removing lots removes the rows of products left without lots
DELETE FROM inventory.allocations;
TRUNCATE inventory.lots CASCADE;
SELECT count(*) AS rows_after_truncate FROM inventory.stock_summary;

-- bad input
DO $$
BEGIN
    PERFORM inventory.refresh_summary(NULL);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING '%: %', SQLSTATE, SQLERRM;
END;
$$;
DO $$
BEGIN
    PERFORM inventory.check_rollups(0);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING '%: %', SQLSTATE, SQLERRM;
END;
$$;
