-- Step 15: turn the staged CSV rows into products, locations, lots and
-- ledger movements, and report what was loaded and what was rejected.
\echo
\echo '== Load =='
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected,
       products_created AS products, locations_created AS locations,
       lots_created AS opening_lots
FROM inventory.import_online_retail(:'org', 'Europe/London');

SELECT reason, count(*) AS rejected_rows
FROM inventory.retail_import_rejects
GROUP BY reason ORDER BY count(*) DESC, reason;

SELECT txn_type, count(*) AS ledger_rows, sum(quantity) AS net_quantity
FROM inventory.transactions
GROUP BY txn_type ORDER BY txn_type;

SELECT count(*) AS lots, sum(qty_on_hand) AS units_on_hand,
       count(*) FILTER (WHERE qty_on_hand < 0) AS negative_lots
FROM inventory.lots;
