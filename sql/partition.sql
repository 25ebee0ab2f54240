-- Partition engine: registration, monthly partitions whose bounds never
-- follow the session's time zone, rescue of the default partition,
-- names, ownership, retention by real bounds, and the ledger itself.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
\set VERBOSITY terse
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- SQLSTATE and message of a statement that should fail
CREATE FUNCTION pg_temp.err(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;

-- the real bounds of a table's partitions, as UTC text, in bound order
CREATE FUNCTION pg_temp.utc_bounds(p_parent regclass) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(pg_catalog.pg_get_expr(c.relpartbound, c.oid), E'\n'
                      ORDER BY c.relpartbound::text)
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = p_parent
$$;

CREATE SCHEMA part_test;

----------------------------------------------------------------------
-- Registration: what is refused, and why
----------------------------------------------------------------------
CREATE TABLE part_test.plain (id int, at timestamptz);
CREATE TABLE part_test.by_list (id int, at timestamptz) PARTITION BY LIST (id);
CREATE TABLE part_test.by_two (id int, at timestamptz)
    PARTITION BY RANGE (at, id);
CREATE TABLE part_test.by_int (id int, at timestamptz) PARTITION BY RANGE (id);
CREATE TABLE part_test.by_expr (id int, at timestamptz)
    PARTITION BY RANGE ((id + 1));
CREATE TABLE part_test.events (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE part_test.events_default PARTITION OF part_test.events DEFAULT;

SELECT v.sql, pg_temp.err(v.sql)
FROM (VALUES
    ($$SELECT inventory.register_partitioned_table('part_test.plain', 'at', 'UTC')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.by_list', 'at', 'UTC')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.by_two', 'at', 'UTC')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.by_int', 'id', 'UTC')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.by_expr', 'at', 'UTC')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'id', 'UTC')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'at', 'Mars/Olympus')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'at', 'UTC', 121)$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'at', 'UTC', 3, NULL, 'shred')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'at', 'UTC', 3, '1 year', 'archive')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'at', 'UTC', 3, NULL, 'drop', 'part_test.plain')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.events', 'at', 'UTC', 3, NULL, 'detach', NULL, '[1]')$$),
    ($$SELECT inventory.register_partitioned_table(NULL, 'at')$$),
    ($$SELECT inventory.register_partitioned_table('part_test.no_such', 'at')$$)
) v(sql);

-- retention must be a positive whole number of months/years or of days:
-- mixed units, a time part (a bare number is seconds) or a sign is
-- ambiguous against a calendar and refused with 22023
SELECT v.retention,
       pg_temp.err(format($$SELECT inventory.register_partitioned_table(
           'part_test.events', 'at', 'UTC', 3, %L)$$, v.retention)) AS result
FROM (VALUES ('1 month 15 days'), ('36 hours'), ('1 day 01:00'), ('30'),
             ('0 days'), ('0 months'), ('-1 month'), ('1 year -1 day'),
             ('1.5 months')) v(retention);

-- pg_regress connects with PGTZ set: the session's zone was chosen by the
-- client, so there is no server zone to default to and one must be given
SELECT pg_temp.err($$SELECT inventory.register_partitioned_table(
    'part_test.events', 'at')$$);

-- accepted: years become months, weeks days; the zone is canonicalised
SELECT inventory.register_partitioned_table('part_test.events', 'at',
    'europe/london', 2, '1 year', 'drop');
SELECT pg_temp.err($$SELECT inventory.register_partitioned_table(
    'part_test.events', 'at', 'UTC')$$) AS second_registration;
SELECT parent, partition_column, column_type, time_zone, premake_months,
       retention, retention_action
FROM inventory.partition_policies;
SELECT inventory.unregister_partitioned_table('part_test.events');
SELECT pg_temp.err($$SELECT inventory.unregister_partitioned_table(
    'part_test.events')$$) AS not_registered;

----------------------------------------------------------------------
-- Bounds never follow the session's zone
--
-- Ten tables: two policy zones (Europe/London, Australia/Lord_Howe) times
-- five session zones under which maintenance runs.  Premaking from
-- January covers February of a leap year (2024) and of a normal year
-- (2023), and the DST changes of March/April.
----------------------------------------------------------------------
CREATE FUNCTION pg_temp.make_table(p_name text, p_zone text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE part_test.%I (id int, at timestamptz NOT NULL)
                    PARTITION BY RANGE (at)', p_name);
    EXECUTE format('CREATE TABLE part_test.%I PARTITION OF part_test.%I DEFAULT',
                   p_name || '_default', p_name);
    PERFORM inventory.register_partitioned_table(
        format('part_test.%I', p_name)::regclass, 'at', p_zone, 3);
END;
$$;
SELECT count(pg_temp.make_table(format('%s_%s', p.tag, s.n), p.zone))
       AS registered
FROM (VALUES ('london', 'Europe/London'), ('lhi', 'Australia/Lord_Howe')) p(tag, zone),
     generate_series(1, 5) s(n);

SET TimeZone = 'UTC';
SELECT count(*) FROM inventory.run_maintenance('part_test.london_1', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_1', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.london_1', '2023-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_1', '2023-01-15 12:00+00');
SET TimeZone = 'America/New_York';
SELECT count(*) FROM inventory.run_maintenance('part_test.london_2', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_2', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.london_2', '2023-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_2', '2023-01-15 12:00+00');
SET TimeZone = 'Asia/Kolkata';
SELECT count(*) FROM inventory.run_maintenance('part_test.london_3', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_3', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.london_3', '2023-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_3', '2023-01-15 12:00+00');
SET TimeZone = 'Pacific/Chatham';
SELECT count(*) FROM inventory.run_maintenance('part_test.london_4', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_4', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.london_4', '2023-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_4', '2023-01-15 12:00+00');
SET TimeZone = 'Australia/Lord_Howe';
SELECT count(*) FROM inventory.run_maintenance('part_test.london_5', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_5', '2024-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.london_5', '2023-01-15 12:00+00');
SELECT count(*) FROM inventory.run_maintenance('part_test.lhi_5', '2023-01-15 12:00+00');
SET TimeZone = 'UTC';

-- one set of bounds per policy zone, whatever zone maintenance ran in
SELECT split_part(c.relname, '_', 1) AS policy,
       count(DISTINCT pg_temp.utc_bounds(c.oid)) AS distinct_bound_sets,
       count(*) AS tables
FROM pg_class c
WHERE c.relnamespace = 'part_test'::regnamespace AND c.relkind = 'p'
  AND c.relname ~ '^(london|lhi)_[1-5]$'
GROUP BY 1 ORDER BY 1;

-- the bounds themselves: local midnight on the 1st in the policy's zone;
-- February has 29 days in 2024, 28 in 2023; London's April starts at
-- 23:00 UTC (BST), Lord_Howe's months at 13:00 or 13:30 UTC
SELECT partition, lower_bound, upper_bound, month
FROM inventory.partition_bounds('part_test.london_4', '2024-01-15 12:00+00')
WHERE NOT is_default ORDER BY ordinal;
SELECT pg_temp.utc_bounds('part_test.london_2');
SELECT partition, lower_bound, upper_bound, month
FROM inventory.partition_bounds('part_test.lhi_2', '2024-01-15 12:00+00')
WHERE NOT is_default ORDER BY ordinal;
SELECT pg_temp.utc_bounds('part_test.lhi_5');

-- the text of partition_bounds is the same under any session zone too
SET TimeZone = 'Pacific/Chatham';
SELECT lower_bound, upper_bound
FROM inventory.partition_bounds('part_test.lhi_3') WHERE month = '2024-04-01';
SET TimeZone = 'UTC';
SELECT lower_bound, upper_bound
FROM inventory.partition_bounds('part_test.lhi_3') WHERE month = '2024-04-01';

-- "now" is read in the policy's zone: 23:30 UTC on 29 February 2024 is
-- already 1 March on Lord Howe Island (UTC+11), still February in London
SELECT month, "position"
FROM inventory.partition_bounds('part_test.london_1', '2024-02-29 23:30+00')
WHERE "position" = 'current';
SELECT month, "position"
FROM inventory.partition_bounds('part_test.lhi_1', '2024-02-29 23:30+00')
WHERE "position" = 'current';

-- a second run changes nothing
SELECT count(*) AS actions
FROM inventory.run_maintenance('part_test.london_1', '2024-01-15 12:00+00');

----------------------------------------------------------------------
-- create_partition: idempotent, refuses overlaps, moves default rows
----------------------------------------------------------------------
SELECT * FROM inventory.create_partition('part_test.london_1', '2024-02-14');
SELECT * FROM inventory.create_partition('part_test.london_1', '2024-06-30');
SELECT * FROM inventory.create_partitions('part_test.london_1', '2024-05-01',
                                          '2024-08-01');
SELECT v.sql, pg_temp.err(v.sql)
FROM (VALUES
    ($$SELECT * FROM inventory.create_partition('part_test.london_1', NULL)$$),
    ($$SELECT * FROM inventory.create_partition('part_test.plain', '2024-01-01')$$),
    ($$SELECT * FROM inventory.create_partitions('part_test.london_1', '2024-05-01', '2024-01-01')$$),
    ($$SELECT * FROM inventory.create_partitions('part_test.london_1', '1900-01-01', '2024-01-01')$$),
    ($$SELECT * FROM inventory.create_partition('part_test.london_1', 'infinity')$$)
) v(sql);
-- a month overlapping a hand-made partition with other bounds
CREATE TABLE part_test.london_1_odd PARTITION OF part_test.london_1
    FOR VALUES FROM ('2024-09-10 00:00+00') TO ('2024-10-10 00:00+00');
SELECT pg_temp.err($$SELECT * FROM inventory.create_partition(
    'part_test.london_1', '2024-10-01')$$);

----------------------------------------------------------------------
-- date and timestamp keys: first-of-month rows land in their month
----------------------------------------------------------------------
CREATE TABLE part_test.daily (id int, d date NOT NULL) PARTITION BY RANGE (d);
CREATE TABLE part_test.daily_default PARTITION OF part_test.daily DEFAULT;
CREATE TABLE part_test.local_ts (id int, t timestamp NOT NULL)
    PARTITION BY RANGE (t);
CREATE TABLE part_test.local_ts_default PARTITION OF part_test.local_ts DEFAULT;
INSERT INTO part_test.daily VALUES (1, '2024-02-01'), (2, '2024-02-29'),
    (3, '2024-03-01'), (4, '2023-03-01'), (5, '2024-01-31');
INSERT INTO part_test.local_ts VALUES (1, '2024-03-01 00:00'),
    (2, '2024-02-29 23:59:59.999999'), (3, '2024-04-01 00:00');
-- the zone does not move date or timestamp bounds, whatever it is
SELECT inventory.register_partitioned_table('part_test.daily', 'd',
    'Pacific/Chatham', 1);
SELECT inventory.register_partitioned_table('part_test.local_ts', 't',
    'America/New_York', 0);
SET TimeZone = 'Asia/Kolkata';
SELECT * FROM inventory.run_maintenance('part_test.daily', '2024-02-10 12:00+00');
SELECT * FROM inventory.run_maintenance('part_test.local_ts', '2024-02-10 12:00+00');
SET TimeZone = 'UTC';
SELECT tableoid::regclass AS partition, id, d FROM part_test.daily ORDER BY d;
SELECT tableoid::regclass AS partition, id, t FROM part_test.local_ts ORDER BY t;
SELECT partition, lower_bound, upper_bound, month, "position"
FROM inventory.partition_bounds('part_test.daily', '2024-02-10 12:00+00')
ORDER BY ordinal;

----------------------------------------------------------------------
-- The default partition: a row in a month not made yet is rescued, a
-- stray far-future row is reported (not hundreds of partitions made),
-- and maintenance keeps working around it
----------------------------------------------------------------------
CREATE TABLE part_test.orders (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE part_test.orders_default PARTITION OF part_test.orders DEFAULT;
SELECT inventory.register_partitioned_table('part_test.orders', 'at', 'UTC', 1);
SELECT * FROM inventory.run_maintenance('part_test.orders', '2024-03-15');
INSERT INTO part_test.orders VALUES
    (1, '2024-07-10 08:00+00'),     -- a month not made yet
    (2, '2024-07-31 23:59+00'),
    (3, '2099-05-05 00:00+00'),     -- a typo, far beyond the future limit
    (4, '2024-03-20 00:00+00');     -- lands in its partition directly
SET client_min_messages = notice;
SELECT * FROM inventory.run_maintenance('part_test.orders', '2024-04-02');
-- reported again, and everything else still done
SELECT * FROM inventory.run_maintenance('part_test.orders', '2024-05-02');
SET client_min_messages = warning;
SELECT tableoid::regclass AS partition, id, at FROM part_test.orders ORDER BY at;
SELECT count(*) AS partitions_made
FROM inventory.partition_bounds('part_test.orders') WHERE NOT is_default;
-- the DBA makes the far month by hand: the row moves into it
SELECT * FROM inventory.create_partition('part_test.orders', '2099-05-01');
SELECT tableoid::regclass AS partition, id FROM part_test.orders WHERE id = 3;
-- a raised limit lets maintenance place such rows itself
INSERT INTO part_test.orders VALUES (5, '2027-01-01 00:00+00');
SET inventory_ext.future_limit_months = 36;
SELECT * FROM inventory.run_maintenance('part_test.orders', '2024-05-02');
RESET inventory_ext.future_limit_months;

-- the health view (behind and ahead are counted from the real clock, so
-- they are left out here)
SELECT parent, time_zone, partitions, default_rows, oldest_bound,
       newest_bound, last_maintenance_at IS NOT NULL AS maintained,
       last_maintenance_summary
FROM inventory.partition_health
WHERE parent = 'part_test.orders'::regclass;
-- every action is logged
SELECT action, partition_name, detail
FROM inventory.maintenance_log
WHERE parent_oid = 'part_test.orders'::regclass
ORDER BY log_id;

----------------------------------------------------------------------
-- Names: quoted, mixed case, dotted, 63 bytes, a schema that needs
-- quoting, and hostile names that must never run as SQL
----------------------------------------------------------------------
CREATE SCHEMA "Odd Schema ""q""";
CREATE TABLE part_test.victim (id int);
CREATE FUNCTION pg_temp.make_named(p_schema text, p_name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I.%I (id int, at timestamptz NOT NULL,
                    note text) PARTITION BY RANGE (at)', p_schema, p_name);
    EXECUTE format('CREATE INDEX ON %I.%I (note, at)', p_schema, p_name);
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', p_schema,
                   'def_' || left(md5(p_name), 10), p_schema, p_name);
    EXECUTE format('INSERT INTO %I.%I VALUES (1, %L, %L)', p_schema, p_name,
                   '2024-02-10 00:00+00', 'x');
    PERFORM inventory.register_partitioned_table(
        format('%I.%I', p_schema, p_name)::regclass, 'at', 'UTC', 1);
END;
$$;
SELECT count(pg_temp.make_named(s, n)) AS registered
FROM (VALUES
    ('part_test', 'MixedCase'),
    ('part_test', 'dotted.name'),
    ('part_test', 'with space'),
    ('part_test', 'x"; DROP TABLE part_test.victim; --'),
    ('part_test', 'it''s $1 %s \'),
    ('part_test', repeat('a', 63)),
    ('part_test', repeat('a', 62) || 'b'),
    ('part_test', repeat('é', 31) || 'z'),
    ('Odd Schema "q"', 'Ünïcødé')) v(s, n);
SELECT octet_length(c.relname) AS bytes, c.relname
FROM pg_class c
WHERE c.relnamespace IN ('part_test'::regnamespace,
                         '"Odd Schema ""q"""'::regnamespace)
  AND c.relkind = 'p' AND c.oid IN (SELECT parent FROM inventory.partition_policies)
  AND c.relname !~ '^(london|lhi|daily|local_ts|orders)'
ORDER BY c.relname COLLATE "C";
SELECT count(*) AS actions
FROM inventory.partition_policies p
JOIN pg_class c ON c.oid = p.parent
CROSS JOIN LATERAL inventory.run_maintenance(p.parent, '2024-02-20') m
WHERE c.relname !~ '^(london|lhi|daily|local_ts|orders)';
-- the partitions: quoted names, at most 63 bytes, long parents clipped
-- and told apart by a hash of the full name
SELECT i.inhparent::regclass AS parent, c.oid::regclass AS partition,
       octet_length(c.relname) AS bytes
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN (SELECT parent FROM inventory.partition_policies)
  AND c.relname !~ '^(london|lhi|daily|local_ts|orders)'
  AND NOT c.relpartbound::text LIKE '%:is_default true%'
ORDER BY c.oid::regclass::text COLLATE "C";
-- their indexes too: unique, at most 63 bytes
SELECT count(*) AS indexes, count(DISTINCT ic.relname) AS distinct_names,
       max(octet_length(ic.relname)) AS longest
FROM pg_inherits i
JOIN pg_index x ON x.indrelid = i.inhrelid
JOIN pg_class ic ON ic.oid = x.indexrelid
WHERE i.inhparent IN (SELECT parent FROM inventory.partition_policies);
-- rows were rescued into the quoted partitions; the victim survived
SELECT tableoid::regclass AS partition, id FROM part_test."x""; DROP TABLE part_test.victim; --";
SELECT to_regclass('part_test.victim') IS NOT NULL AS victim_alive;

----------------------------------------------------------------------
-- A template table for indexes the parent cannot have (a unique index
-- without the partition column)
----------------------------------------------------------------------
CREATE TABLE part_test.docs (id int, at timestamptz NOT NULL, ref text)
    PARTITION BY RANGE (at);
CREATE INDEX ON part_test.docs (at);
CREATE TABLE part_test.docs_template (id int, at timestamptz, ref text);
CREATE UNIQUE INDEX docs_template_ref_key ON part_test.docs_template (ref);
CREATE INDEX docs_template_lower_ref_idx ON part_test.docs_template
    (lower(ref)) WHERE ref IS NOT NULL;
CREATE VIEW part_test.docs_view AS SELECT * FROM part_test.docs_template;
SELECT v.options, pg_temp.err(format($$SELECT inventory.register_partitioned_table(
           'part_test.docs', 'at', 'UTC', 0, NULL, 'detach', NULL, %L)$$,
           v.options)) AS result
FROM (VALUES ('{"template": "part_test.docs_template"}'),
             ('{"template_table": 42}'),
             ('{"template_table": "part_test.nothing"}'),
             ('{"template_table": "part_test.docs_view"}'),
             ('{"template_table": "part_test.docs"}')) v(options);
-- the name is not looked up in the caller's search_path
SET search_path = part_test, public;
SELECT pg_temp.err($$SELECT inventory.register_partitioned_table(
    'part_test.docs', 'at', 'UTC', 0,
    p_options => '{"template_table": "docs_template"}')$$);
RESET search_path;
SELECT inventory.register_partitioned_table('part_test.docs', 'at', 'UTC', 0,
    p_options => '{"template_table": "part_test.docs_template"}');
SELECT options FROM inventory.partition_policies
WHERE parent = 'part_test.docs'::regclass;
SELECT * FROM inventory.create_partition('part_test.docs', '2024-02-01');
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = 'part_test' AND tablename = 'docs_p202402'
ORDER BY indexname;
INSERT INTO part_test.docs VALUES (1, '2024-02-02', 'A-1');
SELECT pg_temp.err($$INSERT INTO part_test.docs VALUES (2, '2024-02-03', 'A-1')$$);

----------------------------------------------------------------------
-- Ownership and grants: maintenance run by another role
----------------------------------------------------------------------
CREATE ROLE regress_part_owner;
CREATE ROLE regress_part_maint;
CREATE ROLE regress_part_reader;
CREATE ROLE regress_part_snoop;
CREATE ROLE regress_part_stranger;
GRANT regress_part_owner TO regress_part_maint;
-- the extension's functions are for inventory_admin
GRANT inventory_admin TO regress_part_owner, regress_part_stranger;
CREATE SCHEMA part_own AUTHORIZATION regress_part_owner;
GRANT CREATE, USAGE ON SCHEMA part_own TO regress_part_maint;
GRANT USAGE ON SCHEMA part_own TO regress_part_stranger, regress_part_reader,
    regress_part_snoop;
SET ROLE regress_part_owner;
CREATE TABLE part_own.ledger (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE part_own.ledger_default PARTITION OF part_own.ledger DEFAULT;
GRANT SELECT ON part_own.ledger TO regress_part_reader;
GRANT INSERT, SELECT ON part_own.ledger TO regress_part_maint WITH GRANT OPTION;
INSERT INTO part_own.ledger VALUES (1, '2024-01-20 00:00+00');
SELECT inventory.register_partitioned_table('part_own.ledger', 'at', 'UTC', 1);
RESET ROLE;
-- tables the owner creates from now on would be readable by the snoop;
-- partitions must carry the parent's grants, not these
ALTER DEFAULT PRIVILEGES FOR ROLE regress_part_owner IN SCHEMA part_own
    GRANT SELECT ON TABLES TO regress_part_snoop;
-- a role that is not the owner (nor a member of it) is told, not obeyed
SET ROLE regress_part_stranger;
SELECT * FROM inventory.run_maintenance('part_own.ledger', '2024-02-10');
RESET ROLE;
-- a member of the owner role runs maintenance: partitions are the owner's
SET ROLE regress_part_maint;
SELECT * FROM inventory.run_maintenance('part_own.ledger', '2024-02-10');
RESET ROLE;
-- and as superuser
SELECT * FROM inventory.run_maintenance('part_own.ledger', '2024-03-10');
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relacl
FROM pg_class c
WHERE c.relnamespace = 'part_own'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY c.relname;
SET ROLE regress_part_reader;
SELECT count(*) FROM part_own.ledger_p202401;
RESET ROLE;
SET ROLE regress_part_snoop;
SELECT pg_temp.err('SELECT count(*) FROM part_own.ledger_p202402');
RESET ROLE;

----------------------------------------------------------------------
-- Retention by real bounds
----------------------------------------------------------------------
CREATE TABLE part_test.keep (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
SELECT inventory.register_partitioned_table('part_test.keep', 'at',
    'Europe/London', 0, '3 months', 'drop');
SELECT count(*) FROM inventory.create_partitions('part_test.keep',
    '2023-07-01', '2023-08-01');
-- hand-made partitions whose names lie about their bounds
CREATE TABLE part_test.keep_p202301 PARTITION OF part_test.keep
    FOR VALUES FROM ('2023-10-15 00:00+00') TO ('2023-12-15 00:00+00');
CREATE TABLE part_test.keep_p202403 PARTITION OF part_test.keep
    FOR VALUES FROM ('2023-09-01 00:00+01') TO ('2023-10-15 00:00+00');
-- one spanning "now", one wholly in the future
CREATE TABLE part_test.keep_span PARTITION OF part_test.keep
    FOR VALUES FROM ('2023-12-15 00:00+00') TO ('2024-06-01 00:00+01');
CREATE TABLE part_test.keep_later PARTITION OF part_test.keep
    FOR VALUES FROM ('2024-06-01 00:00+01') TO (MAXVALUE);
INSERT INTO part_test.keep VALUES (1, '2023-07-10'), (2, '2023-09-10'),
    (3, '2023-11-10'), (4, '2024-03-01'), (5, '2030-01-01');
SELECT partition, lower_bound, upper_bound, month, "position"
FROM inventory.partition_bounds('part_test.keep', '2024-03-10') ORDER BY ordinal;
-- cutoff: 2023-12-01 00:00 in London (now 2024-03-10 minus 3 months);
-- the partitions that really end by then go, whatever their names say
SELECT * FROM inventory.run_maintenance('part_test.keep', '2024-03-10');
SELECT partition, lower_bound, upper_bound
FROM inventory.partition_bounds('part_test.keep', '2024-03-10') ORDER BY ordinal;
-- years later: never the partition holding now, nor a future one
SELECT * FROM inventory.run_maintenance('part_test.keep', '2025-01-10');
SELECT partition FROM inventory.partition_bounds('part_test.keep') ORDER BY ordinal;

-- detach keeps the table, outside the parent
CREATE TABLE part_test.hist (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE part_test.hist_default PARTITION OF part_test.hist DEFAULT;
SELECT inventory.register_partitioned_table('part_test.hist', 'at', 'UTC', 0,
    '45 days', 'detach');
INSERT INTO part_test.hist VALUES (1, '2024-01-05'), (2, '2024-02-05'),
    (3, '2024-03-05');
SELECT * FROM inventory.run_maintenance('part_test.hist', '2024-03-20');
SELECT c.relname, c.relispartition,
       (SELECT count(*) FROM part_test.hist_p202401) AS rows_kept
FROM pg_class c WHERE c.oid = 'part_test.hist_p202401'::regclass;

-- drop retention never rescues old rows from the default partition only
-- to drop them in the same breath: they are reported instead
CREATE TABLE part_test.purge (id int, at timestamptz NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE part_test.purge_default PARTITION OF part_test.purge DEFAULT;
INSERT INTO part_test.purge VALUES (1, '2022-05-05'), (2, '2024-03-01');
SELECT inventory.register_partitioned_table('part_test.purge', 'at', 'UTC', 0,
    '6 months', 'drop');
SELECT * FROM inventory.run_maintenance('part_test.purge', '2024-03-20');
SELECT tableoid::regclass AS partition, id FROM part_test.purge ORDER BY id;

----------------------------------------------------------------------
-- The ledger itself: registered with the organisation's zone; rows
-- rescued from the default partition keep their txn_id and change no
-- lot a second time
----------------------------------------------------------------------
INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('acme', 'Acme', 'Europe/London');
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'ABC-1', 'Widget' FROM inventory.organizations;
INSERT INTO inventory.locations (org_id, code, name)
SELECT org_id, 'MAIN', 'Main' FROM inventory.organizations;
SELECT inventory.receive(p.product_id, l.location_id, 100, 'PO-1',
                         '2024-02-10 10:00+00') AS lot
FROM inventory.products p, inventory.locations l \gset
SELECT inventory.record_movement(:lot, 'shipment', 10, 'SO-1',
                                 '2024-03-31 23:30+00');  -- April in London
SELECT inventory.record_movement(:lot, 'shipment', 5, 'SO-2',
                                 '2024-04-02 09:00+00');
SELECT qty_on_hand FROM inventory.lots WHERE lot_id = :lot;
CREATE TEMP TABLE before_rescue AS
SELECT txn_id, created_at, reference, quantity FROM inventory.transactions;

SELECT inventory.register_partitioned_table('inventory.transactions',
    'created_at', (SELECT time_zone FROM inventory.organizations
                   WHERE code = 'acme'), 1);
SELECT * FROM inventory.run_maintenance('inventory.transactions',
                                        '2024-04-05 12:00+00');
SELECT tableoid::regclass AS partition, txn_id, reference, quantity
FROM inventory.transactions ORDER BY txn_id;
-- same rows, same ids; the lot still holds 85; each reference once
SELECT count(*) AS unchanged
FROM before_rescue b JOIN inventory.transactions t USING (txn_id, created_at,
                                                          reference, quantity);
SELECT qty_on_hand FROM inventory.lots WHERE lot_id = :lot;
SELECT count(*) AS refs, count(*) FILTER (WHERE t.txn_id IS NULL) AS dangling
FROM inventory.transaction_refs r
LEFT JOIN inventory.transactions t USING (txn_id, created_at);
-- recording again a moved reference still changes nothing
SELECT inventory.record_movement(:lot, 'shipment', 10, 'SO-1',
                                 '2024-03-31 23:30+00') AS recorded_again;
-- new movements go through the new partitions and count once
SELECT inventory.record_movement(:lot, 'shipment', 1, 'SO-3',
                                 '2024-05-03 09:00+00') AS recorded;
SELECT qty_on_hand FROM inventory.lots WHERE lot_id = :lot;
SELECT tableoid::regclass AS partition FROM inventory.transactions
WHERE reference = 'SO-3';

-- the procedure the pg_cron job calls: commits per table
CALL inventory.run_maintenance_proc('inventory.transactions',
                                    '2024-05-05 12:00+00');
SELECT partition, month FROM inventory.partition_bounds('inventory.transactions')
ORDER BY ordinal;
SELECT pg_temp.err($$CALL inventory.run_maintenance_proc('part_test.plain')$$);
-- the ledger belongs to inventory_admin: its members maintain it, and
-- what they create is the admin role's, like the rest of the ledger
SET ROLE inventory_admin;
CALL inventory.run_maintenance_proc('inventory.transactions',
                                    '2024-06-05 12:00+00');
RESET ROLE;
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner
FROM pg_class c
WHERE c.oid IN (SELECT inhrelid FROM pg_inherits
                WHERE inhparent = 'inventory.transactions'::regclass)
ORDER BY c.relname;
SET ROLE inventory_writer;
SELECT pg_temp.err($$CALL inventory.run_maintenance_proc('inventory.transactions')$$);
RESET ROLE;

-- a registered table that was dropped is reported, not fatal, and can be
-- unregistered by its OID
CREATE TABLE part_test.gone (id int, at date NOT NULL) PARTITION BY RANGE (at);
SELECT inventory.register_partitioned_table('part_test.gone', 'at', 'UTC');
SELECT 'part_test.gone'::regclass::oid AS gone_oid \gset
DROP TABLE part_test.gone;
SET client_min_messages = error;  -- the WARNING names the OID
SELECT action, partition, detail
FROM inventory.run_maintenance(:gone_oid::regclass, '2024-05-05');
SET client_min_messages = warning;
SELECT inventory.unregister_partitioned_table(:gone_oid::regclass);

-- clean up
SELECT count(inventory.unregister_partitioned_table(parent)) AS unregistered
FROM inventory.partition_policies;
DROP SCHEMA part_test CASCADE;
DROP SCHEMA "Odd Schema ""q""" CASCADE;
DROP SCHEMA part_own CASCADE;
DROP OWNED BY regress_part_owner, regress_part_maint, regress_part_reader,
    regress_part_snoop, regress_part_stranger;
DROP ROLE regress_part_owner, regress_part_maint, regress_part_reader,
    regress_part_snoop, regress_part_stranger;
