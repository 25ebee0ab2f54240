-- Reorder analysis: daily usage rollup and analyze_reorder on a small ledger.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY terse

-- a shop in New York: its days are New York days
INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('shop', 'Shop', 'America/New_York');
SELECT org_id AS org FROM inventory.organizations WHERE code = 'shop' \gset
INSERT INTO inventory.locations (org_id, code, name)
VALUES (:org, 'MAIN', 'Main'), (:org, 'STORE', 'Store');
SELECT location_id AS main FROM inventory.locations WHERE code = 'MAIN' \gset
SELECT location_id AS store FROM inventory.locations WHERE code = 'STORE' \gset
INSERT INTO inventory.products
    (org_id, sku, name, category, reorder_point, lead_time_days,
     pack_multiple, unit_cost)
VALUES (:org, 'A', 'Busy, sold some days', 'gifts', NULL, 5, 12, 2),
       (:org, 'B', 'Late sale, New York', 'gifts', NULL, 7, 1, NULL),
       (:org, 'C', 'Late sale, Tokyo session', 'gifts', NULL, 7, 1, NULL),
       (:org, 'D', 'Never sold', 'tools', NULL, 7, 1, NULL),
       (:org, 'E', 'Lead time zero, two places', 'tools', NULL, 0, 1, NULL),
       (:org, 'F', 'Stored reorder point', 'tools', 50, 3, 10, NULL);

-- stock: one lot per product (two for E)
SELECT p.sku, inventory.receive(p.product_id, :main, 100, 'PO-' || p.sku,
                                '2024-02-20 12:00 America/New_York') AS lot
FROM inventory.products p ORDER BY p.sku;
SELECT inventory.receive(p.product_id, :store, 40, 'PO-E2',
                         '2024-02-20 12:00 America/New_York') AS lot_e2
FROM inventory.products p WHERE p.sku = 'E' \gset
SELECT l.lot_id AS lot_a FROM inventory.lots l JOIN inventory.products p
USING (product_id) WHERE p.sku = 'A' \gset
SELECT l.lot_id AS lot_b FROM inventory.lots l JOIN inventory.products p
USING (product_id) WHERE p.sku = 'B' \gset
SELECT l.lot_id AS lot_c FROM inventory.lots l JOIN inventory.products p
USING (product_id) WHERE p.sku = 'C' \gset
SELECT l.lot_id AS lot_e FROM inventory.lots l JOIN inventory.products p
USING (product_id) WHERE p.sku = 'E' AND l.location_id = :main \gset
SELECT l.lot_id AS lot_f FROM inventory.lots l JOIN inventory.products p
USING (product_id) WHERE p.sku = 'F' \gset

-- A: 90 units in 6 lines on 3 of the 10 days 2024-03-01..03-10
SELECT inventory.record_movement(:lot_a, 'shipment', q, 'SO-A-' || n,
                                 (d || ' 10:00 America/New_York')::timestamptz)
FROM (VALUES (1, '2024-03-01', 10), (2, '2024-03-01', 20),
             (3, '2024-03-04', 30), (4, '2024-03-05', 15),
             (5, '2024-03-05', 5), (6, '2024-03-05', 10)) v(n, d, q)
ORDER BY n;
-- a return on a later day, and movements that are never demand
SELECT inventory.record_movement(:lot_a, 'return', 9, 'RMA-A-1',
                                 '2024-03-08 10:00 America/New_York');
SELECT inventory.record_movement(:lot_a, 'adjustment', -3, 'ADJ-A-1',
                                 '2024-03-06 10:00 America/New_York');
SELECT inventory.record_movement(:lot_a, 'transfer', -2, 'TRF-A-1',
                                 '2024-03-07 10:00 America/New_York');
-- outside the window: the day of as_of, and before the first day
SELECT inventory.record_movement(:lot_a, 'shipment', 1, 'SO-A-late',
                                 '2024-03-11 00:30 America/New_York');
SELECT inventory.record_movement(:lot_a, 'shipment', 1, 'SO-A-early',
                                 '2024-02-29 23:30 America/New_York');

-- B and C: 7 units at 23:30 New York time on 2024-03-10, which is already
-- 2024-03-11 in UTC and in Tokyo; written under two session zones
SET TimeZone = 'UTC';
SELECT inventory.record_movement(:lot_b, 'shipment', 7, 'SO-B-1',
                                 '2024-03-11 03:30');
SET TimeZone = 'Asia/Tokyo';
SELECT inventory.record_movement(:lot_c, 'shipment', 7, 'SO-C-1',
                                 '2024-03-11 12:30');
SET TimeZone = 'UTC';

-- E: consumption at two places; F: a few sales
SELECT inventory.record_movement(:lot_e, 'consumption', 4, 'USE-E-1',
                                 '2024-03-02 09:00 America/New_York');
SELECT inventory.record_movement(:lot_e2, 'shipment', 6, 'SO-E-2',
                                 '2024-03-02 15:00 America/New_York');
SELECT inventory.record_movement(:lot_f, 'shipment', 80, 'SO-F-1',
                                 '2024-03-03 15:00 America/New_York');

-- the rollup: local days, demand positive, returns apart
SELECT p.sku, l.code, u.day, u.demand, u.returned, u.lines
FROM inventory.daily_usage u
JOIN inventory.products p USING (product_id)
JOIN inventory.locations l USING (location_id)
ORDER BY p.sku, l.code, u.day;

-- the same under another session zone
SET TimeZone = 'Asia/Tokyo';
SELECT p.sku, u.day, u.demand FROM inventory.daily_usage u
JOIN inventory.products p USING (product_id)
WHERE p.sku IN ('B', 'C') ORDER BY p.sku;
SET TimeZone = 'UTC';

-- the three averages of A over 2024-03-01..03-10: per line, per trading
-- day, per calendar day (the analysis' figure)
SELECT round(sum(u.demand) / sum(u.lines), 4) AS per_line,
       round(sum(u.demand) / count(*) FILTER (WHERE u.lines > 0), 4)
           AS per_trading_day,
       round(sum(u.demand) / 10, 4) AS per_calendar_day
FROM inventory.daily_usage u JOIN inventory.products p USING (product_id)
WHERE p.sku = 'A' AND u.day BETWEEN '2024-03-01' AND '2024-03-10';

-- the analysis as of 2024-03-11: window 2024-03-01..03-10
SELECT sku, location_id, on_hand, allocated, on_order, available,
       reorder_point, mean_daily_usage, stddev_daily_usage, days_of_stock,
       safety_stock, computed_reorder_point, suggested_order_qty
FROM inventory.analyze_reorder(:org, '2024-03-11', 10)
ORDER BY sku;

-- returns netted on the day they came back
SELECT sku, mean_daily_usage, stddev_daily_usage
FROM inventory.analyze_reorder(:org, '2024-03-11', 10,
                               p_net_returns => true)
WHERE sku = 'A';

-- more returns than demand (03-08..03-10: only the return of 9): the
-- net mean is negative, the computed reorder point is the safety stock
-- alone, never below it
SELECT sku, mean_daily_usage, days_of_stock,
       computed_reorder_point = safety_stock AS rop_is_safety_stock
FROM inventory.analyze_reorder(:org, '2024-03-11', 3,
                               p_net_returns => true)
WHERE sku = 'A';

-- the 23:30 sales under two session zones: the same local day
SET TimeZone = 'Asia/Tokyo';
SELECT sku, mean_daily_usage
FROM inventory.analyze_reorder(:org, '2024-03-11', 10)
WHERE sku IN ('B', 'C') ORDER BY sku;
SET TimeZone = 'America/Los_Angeles';
SELECT sku, mean_daily_usage
FROM inventory.analyze_reorder(:org, '2024-03-11', 10)
WHERE sku IN ('B', 'C') ORDER BY sku;
SET TimeZone = 'UTC';
-- a window ending the day before: the late sales are outside it
SELECT sku, mean_daily_usage
FROM inventory.analyze_reorder(:org, '2024-03-10', 9)
WHERE sku IN ('B', 'C') ORDER BY sku;

-- per location, only what needs an order, one category
SELECT p.sku, l.code, r.on_hand, r.mean_daily_usage, r.suggested_order_qty
FROM inventory.analyze_reorder(:org, '2024-03-11', 10,
                               p_by_location => true) r
JOIN inventory.products p USING (product_id)
JOIN inventory.locations l ON l.location_id = r.location_id
ORDER BY p.sku, l.code;
SELECT sku, suggested_order_qty
FROM inventory.analyze_reorder(:org, '2024-03-11', 10, p_only_below => true)
ORDER BY sku;
SELECT sku FROM inventory.analyze_reorder(:org, '2024-03-11', 10,
                                          p_category => 'tools')
ORDER BY sku;

-- economic order quantity: 25 % a year of the unit cost, 50 an order
SELECT sku, suggested_order_qty
FROM inventory.analyze_reorder(:org, '2024-03-11', 10,
                               p_holding_cost_rate => 0.25,
                               p_order_cost => 50)
WHERE sku IN ('A', 'F') ORDER BY sku;

-- a higher service level, a longer window
SELECT sku, safety_stock, computed_reorder_point
FROM inventory.analyze_reorder(:org, '2024-03-11', 10, 0.99)
WHERE sku = 'A';
SELECT sku, mean_daily_usage
FROM inventory.analyze_reorder(:org, '2024-03-11', 40)
WHERE sku = 'A';

-- z for common service levels
SELECT p, round(inventory.service_level_z(p)::numeric, 6) AS z
FROM (VALUES (0.5), (0.9), (0.95), (0.99), (0.999), (0.01)) v(p)
ORDER BY p;

-- rollup and ledger agree; a rebuild changes nothing
SELECT count(*) AS mismatches
FROM inventory.check_daily_usage(:org, '2024-01-01', '2024-12-31');
SELECT inventory.rebuild_daily_usage(:org, '2024-01-01', '2024-12-31');
SELECT count(*) AS mismatches
FROM inventory.check_daily_usage(:org, '2024-01-01', '2024-12-31');

-- damage is found and repaired by a rebuild of the range
UPDATE inventory.daily_usage SET demand = demand + 1
WHERE day = '2024-03-04';
DELETE FROM inventory.daily_usage WHERE day = '2024-03-10';
SELECT p.sku, c.day, c.rollup_demand, c.ledger_demand, c.rollup_lines,
       c.ledger_lines
FROM inventory.check_daily_usage(:org, '2024-03-01', '2024-03-10') c
JOIN inventory.products p USING (product_id)
ORDER BY p.sku, c.day;
SELECT inventory.rebuild_daily_usage(:org, '2024-03-04', '2024-03-10');
SELECT count(*) AS mismatches
FROM inventory.check_daily_usage(:org, '2024-01-01', '2024-12-31');

-- a bulk insert: one statement, one upsert
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT '2024-04-01 12:00 America/New_York'::timestamptz
           + (g % 3) * interval '1 day',
       :org, l.product_id, l.location_id, l.lot_id, 'shipment', -1,
       'BULK-' || g
FROM inventory.lots l, generate_series(1, 9) g
WHERE l.lot_id = :lot_a;
SELECT day, demand, lines FROM inventory.daily_usage
WHERE day >= '2024-04-01' ORDER BY day;
SELECT count(*) AS mismatches
FROM inventory.check_daily_usage(:org, '2024-01-01', '2024-12-31');
