-- Loader on the real UCI Online Retail data (December 2010 file).
-- Skips when ../shared/data is absent; bin/test passes its path as datadir.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(8);

\set datafile :datadir '/online_retail_uci_2010-12.csv'
SELECT (pg_catalog.pg_stat_file(:'datafile', true)).size IS NOT NULL AS have_data
\gset

\if :have_data
COPY inventory.retail_import_raw (invoice_no, stock_code, description,
    quantity, invoice_date, unit_price, customer_ref, country)
FROM :'datafile' WITH (FORMAT csv, HEADER true);

CREATE TEMP TABLE first_load AS
SELECT * FROM inventory.import_online_retail();

SELECT results_eq(
    'SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected FROM first_load',
    'VALUES (42481::bigint, 42481::bigint, 0::bigint, 0::bigint)',
    'every row of December 2010 is loaded');
SELECT results_eq(
    'SELECT products_created, locations_created, lots_created FROM first_load',
    'VALUES (2762::bigint, 24::bigint, 4510::bigint)',
    'stock codes, countries and opening lots');
SELECT is(
    (SELECT count(*) FROM inventory.lots WHERE qty_on_hand < 0), 0::bigint,
    'no lot goes below zero');
SELECT is(
    (SELECT count(*) FROM inventory.lots l
     JOIN (SELECT lot_id, sum(quantity) AS q FROM inventory.transactions
           GROUP BY lot_id) s USING (lot_id)
     WHERE l.qty_on_hand <> s.q), 0::bigint,
    'on-hand of every lot equals the sum of its ledger rows');
SELECT results_eq(
    $$SELECT txn_type, count(*) FROM inventory.transactions
      GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('adjustment', 70::bigint), ('receipt', 4510::bigint),
             ('return', 728::bigint), ('shipment', 41683::bigint)$$,
    'sales, cancellations and write-offs mapped to movement types');
SELECT is(
    (SELECT min(created_at) FROM inventory.transactions
     WHERE txn_type = 'shipment'),
    '2010-12-01 08:26:00 Europe/London'::timestamptz,
    'invoice dates read as London local time');

COPY inventory.retail_import_raw (invoice_no, stock_code, description,
    quantity, invoice_date, unit_price, customer_ref, country)
FROM :'datafile' WITH (FORMAT csv, HEADER true);
SELECT results_eq(
    'SELECT rows_loaded, rows_duplicate FROM inventory.import_online_retail()',
    'VALUES (0::bigint, 42481::bigint)',
    'a second load of the same file records nothing twice');
SELECT is((SELECT count(*) FROM inventory.transactions), 46991::bigint,
    'ledger unchanged by the second load');
\else
SELECT skip('real data not found at ' || :'datafile', 8);
\endif

SELECT * FROM finish();
ROLLBACK;
