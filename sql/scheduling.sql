-- Scheduling and operations views in a database where pg_cron cannot
-- schedule (pg_regress runs in contrib_regression; the cluster's
-- cron.database_name is another database): the extension works, the
-- scheduling functions say exactly what to change.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
\set VERBOSITY terse
SET TimeZone = 'UTC';

-- the jobs and their commands
SELECT job_name, job, command FROM inventory.job_definitions() ORDER BY 1;

-- why pg_cron cannot be used here (database name replaced: pg_regress
-- may run under another name)
SELECT ready, sqlstate,
       replace(message, current_database(), '<db>') AS message,
       replace(hint, current_database(), '<db>') AS hint
FROM inventory.cron_readiness();

-- the clear errors, with SQLSTATE and hint
CREATE FUNCTION pg_temp.show_error(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_msg text;
    v_hint text;
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE,
        v_msg = MESSAGE_TEXT, v_hint = PG_EXCEPTION_HINT;
    RETURN replace(format('%s: %s (hint: %s)', v_state, v_msg, v_hint),
                   current_database(), '<db>');
END;
$$;
SELECT pg_temp.show_error('SELECT inventory.schedule_jobs()');
SELECT pg_temp.show_error('SELECT inventory.unschedule_jobs()');
\set VERBOSITY terse
-- the view works and is empty
SELECT count(*) AS job_rows FROM inventory.job_runs;

-- operations views: every index of the schema is listed with a verdict;
-- fresh indexes have never been scanned
SELECT index_name, enforces_constraint, verdict
FROM inventory.index_usage
WHERE table_name IN ('lots', 'allocations')
ORDER BY index_name;
SELECT count(*) FILTER (WHERE verdict NOT IN ('unused', 'rarely used', 'used'))
       AS bad_verdicts
FROM inventory.index_usage;

-- bloat: estimates appear once statistics exist
INSERT INTO inventory.organizations (code, name) VALUES ('bloat', 'Bloat');
INSERT INTO inventory.products (org_id, sku, name)
SELECT 1, 'sku-' || g, 'product ' || g FROM generate_series(1, 2000) g;
ANALYZE inventory.products;
SELECT object_type, object_name,
       expected_bytes > 0 AS estimated,
       bloat_pct BETWEEN 0 AND 100 AS pct_in_range
FROM inventory.bloat_estimate
WHERE table_name = 'products'
ORDER BY object_type, object_name;
-- deleting most rows leaves the table bloated
DELETE FROM inventory.products WHERE product_id % 10 <> 0;
ANALYZE inventory.products;
SELECT object_name, bloat_pct > 50 AS bloated
FROM inventory.bloat_estimate
WHERE object_type = 'table' AND table_name = 'products';

-- maintenance activity: this session is never listed
SELECT count(*) AS other_sessions FROM inventory.maintenance_activity;

-- every job's command runs as pg_cron will run it; a job whose function
-- belongs to an area that is not installed says so
CREATE TEMP TABLE job_check (job_name text, outcome text);
DO $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT * FROM inventory.job_definitions() ORDER BY job_name
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_proc
                       WHERE oid::regproc::text = d.called_function
                          OR pronamespace::regnamespace::text || '.' || proname
                             = d.called_function) THEN
            INSERT INTO job_check VALUES (d.job_name, 'not installed');
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE d.command;
            INSERT INTO job_check VALUES (d.job_name, 'ran');
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO job_check VALUES (d.job_name, SQLSTATE || ': ' || SQLERRM);
        END;
    END LOOP;
END;
$$;
SELECT * FROM job_check ORDER BY job_name;
