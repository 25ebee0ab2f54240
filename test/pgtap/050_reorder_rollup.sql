-- Reorder: the daily usage rollup under partition moves and archival,
-- and the errors of the reorder functions.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(27);
SET LOCAL TimeZone = 'UTC';

INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('reorder-tap', 'Reorder TAP', 'Europe/Berlin');
SELECT org_id AS org FROM inventory.organizations
WHERE code = 'reorder-tap' \gset
INSERT INTO inventory.locations (org_id, code, name)
VALUES (:org, 'W1', 'Warehouse');
INSERT INTO inventory.products (org_id, sku, name)
VALUES (:org, 'RT-1', 'Rollup test');
SELECT product_id AS prod FROM inventory.products
WHERE org_id = :org AND sku = 'RT-1' \gset
SELECT location_id AS loc FROM inventory.locations
WHERE org_id = :org AND code = 'W1' \gset

-- January 2031 has a partition; February rows land in the default one
CREATE TABLE inventory.transactions_rt_2031_01
    PARTITION OF inventory.transactions
    FOR VALUES FROM ('2031-01-01 00:00+00') TO ('2031-02-01 00:00+00');

SELECT inventory.receive(:prod, :loc, 1000, 'RT-PO-1',
                         '2031-01-01 06:00+00') AS lot \gset
\o /dev/null
SELECT inventory.record_movement(:lot, 'shipment', g, 'RT-SO-' || g,
           '2031-01-02 10:00+00'::timestamptz + g * interval '7 hours')
FROM generate_series(1, 12) g;
SELECT inventory.record_movement(:lot, 'return', 2, 'RT-RMA-1',
                                 '2031-02-03 10:00+00');
SELECT inventory.record_movement(:lot, 'consumption', 5, 'RT-USE-1',
                                 '2031-02-04 22:30+00');
\o

CREATE TEMP TABLE rollup_before AS
SELECT product_id, location_id, day, demand, returned, lines
FROM inventory.daily_usage WHERE product_id = :prod;

SELECT results_eq(
    $$SELECT day, demand, returned, lines FROM inventory.daily_usage
      WHERE product_id = $$ || :prod || $$ ORDER BY day$$,
    $$VALUES ('2031-01-02'::date, 1.0000::numeric, 0::numeric, 1),
             ('2031-01-03', 14.0000, 0, 4), ('2031-01-04', 21.0000, 0, 3),
             ('2031-01-05', 42.0000, 0, 4),
             ('2031-02-03', 0, 2.0000, 0), ('2031-02-04', 5.0000, 0, 1)$$,
    'rollup: local Berlin days, demand positive, returns apart');

-- default-partition rescue: rows leave the default partition and are
-- inserted straight into a new partition with their original txn_id
CREATE TEMP TABLE moved AS
SELECT * FROM inventory.transactions_default WHERE product_id = :prod;
DELETE FROM inventory.transactions_default WHERE product_id = :prod;
CREATE TABLE inventory.transactions_rt_2031_02
    PARTITION OF inventory.transactions
    FOR VALUES FROM ('2031-02-01 00:00+00') TO ('2031-03-01 00:00+00');
INSERT INTO inventory.transactions_rt_2031_02 OVERRIDING SYSTEM VALUE
SELECT * FROM moved;

SELECT is((SELECT count(*) FROM inventory.transactions_rt_2031_02),
          2::bigint, 'the February rows were moved');
SELECT results_eq(
    $$SELECT * FROM inventory.daily_usage WHERE product_id = $$ || :prod
        || $$ ORDER BY day$$,
    'SELECT * FROM rollup_before ORDER BY day',
    'rollup unchanged by a move into a partition');

-- archival, row by row: February goes to the archive in a batch
INSERT INTO inventory.transactions_archive
SELECT * FROM inventory.transactions_rt_2031_02;
DELETE FROM inventory.transactions_rt_2031_02;
-- archival as metadata: January is detached and attached to the archive
ALTER TABLE inventory.transactions DETACH PARTITION
    inventory.transactions_rt_2031_01;
ALTER TABLE inventory.transactions_archive ATTACH PARTITION
    inventory.transactions_rt_2031_01
    FOR VALUES FROM ('2031-01-01 00:00+00') TO ('2031-02-01 00:00+00');

SELECT is((SELECT count(*) FROM inventory.transactions
           WHERE product_id = :prod), 0::bigint,
          'nothing of the product left in the hot ledger');
SELECT results_eq(
    $$SELECT * FROM inventory.daily_usage WHERE product_id = $$ || :prod
        || $$ ORDER BY day$$,
    'SELECT * FROM rollup_before ORDER BY day',
    'rollup unchanged by archival');
SELECT is_empty(
    $$SELECT * FROM inventory.check_daily_usage($$ || :org
        || $$, '2031-01-01', '2031-03-31')$$,
    'rollup agrees with the ledger, hot and archive');
SELECT is(inventory.rebuild_daily_usage(:org, '2031-01-01', '2031-03-31'),
          6::bigint, 'rebuild reads the archive');
SELECT results_eq(
    $$SELECT * FROM inventory.daily_usage WHERE product_id = $$ || :prod
        || $$ ORDER BY day$$,
    'SELECT * FROM rollup_before ORDER BY day',
    'rollup after the rebuild equals the rollup kept by the trigger');
SELECT is(
    (SELECT mean_daily_usage
     FROM inventory.analyze_reorder(:org, '2031-01-06', 5)),
    15.6000::numeric, 'analysis still sees archived months');

-- errors
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, %L, 0)', :org,
           '2031-01-06'),
    '22023', 'window must be between 1 and 3660 days',
    'a window of zero days is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, %L, -7)', :org,
           '2031-01-06'),
    '22023', 'window must be between 1 and 3660 days',
    'a negative window is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, %L, 30, 1)', :org,
           '2031-01-06'),
    '22023', 'service level must be between 0 and 1, exclusive',
    'a service level of 1 is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, %L, 30, 0)', :org,
           '2031-01-06'),
    '22023', 'service level must be between 0 and 1, exclusive',
    'a service level of 0 is refused');
SELECT throws_ok(
    'SELECT inventory.service_level_z(1.5)',
    '22023', 'service level must be between 0 and 1, exclusive',
    'service_level_z refuses a level above 1');
SELECT throws_ok(
    'SELECT * FROM inventory.analyze_reorder(-1)',
    '42704', 'organization -1 does not exist',
    'an unknown organisation is refused');
SELECT throws_ok(
    'SELECT * FROM inventory.analyze_reorder(NULL)',
    '22004', 'organization, window, service level and the boolean options must not be null',
    'a NULL organisation is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, p_window_days => NULL)',
           :org),
    '22004', 'organization, window, service level and the boolean options must not be null',
    'a NULL window is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, p_holding_cost_rate => 0.2)',
           :org),
    '22023', 'holding cost rate and order cost must be given together',
    'a holding cost without an order cost is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, p_holding_cost_rate => 0.2, p_order_cost => -1)',
           :org),
    '22023', 'order cost must be positive',
    'a negative order cost is refused');
SELECT throws_ok(
    format('SELECT * FROM inventory.analyze_reorder(%s, p_holding_cost_rate => 0, p_order_cost => 10)',
           :org),
    '22023', 'holding cost rate must be positive',
    'a zero holding cost rate is refused');
SELECT throws_ok(
    'SELECT inventory.rebuild_daily_usage(NULL, NULL, NULL)',
    '22004', 'organization, first day and last day must not be null',
    'rebuild refuses NULLs');
SELECT throws_ok(
    format('SELECT inventory.rebuild_daily_usage(%s, %L, %L)', :org,
           '2031-02-01', '2031-01-01'),
    '22023', 'last day must not be before first day',
    'rebuild refuses a reversed range');
SELECT throws_ok(
    $$SELECT inventory.rebuild_daily_usage(-1, '2031-01-01', '2031-01-31')$$,
    '42704', 'organization -1 does not exist',
    'rebuild refuses an unknown organisation');
SELECT throws_ok(
    $$SELECT * FROM inventory.check_daily_usage(-1, '2031-01-01', '2031-01-31')$$,
    '42704', 'organization -1 does not exist',
    'check refuses an unknown organisation');
SELECT results_eq(
    $$SELECT * FROM inventory.daily_usage WHERE product_id = $$ || :prod
        || $$ ORDER BY day$$,
    'SELECT * FROM rollup_before ORDER BY day',
    'refused calls changed nothing');

-- z: Acklam's approximation refined by one Halley step
SELECT ok(abs(inventory.service_level_z(0.95) - 1.6448536269514722) < 1e-12,
          'z(0.95) to 12 decimals');
SELECT ok(abs(inventory.service_level_z(0.001) + 3.090232306167813) < 1e-12,
          'z(0.001), lower tail, to 12 decimals');

SELECT * FROM finish();
ROLLBACK;
