-- Archival: whole months as metadata, partial months in verified
-- batches, rows of the default partition, restore; bad input refused.
SET client_min_messages = warning;
-- each test file starts from a fresh extension
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
SET TimeZone = 'UTC';
\set VERBOSITY terse
DROP TABLE IF EXISTS public.unmanaged, public.odd_archive, public.readings,
    public.readings_archive, public.events, public.events_archive;

INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('acme', 'Acme', 'UTC');
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'ABC-1', 'Widget' FROM inventory.organizations;
INSERT INTO inventory.locations (org_id, code, name)
SELECT org_id, 'MAIN', 'Main' FROM inventory.organizations;

-- months January to April 2024 have partitions; May goes to the default
CREATE TABLE inventory.transactions_p202401 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE inventory.transactions_p202402 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
CREATE TABLE inventory.transactions_p202403 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
CREATE TABLE inventory.transactions_p202404 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-04-01 00:00+00') TO ('2024-05-01 00:00+00');
-- the policy, as register_partitioned_table would record it
INSERT INTO inventory.partition_policies
    (parent, partition_column, column_type, time_zone, retention,
     retention_action, archive_parent)
VALUES ('inventory.transactions', 'created_at', 'timestamptz', 'UTC',
        '3 months', 'archive', 'inventory.transactions_archive');

SELECT inventory.receive(p.product_id, l.location_id, 100000, 'PO-0',
                         '2023-12-31 23:00+00') AS lot
FROM inventory.products p, inventory.locations l \gset
-- one shipment a little under every 6 hours from January to May, and a
-- return every 3 days: 600 + 50 rows
SELECT count(*) FILTER (WHERE inventory.record_movement(:lot, 'shipment',
           1 + g % 7, 'SO-' || g, '2024-01-01 01:00+00'::timestamptz
           + g * interval '5 hours 55 minutes')) AS shipments
FROM generate_series(0, 599) g;
SELECT count(*) FILTER (WHERE inventory.record_movement(:lot, 'return',
           1, 'RMA-' || g, '2024-01-02 12:00+00'::timestamptz
           + g * interval '3 days')) AS returns
FROM generate_series(0, 49) g;

-- the ledger's fingerprint: rows and an order-independent checksum over
-- hot and archived rows, and where they are
CREATE TEMP VIEW fingerprint AS
SELECT count(*) AS rows,
       sum(hashtextextended(ROW(t.txn_id, t.created_at, t.org_id,
           t.product_id, t.location_id, t.lot_id, t.txn_type, t.quantity,
           t.unit_cost, t.reference, t.demand_ref, t.note)::text, 0)) AS checksum,
       count(*) FILTER (WHERE t.archived) AS archived,
       count(DISTINCT t.txn_id) AS distinct_ids
FROM inventory.transactions_all t;
CREATE TEMP TABLE before AS SELECT * FROM fingerprint;
CREATE TEMP VIEW same AS
SELECT f.rows = b.rows AS same_rows, f.checksum = b.checksum AS same_checksum,
       f.rows = f.distinct_ids AS each_once, f.archived
FROM fingerprint f, before b;
CREATE TEMP TABLE usage_before AS SELECT * FROM inventory.daily_usage;
CREATE TEMP VIEW usage_same AS
SELECT NOT EXISTS (SELECT * FROM inventory.daily_usage
                   EXCEPT ALL SELECT * FROM usage_before)
   AND NOT EXISTS (SELECT * FROM usage_before
                   EXCEPT ALL SELECT * FROM inventory.daily_usage)
       AS usage_unchanged;
CREATE TEMP VIEW lot_stock AS
SELECT qty_on_hand FROM inventory.lots;
SELECT qty_on_hand AS stock_before FROM lot_stock \gset

SELECT rows, archived, rows = distinct_ids AS each_once FROM fingerprint;
SELECT tableoid::regclass AS partition, count(*)
FROM inventory.transactions GROUP BY 1 ORDER BY 1;

-- a whole month: metadata only
SELECT inventory.archive_partition('inventory.transactions_p202401', true);
SELECT * FROM same;
SELECT * FROM usage_same;
SELECT qty_on_hand = :stock_before AS stock_unchanged FROM lot_stock;
SELECT partition, is_default, lower_at, upper_at
FROM inventory.list_partition_ranges('inventory.transactions_archive');
SELECT partition, lower_at FROM inventory.list_partition_ranges('inventory.transactions');
-- the month kept its indexes, now children of the archive's
SELECT c.relname, i.inhparent::regclass AS parent_index
FROM pg_index x
JOIN pg_class c ON c.oid = x.indexrelid
LEFT JOIN pg_inherits i ON i.inhrelid = x.indexrelid
WHERE x.indrelid = 'inventory.transactions_p202401'::regclass
ORDER BY 1;
-- archived rows stay queryable, through the archive or transactions_all
SELECT tableoid::regclass AS partition, count(*)
FROM inventory.transactions_archive
WHERE created_at >= '2024-01-10' AND created_at < '2024-01-11'
GROUP BY 1;
SELECT archived, count(*) FROM inventory.transactions_all
WHERE created_at >= '2024-01-10' AND created_at < '2024-01-11'
GROUP BY 1;
SELECT action, relation, months, rows_moved, rows_exact, outcome
FROM inventory.archive_history ORDER BY run_id;

-- a mid-month cutoff: February whole, March up to the 10th in batches of
-- 20 (committed per batch by the procedure; one NOTICE per step)
SET client_min_messages = notice;
CALL inventory.archive_before_proc('inventory.transactions',
                                   '2024-03-10 00:00+00', 20);
SET client_min_messages = warning;
SELECT * FROM same;
SELECT * FROM usage_same;
SELECT qty_on_hand = :stock_before AS stock_unchanged FROM lot_stock;
SELECT count(*) AS march_hot_before_cutoff
FROM inventory.transactions
WHERE created_at < '2024-03-10';
SELECT min(created_at) AS oldest_hot FROM inventory.transactions;
SELECT parent, cutoff, state, steps, months_attached, rows_moved
FROM inventory.archive_progress;
SELECT action, relation, months, rows_moved, outcome
FROM inventory.archive_history WHERE run_id > 1 ORDER BY run_id;
-- a rerun has nothing left to do
SELECT * FROM inventory.archive_step('inventory.transactions',
                                     '2024-03-10 00:00+00', 20);

-- rows in the default partition (May has no partition) are archived by
-- batches into a May archive partition
SELECT count(*) AS default_rows FROM inventory.transactions_default;
SELECT inventory.archive_before('inventory.transactions',
                                '2024-05-20 00:00+00', 1000,
                                p_now => '2024-08-01 00:00+00');
SELECT * FROM same;
SELECT * FROM usage_same;
SELECT count(*) AS default_rows_left,
       min(created_at) >= '2024-05-20' AS only_after_cutoff
FROM inventory.transactions_default;
SELECT partition, lower_at, upper_at
FROM inventory.list_partition_ranges('inventory.transactions_archive');

-- restore: a whole month comes back as metadata, a batched one by rows
SELECT inventory.restore_month('inventory.transactions', '2024-01-01');
SELECT * FROM same;
SELECT * FROM usage_same;
SELECT inventory.restore_month('inventory.transactions', '2024-03-15');
SELECT * FROM same;
SELECT count(*) AS march_hot FROM inventory.transactions_p202403;
SELECT inventory.restore_month('inventory.transactions', '2024-05-01');
SELECT * FROM same;
SELECT tableoid::regclass AS partition, count(*)
FROM inventory.transactions GROUP BY 1 ORDER BY 1;
SELECT partition FROM inventory.list_partition_ranges('inventory.transactions_archive');
SELECT qty_on_hand = :stock_before AS stock_unchanged FROM lot_stock;
SELECT * FROM usage_same;
SELECT count(*) AS rollup_disagreements FROM inventory.check_daily_usage(1, '2023-12-01', '2024-06-30');
-- restored rows are still one record per reference
SELECT inventory.record_movement(:lot, 'shipment', 1, 'SO-5',
                                 '2024-06-01 00:00+00') AS recorded_again;

-- a date range inside a month (March 5 to 20) moves in batches of 7;
-- the rest of March stays hot; restore brings the range back
SELECT count(*) AS march_range_hot
FROM inventory.transactions
WHERE created_at >= '2024-03-05' AND created_at < '2024-03-20';
SELECT inventory.archive_before('inventory.transactions', '2024-03-20', 7,
                                p_now => '2024-08-01', p_from => '2024-03-05');
SELECT * FROM same;
SELECT count(*) FILTER (WHERE NOT archived) AS range_hot,
       count(*) FILTER (WHERE archived) AS range_archived
FROM inventory.transactions_all
WHERE created_at >= '2024-03-05' AND created_at < '2024-03-20';
SELECT count(*) FILTER (WHERE archived) AS rest_of_march_archived
FROM inventory.transactions_all
WHERE created_at >= '2024-03-01' AND created_at < '2024-04-01'
  AND NOT (created_at >= '2024-03-05' AND created_at < '2024-03-20');
SELECT inventory.restore_month('inventory.transactions', '2024-03-01');
SELECT * FROM same;
SELECT * FROM usage_same;

-- bad input is refused with its SQLSTATE and changes nothing
CREATE FUNCTION pg_temp.try(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;
CREATE TEMP TABLE before_bad AS SELECT * FROM fingerprint;
CREATE TEMP VIEW layout AS
SELECT string_agg(c.oid::regclass::text || '<' || i.inhparent::regclass::text,
                  ', ' ORDER BY c.oid::regclass::text) AS partitions
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN ('inventory.transactions'::regclass,
                      'inventory.transactions_archive'::regclass);
CREATE TEMP TABLE layout_before AS SELECT * FROM layout;
CREATE TABLE public.unmanaged (LIKE inventory.transactions)
    PARTITION BY RANGE (created_at);
CREATE TABLE public.unmanaged_p202401 PARTITION OF public.unmanaged
    FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE public.odd_archive (txn_id bigint, created_at timestamptz)
    PARTITION BY RANGE (created_at);

SELECT pg_temp.try($$SELECT inventory.archive_before('inventory.transactions',
    '2024-07-01', p_now => '2024-06-01')$$) AS future_cutoff;
SELECT pg_temp.try($$CALL inventory.archive_before_proc('inventory.transactions',
    '2024-07-01', p_now => '2024-06-01')$$) AS future_cutoff_proc;
SELECT pg_temp.try($$SELECT inventory.archive_before('inventory.transactions',
    now() + interval '1 minute')$$) ~ '^22023: cutoff .* is in the future$'
    AS future_cutoff_by_clock;
SELECT pg_temp.try($$SELECT inventory.archive_before('public.unmanaged',
    '2024-02-01')$$) AS unregistered;
SELECT pg_temp.try($$SELECT inventory.archive_partition('public.unmanaged_p202401')$$)
    AS unregistered_partition;
SELECT pg_temp.try($$SELECT inventory.archive_partition('inventory.transactions_default')$$)
    AS default_partition;
SELECT pg_temp.try($$SELECT inventory.archive_before('inventory.transactions',
    '2024-06-01', 0)$$) AS zero_batch;
SELECT pg_temp.try($$SELECT inventory.archive_before('inventory.transactions',
    '2024-03-01', p_from => '2024-03-01')$$) AS empty_range;
SELECT pg_temp.try($$SELECT inventory.archive_partition(NULL)$$) AS null_partition;
SELECT pg_temp.try($$SELECT inventory.restore_month('inventory.transactions',
    '2020-01-01')$$) AS not_archived;
SELECT pg_temp.try($$SELECT inventory.archive_partition_remote(
    'inventory.transactions_p202403', 'nowhere', 'archive.transactions')$$)
    AS unknown_server;
SELECT pg_temp.try($$SELECT inventory.restore_month_remote(
    'inventory.transactions', '2024-01-01', 'nowhere', 'archive.transactions')$$)
    AS unknown_server_restore;
SELECT pg_temp.try($$SELECT inventory.archive_partition_remote(
    'inventory.transactions_p202403', 'nowhere', 'a.b.c')$$)
    AS bad_remote_name;
SELECT pg_temp.try($$SELECT * FROM inventory.archive_statements(
    'inventory.transactions_p202403')$$) AS concurrent_with_default;
-- archival is the owner's (inventory_admin for the ledger), as
-- maintenance is: a writer may not
SET ROLE inventory_writer;
SELECT pg_temp.try($$SELECT inventory.archive_partition('inventory.transactions_p202403')$$)
    AS writer_refused;
RESET ROLE;
-- an archive of another shape
UPDATE inventory.partition_policies SET archive_parent = 'public.odd_archive'
WHERE parent = 'inventory.transactions'::regclass;
SELECT pg_temp.try($$SELECT inventory.archive_partition('inventory.transactions_p202403')$$)
    AS other_shape;
SELECT pg_temp.try($$SELECT inventory.archive_before('inventory.transactions',
    '2024-04-15')$$) AS other_shape_batch;
UPDATE inventory.partition_policies
SET archive_parent = 'inventory.transactions_archive'
WHERE parent = 'inventory.transactions'::regclass;
SELECT f.rows = b.rows AND f.checksum = b.checksum AND f.archived = b.archived
       AS ledger_unchanged
FROM fingerprint f, before_bad b;
SELECT l.partitions = b.partitions AS layout_unchanged
FROM layout l, layout_before b;
SELECT count(*) AS unmanaged_partitions FROM pg_inherits
WHERE inhparent = 'public.unmanaged'::regclass;
SELECT * FROM usage_same;

-- the concurrent path, for a registered table without a default
-- partition: each statement runs top-level (\gexec), the detach without
-- blocking writers of the parent
CREATE TABLE public.readings (
    reading_id bigint NOT NULL,
    taken_at timestamptz NOT NULL,
    value numeric NOT NULL
) PARTITION BY RANGE (taken_at);
CREATE TABLE public.readings_archive (LIKE public.readings)
    PARTITION BY RANGE (taken_at);
CREATE TABLE public.readings_p202401 PARTITION OF public.readings
    FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE public.readings_p202402 PARTITION OF public.readings
    FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
CREATE TABLE public.readings_p202403 PARTITION OF public.readings
    FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
INSERT INTO public.readings
SELECT g, '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g
FROM generate_series(0, 2000) g;
INSERT INTO inventory.partition_policies
    (parent, partition_column, column_type, time_zone, retention,
     retention_action, archive_parent)
VALUES ('public.readings', 'taken_at', 'timestamptz', 'UTC', '1 month',
        'archive', 'public.readings_archive');
SELECT count(*) AS rows, sum(hashtext(r::text)) AS checksum
FROM public.readings r \gset before_readings_
SELECT * FROM inventory.archive_statements('public.readings_p202401');
SELECT * FROM inventory.archive_statements('public.readings_p202401') \gexec
SELECT partition, lower_at FROM inventory.list_partition_ranges('public.readings_archive');
SELECT pg_temp.try($$SELECT inventory.archive_detached('public.readings_p202402',
    'public.readings')$$) AS still_a_partition;
-- the scheduled job archives what retention says (February, with a
-- "now" in mid-April and one month retention), one month per commit
CALL inventory.archive_due('2024-04-15 00:00+00');
SELECT partition, lower_at FROM inventory.list_partition_ranges('public.readings_archive');
SELECT partition, lower_at FROM inventory.list_partition_ranges('public.readings');
SELECT (SELECT count(*) FROM public.readings)
       + (SELECT count(*) FROM public.readings_archive) = :before_readings_rows
       AS same_rows,
       (SELECT sum(hashtext(r::text)) FROM
            (SELECT * FROM public.readings UNION ALL
             SELECT * FROM public.readings_archive) r) = :before_readings_checksum
       AS same_checksum;
SELECT parent, action, relation, months, outcome
FROM inventory.archive_history WHERE parent = 'public.readings' ORDER BY run_id;
SELECT * FROM usage_same;

-- retention action 'archive' of the partition engine calls
-- archive_partition: months past retention join the archive
CREATE TABLE public.events (
    event_id bigint NOT NULL,
    at timestamptz NOT NULL,
    payload text
) PARTITION BY RANGE (at);
CREATE TABLE public.events_archive (LIKE public.events)
    PARTITION BY RANGE (at);
SELECT inventory.register_partitioned_table('public.events', 'at', 'UTC', 1,
    '2 months', 'archive', 'public.events_archive');
SELECT count(*) AS partitions_made
FROM generate_series(date '2024-01-01', date '2024-05-01', interval '1 month') m,
     LATERAL inventory.create_partition('public.events', m::date);
INSERT INTO public.events
SELECT g, '2024-01-01 00:00+00'::timestamptz + g * interval '3 hours', 'e' || g
FROM generate_series(0, 1000) g;
SELECT action, partition FROM inventory.run_maintenance('public.events',
                                                       '2024-05-15 00:00+00')
WHERE action = 'archived' ORDER BY partition;
SELECT partition, lower_at
FROM inventory.list_partition_ranges('public.events_archive');
SELECT (SELECT count(*) FROM public.events)
       + (SELECT count(*) FROM public.events_archive) AS rows_total;
SELECT action, relation, months, outcome
FROM inventory.archive_history WHERE parent = 'public.events' ORDER BY run_id;

-- the health of archival, per parent
SELECT parent, months_archived, months_restored, failures_7d, skipped_7d,
       last_failure, batch_state
FROM inventory.archive_health ORDER BY parent;

DROP TABLE public.unmanaged, public.odd_archive, public.readings,
    public.readings_archive, public.events, public.events_archive;
