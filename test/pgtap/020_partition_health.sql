-- Partition engine, in a plain client session (pg_prove sets no PGTZ):
-- the default zone of a policy is the server's, never the session's SET;
-- the health view counts partitions around the real clock.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SET LOCAL client_min_messages = error;
SELECT plan(10);

CREATE SCHEMA tap_part;
CREATE TABLE tap_part.ev (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE tap_part.ev_default PARTITION OF tap_part.ev DEFAULT;

SELECT (SELECT source FROM pg_settings WHERE name = 'TimeZone') = 'client'
    AS client_zone \gset
\if :client_zone
SELECT skip('the client chose the session zone (PGTZ): no server default', 3);
\else
SET LOCAL TimeZone = 'Pacific/Chatham';
SELECT lives_ok(
    $$SELECT inventory.register_partitioned_table('tap_part.ev', 'at')$$,
    'registration without a zone, under a SET session zone');
SELECT is((SELECT time_zone FROM inventory.partition_policies
           WHERE parent = 'tap_part.ev'::regclass),
    (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'),
    'the policy took the server''s zone, not the session''s SET');
SELECT isnt((SELECT time_zone FROM inventory.partition_policies
             WHERE parent = 'tap_part.ev'::regclass),
    'Pacific/Chatham', 'and not Pacific/Chatham');
SELECT inventory.unregister_partitioned_table('tap_part.ev');
RESET TimeZone;
\endif

SELECT inventory.register_partitioned_table('tap_part.ev', 'at',
    'Europe/London', 2);
INSERT INTO tap_part.ev VALUES (1, now());
SELECT is((SELECT default_rows FROM inventory.partition_health
           WHERE parent = 'tap_part.ev'::regclass),
    1::bigint, 'a row waits in the default partition');
SELECT is((SELECT count(*) FROM inventory.run_maintenance('tap_part.ev')),
    3::bigint, 'maintenance makes this month and two ahead');
SELECT results_eq(
    $$SELECT partitions, partitions_behind, has_current, partitions_ahead,
             premake_missing, default_rows
      FROM inventory.partition_health
      WHERE parent = 'tap_part.ev'::regclass$$,
    $$VALUES (3::bigint, 0::bigint, true, 2::bigint, 0::bigint, 0::bigint)$$,
    'health: current and two ahead, nothing missing, default empty');
SELECT is((SELECT last_maintenance_summary FROM inventory.partition_health
           WHERE parent = 'tap_part.ev'::regclass),
    'created 3', 'health: what the last maintenance did');

SELECT is((SELECT action FROM inventory.create_partition('tap_part.ev',
               (now() AT TIME ZONE 'Europe/London')::date - 62)),
    'created', 'an older month made by hand');
SELECT results_eq(
    $$SELECT partitions_behind, premake_missing
      FROM inventory.partition_health
      WHERE parent = 'tap_part.ev'::regclass$$,
    $$VALUES (1::bigint, 0::bigint)$$,
    'health counts it behind');

-- the pg_cron job's command, inside a transaction: nothing left to do
CALL inventory.run_maintenance_proc('tap_part.ev');
SELECT is((SELECT count(*) FROM inventory.maintenance_log
           WHERE parent_oid = 'tap_part.ev'::regclass),
    3::bigint, 'the job''s run found nothing more to do');

SELECT * FROM finish();
ROLLBACK;
