-- Scheduling through pg_cron (this database is cron.database_name) and
-- the incremental summary on the real December 2010 data.  Jobs are only
-- scheduled here, inside the test's transaction, so pg_cron never runs
-- them; test/shell/070_ops.sh shows a job running.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SET LOCAL client_min_messages = error;
SELECT plan(24);

SELECT is((SELECT ready FROM inventory.cron_readiness()), true,
    'pg_cron is usable in this database');

-- schedule, reschedule, drop one
CREATE TEMP TABLE first_jobs AS SELECT * FROM inventory.schedule_jobs();
SELECT results_eq(
    $$SELECT job_name, schedule FROM first_jobs ORDER BY 1$$,
    $$VALUES ('inventory_ext:archival', '15 2 * * *'),
             ('inventory_ext:maintenance', '*/10 * * * *'),
             ('inventory_ext:refresh', '*/5 * * * *'),
             ('inventory_ext:rollup_check', '30 3 * * *')$$,
    'four jobs scheduled with the default schedules');
SELECT is(
    (SELECT string_agg(jobname || ' ' || command, ', ' ORDER BY jobid)
     FROM cron.job WHERE jobname LIKE 'inventory_ext:%'),
    (SELECT string_agg(job_name || ' ' || command, ', ' ORDER BY jobid)
     FROM first_jobs),
    'pg_cron holds them under fixed names with their commands');

CREATE TEMP TABLE second_jobs AS
SELECT * FROM inventory.schedule_jobs(p_refresh => '* * * * *');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname LIKE 'inventory_ext:%'),
    4::bigint, 'scheduling twice does not duplicate jobs');
SELECT results_eq(
    $$SELECT job_name, jobid FROM second_jobs ORDER BY 1$$,
    $$SELECT job_name, jobid FROM first_jobs ORDER BY 1$$,
    'the same pg_cron jobs are updated in place');
SELECT is((SELECT schedule FROM cron.job WHERE jobname = 'inventory_ext:refresh'),
    '* * * * *', 'the refresh job was rescheduled');

SELECT is((SELECT count(*) FROM inventory.schedule_jobs(p_archival => NULL,
                                                        p_refresh => '* * * * *')),
    3::bigint, 'a NULL schedule leaves that job out');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname = 'inventory_ext:archival'),
    0::bigint, '... and removes it from pg_cron');

SELECT results_eq(
    $$SELECT job_name, schedule, active, recent_runs FROM inventory.job_runs
      ORDER BY 1$$,
    $$VALUES ('inventory_ext:maintenance', '*/10 * * * *', true, 0::bigint),
             ('inventory_ext:refresh', '* * * * *', true, 0::bigint),
             ('inventory_ext:rollup_check', '30 3 * * *', true, 0::bigint)$$,
    'job_runs shows each job, its schedule and its runs');

SELECT throws_ok(
    $$SELECT * FROM inventory.schedule_jobs(p_refresh => 'every now and then')$$,
    '22023', 'invalid schedule for job "inventory_ext:refresh": "every now and then"',
    'a schedule pg_cron rejects is a 22023 error');
SELECT is((SELECT schedule FROM cron.job WHERE jobname = 'inventory_ext:refresh'),
    '* * * * *', '... and changes nothing');

-- the job command invoked directly
SELECT ok(inventory.refresh_summary() IS NOT NULL,
    'the refresh job''s command runs');

-- privileges: readers see the jobs, only admins schedule
SET LOCAL ROLE inventory_reader;
SELECT is((SELECT count(*) FROM inventory.job_runs), 3::bigint,
    'a reader sees the jobs someone else scheduled');
SELECT throws_ok($$SELECT inventory.schedule_jobs()$$, '42501',
    NULL, 'a reader cannot schedule');
SET LOCAL ROLE inventory_admin;
SELECT throws_ok($$SELECT inventory.schedule_jobs()$$, '42501',
    'permission denied for schema cron',
    'an admin without USAGE on schema cron is told what to grant');
RESET ROLE;
GRANT USAGE ON SCHEMA cron TO inventory_admin;
SET LOCAL ROLE inventory_admin;
SELECT is((SELECT count(*) FROM inventory.schedule_jobs(p_maintenance => NULL,
                                                        p_rollup_check => NULL,
                                                        p_archival => NULL)),
    1::bigint, 'an admin with USAGE schedules under its own name');
RESET ROLE;
SELECT is((SELECT count(*) FROM cron.job
           WHERE jobname = 'inventory_ext:refresh'
             AND username = 'inventory_admin'), 1::bigint,
    'the admin''s job runs as the admin');

SELECT is(inventory.unschedule_jobs(), 4,
    'unschedule_jobs removes every job of ours (superuser: all users)');
SELECT is((SELECT count(*) FROM inventory.job_runs), 0::bigint,
    'job_runs is empty afterwards');

-- without the pg_cron extension in the database
DROP EXTENSION pg_cron;
SELECT throws_ok($$SELECT inventory.schedule_jobs()$$, '55000',
    'extension "pg_cron" is not created in this database',
    'missing CREATE EXTENSION pg_cron: a clear 55000 error');
SELECT is((SELECT count(*) FROM inventory.job_runs), 0::bigint,
    'job_runs works, empty, without pg_cron');

-- incremental summary on the real data: after the load, after
-- allocations, after archival (which moves ledger rows, never lots)
\set datafile :datadir '/online_retail_uci_2010-12.csv'
SELECT (pg_catalog.pg_stat_file(:'datafile', true)).size IS NOT NULL AS have_data
\gset
\if :have_data
COPY inventory.retail_import_raw (invoice_no, stock_code, description,
    quantity, invoice_date, unit_price, customer_ref, country)
FROM :'datafile' WITH (FORMAT csv, HEADER true);
SELECT rows_loaded FROM inventory.import_online_retail() \gset
SELECT is((SELECT count(*) FROM inventory.check_stock_summary()), 0::bigint,
    'stock_summary matches a full recomputation after the real data load');

-- allocate half of every lot with stock (what the allocator does)
UPDATE inventory.lots SET qty_allocated = floor(qty_on_hand / 2)
WHERE qty_on_hand > 1;
SELECT is((SELECT count(*) FROM inventory.check_stock_summary()), 0::bigint,
    'and after allocations');

-- archival: ledger rows move to the archive, lots do not change
CREATE TEMP TABLE lots_before AS SELECT * FROM inventory.lots;
WITH moved AS (
    DELETE FROM inventory.transactions_default
    WHERE created_at < '2010-12-08 00:00 Europe/London'
    RETURNING *)
INSERT INTO inventory.transactions_archive_default SELECT * FROM moved;
SELECT ok((SELECT count(*) FROM inventory.check_stock_summary()) = 0
          AND NOT EXISTS (SELECT * FROM lots_before
                          EXCEPT SELECT * FROM inventory.lots),
    'and after archival');
\else
SELECT skip('real data not found at ' || :'datafile', 3);
\endif

SELECT * FROM finish();
ROLLBACK;
