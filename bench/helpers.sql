/*
 * bench/helpers.sql: helpers the benchmark installs in each database it
 * uses (schema bench).  Not part of the extension.
 */
CREATE SCHEMA IF NOT EXISTS bench;
-- some helpers read bench.params, which bench/gen.sql creates later
SET check_function_bodies = off;

/*
 * elapsed_ms(sql): runs sql (one or more statements, no result kept) and
 * returns the wall time it took, in milliseconds, measured in the server
 * so that client round trips and psql start-up are not counted.
 */
CREATE OR REPLACE FUNCTION bench.elapsed_ms(p_sql text)
RETURNS double precision
LANGUAGE plpgsql
AS $$
DECLARE
    v_start timestamptz := pg_catalog.clock_timestamp();
BEGIN
    EXECUTE p_sql;
    RETURN 1000 * pg_catalog.date_part('epoch',
        pg_catalog.clock_timestamp() - v_start);
END;
$$;

/* landed(name): does the extension have a function or procedure of that name */
CREATE OR REPLACE FUNCTION bench.landed(p_name text)
RETURNS boolean
LANGUAGE sql
STABLE
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'inventory' AND p.proname = p_name)
$$;

/* rnd(seed, key, stream): deterministic uniform number in [0, 1) */
CREATE OR REPLACE FUNCTION bench.rnd(p_seed bigint, p_key bigint, p_stream int)
RETURNS double precision
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (pg_catalog.hashint8extended(p_key * 64 + p_stream, p_seed)
            & 281474976710655)::double precision / 281474976710656.0
$$;

/*
 * month_partition(m): the ledger partition holding month m of the data
 * (0 = first), found by one of its rows, whatever the engine named it.
 */
CREATE OR REPLACE FUNCTION bench.month_partition(p_month int)
RETURNS regclass
LANGUAGE sql
STABLE
AS $$
    SELECT t.tableoid::regclass
    FROM inventory.transactions t, bench.params p
    WHERE t.created_at >= (p.first_month + make_interval(months => p_month))::timestamp AT TIME ZONE 'UTC'
      AND t.created_at < (p.first_month + make_interval(months => p_month + 1))::timestamp AT TIME ZONE 'UTC'
    LIMIT 1
$$;

/* month_start(m): first instant of month m of the data */
CREATE OR REPLACE FUNCTION bench.month_start(p_month int)
RETURNS timestamptz
LANGUAGE sql
STABLE
AS $$
    SELECT (p.first_month + make_interval(months => p_month))::timestamp
           AT TIME ZONE 'UTC'
    FROM bench.params p
$$;
