-- Step 30: archive the older half of the ledger (whole months as
-- metadata, the month holding the cutoff in committed batches), restore
-- the oldest archived month, and show that no row was lost or doubled.
\echo
\echo '== Archive =='
SET client_min_messages = warning;

-- the ledger is normally registered by step 20; register it here when
-- this step runs alone, and give the default partition's rows their months
SELECT NOT EXISTS (SELECT 1 FROM inventory.partition_policies
                   WHERE parent = 'inventory.transactions'::regclass)
       AS need_register \gset
\if :need_register
SELECT inventory.register_partitioned_table('inventory.transactions',
    'created_at', 'Europe/London', p_premake_months => 1,
    p_retention_action => 'archive',
    p_archive_parent => 'inventory.transactions_archive');
SELECT count(*) AS maintenance_actions
FROM inventory.run_maintenance('inventory.transactions', :'as_of');
\endif

-- the fingerprint of the whole ledger: rows and an order-independent
-- checksum, over hot and archived rows together
CREATE TEMP VIEW demo_fingerprint AS
SELECT count(*) AS ledger_rows,
       sum(hashtextextended(ROW(t.txn_id, t.created_at, t.org_id,
           t.product_id, t.location_id, t.lot_id, t.txn_type, t.quantity,
           t.unit_cost, t.reference, t.demand_ref, t.note)::text, 0))
           AS checksum,
       count(*) FILTER (WHERE t.archived) AS archived_rows,
       count(DISTINCT t.txn_id) = count(*) AS each_row_once
FROM inventory.transactions_all t;
CREATE TEMP TABLE demo_before AS SELECT * FROM demo_fingerprint;
CREATE TEMP TABLE demo_usage AS
SELECT sum(demand) AS demand, sum(lines) AS lines FROM inventory.daily_usage;

-- cutoff: the start of the day halfway through the data
SELECT date_trunc('day', min(created_at)
           + (:'as_of'::timestamptz - min(created_at)) / 2) AS cutoff
FROM inventory.transactions \gset
\echo cutoff: :cutoff

SELECT clock_timestamp() AS t0 \gset
SELECT inventory.archive_before('inventory.transactions', :'cutoff',
                                20000, p_now => :'as_of') AS rows_archived;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)
             * 1000) AS archive_ms \gset
\echo archive_before took :archive_ms ms

-- what each run did: whole months attached in constant time, batches
-- proportional to their rows
SELECT action, count(*) AS runs, sum(months) AS months,
       sum(rows_moved) AS rows, pg_size_pretty(sum(bytes)) AS size,
       round(sum(extract(epoch FROM duration)) * 1000, 1) AS total_ms,
       round(max(extract(epoch FROM duration)) * 1000, 1) AS slowest_ms
FROM inventory.archive_history
GROUP BY action ORDER BY action;

SELECT f.ledger_rows = b.ledger_rows AS same_rows,
       f.checksum = b.checksum AS same_checksum,
       f.each_row_once, f.archived_rows
FROM demo_fingerprint f, demo_before b;

-- restore the oldest archived month, then archive it again
SELECT min(lower_at) AS oldest
FROM inventory.list_partition_ranges('inventory.transactions_archive')
WHERE NOT is_default \gset
\if :{?oldest}
SELECT inventory.restore_month('inventory.transactions',
       (:'oldest'::timestamptz AT TIME ZONE 'Europe/London')::date)
       AS rows_restored;
SELECT f.ledger_rows = b.ledger_rows AS same_rows,
       f.checksum = b.checksum AS same_checksum,
       f.each_row_once, f.archived_rows
FROM demo_fingerprint f, demo_before b;
SELECT inventory.archive_before('inventory.transactions', :'cutoff',
                                20000, p_now => :'as_of') AS rows_archived_again;
\endif

SELECT f.ledger_rows = b.ledger_rows AS same_rows,
       f.checksum = b.checksum AS same_checksum,
       f.each_row_once, f.archived_rows,
       (SELECT sum(demand) FROM inventory.daily_usage) = u.demand
       AND (SELECT sum(lines) FROM inventory.daily_usage) = u.lines
           AS daily_usage_unchanged
FROM demo_fingerprint f, demo_before b, demo_usage u;
