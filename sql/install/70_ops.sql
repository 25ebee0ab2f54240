/*
 * 70_ops.sql: scheduling through pg_cron, and the operations views.
 *
 * pg_cron is optional.  Nothing here refers to schema cron at
 * CREATE EXTENSION time: the functions reach it through dynamic SQL after
 * cron_readiness() has confirmed that pg_cron is preloaded, configured for
 * this database and created here.  Without it the extension installs and
 * works, job_runs is empty and schedule_jobs() says what to change.
 *
 * Our jobs are pg_cron jobs with fixed names 'inventory_ext:<job>'.
 * pg_cron's cron.schedule(name, schedule, command) replaces the job of the
 * same name and user, so scheduling twice never duplicates a job.
 */

/*
 * The jobs: name, the parameter of schedule_jobs that sets the schedule,
 * and the command.  A function rather than a table, so that the list is
 * code (upgraded with the extension) and not user data.
 */
CREATE FUNCTION inventory.job_definitions(
    OUT job_name text,
    OUT job text,
    OUT command text,
    OUT called_function text)
RETURNS SETOF record
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
        ('inventory_ext:maintenance', 'maintenance',
         'CALL inventory.run_maintenance_proc()',
         'inventory.run_maintenance_proc'),
        ('inventory_ext:archival', 'archival',
         'CALL inventory.archive_due()',
         'inventory.archive_due'),
        ('inventory_ext:refresh', 'refresh',
         'SELECT inventory.refresh_summary()',
         'inventory.refresh_summary'),
        ('inventory_ext:rollup_check', 'rollup_check',
         'SELECT inventory.check_rollups()',
         'inventory.check_rollups')
$$;

/*
 * check_rollups(days) -> bigint
 *
 * The nightly check of the incremental rollups: daily_usage over the
 * last `days` local days of every organisation, and stock_summary, both
 * against a recomputation.  Returns 0 when all agree.  Otherwise it fails
 * with XX001 (data_corrupted), so that the pg_cron run is marked failed
 * and job_runs shows the message; the hint names the repair.  Reads only.
 * One check runs at a time: when another holds the advisory lock it
 * returns NULL with a NOTICE.
 */
CREATE FUNCTION inventory.check_rollups(p_days integer DEFAULT 35)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_org record;
    v_today date;
    v_usage bigint := 0;
    v_stock bigint;
BEGIN
    IF p_days IS NULL OR p_days < 1 THEN
        RAISE EXCEPTION 'days must be a positive number, not %',
            COALESCE(p_days::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- one check at a time (INV_ADVISORY_KEY, INV_JOB_ROLLUP_CHECK)
    IF NOT pg_catalog.pg_try_advisory_xact_lock(x'494E5645'::integer, 2) THEN
        RAISE NOTICE 'rollup check skipped: another check is running'
            USING DETAIL = 'The advisory lock of the rollup check is held by another session.';
        RETURN NULL;
    END IF;
    FOR v_org IN
        SELECT o.org_id, o.time_zone
        FROM inventory.organizations o
        ORDER BY o.org_id
    LOOP
        v_today := (pg_catalog.now() AT TIME ZONE v_org.time_zone)::date;
        v_usage := v_usage + (
            SELECT pg_catalog.count(*)
            FROM inventory.check_daily_usage(v_org.org_id,
                                             v_today - p_days, v_today));
    END LOOP;
    SELECT pg_catalog.count(*) INTO v_stock
    FROM inventory.check_stock_summary();

    RAISE LOG 'inventory_ext: rollup check over % days: % daily_usage and % stock_summary rows differ',
        p_days, v_usage, v_stock;
    IF v_usage + v_stock > 0 THEN
        RAISE EXCEPTION '% daily_usage rows and % stock_summary rows differ from the ledger',
            v_usage, v_stock
            USING ERRCODE = 'data_corrupted',
                  HINT = 'check_daily_usage(org, from, to) and check_stock_summary() list them; rebuild_daily_usage(org, from, to) and rebuild_stock_summary() repair them.';
    END IF;
    RETURN 0;
END;
$$;

/*
 * cron_settings() -> (preloaded, database_name)
 *
 * Whether pg_cron is in shared_preload_libraries, and its
 * cron.database_name (NULL when unset).  SECURITY DEFINER because both
 * settings are readable only by superusers and pg_read_all_settings; it
 * reveals nothing else.
 */
CREATE FUNCTION inventory.cron_settings(
    OUT preloaded boolean,
    OUT database_name text)
RETURNS record
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
               SELECT 1
               FROM pg_catalog.regexp_split_to_table(
                        pg_catalog.current_setting('shared_preload_libraries'),
                        '\s*,\s*') AS lib(name)
               WHERE pg_catalog.btrim(lib.name, ' "')
                     IN ('pg_cron', '$libdir/pg_cron')),
           pg_catalog.current_setting('cron.database_name', true)
$$;

/*
 * cron_readiness() -> (ready, sqlstate, message, hint)
 *
 * Whether pg_cron can schedule jobs for this database, and if not, the
 * error schedule_jobs() raises.  Checked in the order a DBA fixes them:
 * preload, cron.database_name, CREATE EXTENSION, USAGE on schema cron.
 */
CREATE FUNCTION inventory.cron_readiness(
    OUT ready boolean,
    OUT sqlstate text,
    OUT message text,
    OUT hint text)
RETURNS record
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_db text := pg_catalog.current_database();
    v_settings record;
    v_cron_db text;
BEGIN
    ready := false;
    v_settings := inventory.cron_settings();
    IF NOT v_settings.preloaded THEN
        sqlstate := '55000';
        message := 'pg_cron is not loaded';
        hint := pg_catalog.format(
            'Add shared_preload_libraries = ''pg_cron'' and cron.database_name = %L to postgresql.conf, restart the server, then run CREATE EXTENSION pg_cron in database %I.',
            v_db, v_db);
        RETURN;
    END IF;

    v_cron_db := v_settings.database_name;
    IF COALESCE(v_cron_db, 'postgres') <> v_db THEN
        sqlstate := '0A000';
        message := pg_catalog.format(
            'pg_cron runs jobs in database "%s", not in "%s"',
            COALESCE(v_cron_db, 'postgres'), v_db);
        hint := pg_catalog.format(
            'Set cron.database_name = %L in postgresql.conf, restart the server, then run CREATE EXTENSION pg_cron in database %I.',
            v_db, v_db);
        RETURN;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension
                   WHERE extname = 'pg_cron') THEN
        sqlstate := '55000';
        message := 'extension "pg_cron" is not created in this database';
        hint := pg_catalog.format('Run CREATE EXTENSION pg_cron in database %I.',
                                  v_db);
        RETURN;
    END IF;

    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        sqlstate := '42501';
        message := 'permission denied for schema cron';
        hint := pg_catalog.format(
            'A superuser must run GRANT USAGE ON SCHEMA cron TO %I.',
            current_user);
        RETURN;
    END IF;

    ready := true;
END;
$$;

/* Raises cron_readiness()'s error unless pg_cron is usable here. */
CREATE FUNCTION inventory.require_cron()
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v record;
BEGIN
    v := inventory.cron_readiness();
    IF NOT v.ready THEN
        RAISE EXCEPTION USING ERRCODE = v.sqlstate, MESSAGE = v.message,
            HINT = v.hint;
    END IF;
END;
$$;

/*
 * schedule_jobs(p_maintenance, p_archival, p_refresh, p_rollup_check)
 *   -> rows (job_name, schedule, command, jobid)
 *
 * Schedules (or reschedules) the extension's jobs in pg_cron, under the
 * calling user, who must be allowed to run the called functions.  A NULL
 * schedule means that job is not wanted: it is removed if it exists.
 * Idempotent: the jobs are named, and pg_cron replaces a job of the same
 * name.  A job whose function is not installed is still scheduled, with
 * a WARNING (its runs fail until the function exists).
 * Errors: the readiness errors (55000, 0A000, 42501) and 22023 for a
 * schedule pg_cron does not accept.  Locks: row locks in cron.job.
 */
CREATE FUNCTION inventory.schedule_jobs(
    p_maintenance text DEFAULT '*/10 * * * *',
    p_archival text DEFAULT '15 2 * * *',
    p_refresh text DEFAULT '*/5 * * * *',
    p_rollup_check text DEFAULT '30 3 * * *')
RETURNS TABLE (job_name text, schedule text, command text, jobid bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_def record;
    v_schedule text;
BEGIN
    PERFORM inventory.require_cron();

    FOR v_def IN
        SELECT d.job_name, d.job, d.command, d.called_function
        FROM inventory.job_definitions() d
        ORDER BY d.job_name
    LOOP
        v_schedule := CASE v_def.job
                          WHEN 'maintenance' THEN p_maintenance
                          WHEN 'archival' THEN p_archival
                          WHEN 'refresh' THEN p_refresh
                          WHEN 'rollup_check' THEN p_rollup_check
                      END;
        IF v_schedule IS NULL THEN
            EXECUTE 'SELECT pg_catalog.count(cron.unschedule(j.jobid))
                     FROM cron.job j
                     WHERE j.jobname OPERATOR(pg_catalog.=) $1
                       AND j.username OPERATOR(pg_catalog.=) current_user'
                USING v_def.job_name;
            CONTINUE;
        END IF;

        IF NOT EXISTS (
            SELECT 1 FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'inventory'::pg_catalog.regnamespace
              AND p.proname = pg_catalog.split_part(v_def.called_function, '.', 2))
        THEN
            RAISE WARNING 'job "%" calls %, which is not installed',
                v_def.job_name, v_def.called_function
                USING HINT = 'The job is scheduled, but its runs fail until the function exists.';
        END IF;

        BEGIN
            EXECUTE 'SELECT cron.schedule($1, $2, $3)'
                INTO jobid
                USING v_def.job_name, v_schedule, v_def.command;
        EXCEPTION
            WHEN invalid_parameter_value OR internal_error THEN
                RAISE EXCEPTION 'invalid schedule for job "%": "%"',
                    v_def.job_name, v_schedule
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use five cron fields, for example ''*/5 * * * *'', or ''@daily''.';
        END;
        job_name := v_def.job_name;
        schedule := v_schedule;
        command := v_def.command;
        RETURN NEXT;
    END LOOP;
END;
$$;

/*
 * unschedule_jobs() -> integer
 *
 * Removes the extension's jobs owned by the calling user (all of them for
 * a superuser) from pg_cron and returns how many were removed; their run
 * history stays in cron.job_run_details.  Errors: the readiness errors.
 */
CREATE FUNCTION inventory.unschedule_jobs()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    PERFORM inventory.require_cron();
    EXECUTE 'SELECT pg_catalog.count(cron.unschedule(j.jobid))::integer
             FROM cron.job j
             WHERE j.jobname OPERATOR(pg_catalog.=) ANY ($1)'
        INTO v_count
        USING ARRAY(SELECT d.job_name FROM inventory.job_definitions() d);
    RETURN v_count;
END;
$$;

/*
 * list_job_runs(p_recent int DEFAULT 10) -> rows
 *
 * The rows of the view inventory.job_runs: one per job of ours in pg_cron,
 * with its schedule, whether active, and its last run and counts over its
 * p_recent latest runs from cron.job_run_details.  No rows when pg_cron is
 * not usable here (cron_readiness() says why).  SECURITY DEFINER so that
 * readers see the jobs whoever scheduled them (pg_cron shows each user
 * only their own); it takes no input that reaches SQL text and reads
 * only our named jobs.
 */
CREATE FUNCTION inventory.list_job_runs(
    p_recent integer DEFAULT 10,
    OUT job_name text,
    OUT jobid bigint,
    OUT schedule text,
    OUT command text,
    OUT active boolean,
    OUT username text,
    OUT recent_runs bigint,
    OUT recent_failures bigint,
    OUT last_status text,
    OUT last_start timestamptz,
    OUT last_end timestamptz,
    OUT last_message text)
RETURNS SETOF record
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (inventory.cron_readiness()).ready THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT j.jobname::text, j.jobid, j.schedule, j.command, j.active,
                j.username::text,
                pg_catalog.count(r.runid),
                pg_catalog.count(r.runid)
                    FILTER (WHERE r.status OPERATOR(pg_catalog.=) ''failed''),
                (pg_catalog.array_agg(r.status ORDER BY r.runid DESC))[1],
                (pg_catalog.array_agg(r.start_time ORDER BY r.runid DESC))[1],
                (pg_catalog.array_agg(r.end_time ORDER BY r.runid DESC))[1],
                (pg_catalog.array_agg(r.return_message ORDER BY r.runid DESC))[1]
         FROM cron.job j
         LEFT JOIN LATERAL (
             SELECT d.runid, d.status, d.start_time, d.end_time,
                    d.return_message
             FROM cron.job_run_details d
             WHERE d.jobid OPERATOR(pg_catalog.=) j.jobid
             ORDER BY d.runid DESC
             LIMIT $2) r ON true
         WHERE j.jobname OPERATOR(pg_catalog.=) ANY ($1)
         GROUP BY j.jobid
         ORDER BY j.jobname, j.username'
        USING ARRAY(SELECT d.job_name FROM inventory.job_definitions() d),
              GREATEST(COALESCE(p_recent, 10), 1);
END;
$$;

CREATE VIEW inventory.job_runs AS
SELECT * FROM inventory.list_job_runs();
COMMENT ON VIEW inventory.job_runs IS
    'Jobs of inventory_ext in pg_cron with their last runs; empty without pg_cron';

/*
 * index_usage: every index on our schema's tables, with scans since the
 * statistics were last reset and a verdict:
 *   'unused'       no scan at all;
 *   'rarely used'  fewer scans than 1% of the writes it had to absorb;
 *   'used'         otherwise.
 * Indexes that enforce a constraint (primary key, unique, exclusion) are
 * marked so: they cannot be dropped for being unused.
 */
CREATE VIEW inventory.index_usage AS
SELECT s.relname AS table_name,
       s.indexrelname AS index_name,
       s.idx_scan,
       s.idx_tup_read,
       t.n_tup_ins + t.n_tup_upd + t.n_tup_del AS table_writes,
       pg_catalog.pg_relation_size(s.indexrelid) AS index_bytes,
       (x.indisunique OR x.indisprimary OR x.indisexclusion) AS enforces_constraint,
       CASE WHEN s.idx_scan = 0 THEN 'unused'
            WHEN s.idx_scan * 100 < t.n_tup_ins + t.n_tup_upd + t.n_tup_del
                THEN 'rarely used'
            ELSE 'used' END AS verdict,
       (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
        WHERE d.datname = pg_catalog.current_database()) AS stats_since
FROM pg_catalog.pg_stat_user_indexes s
JOIN pg_catalog.pg_stat_user_tables t ON t.relid = s.relid
JOIN pg_catalog.pg_index x ON x.indexrelid = s.indexrelid
WHERE s.schemaname = 'inventory';
COMMENT ON VIEW inventory.index_usage IS
    'Scans per index on schema inventory, with unused and rarely used ones flagged';

/*
 * bloat_estimate: estimated wasted space of our tables and B-tree
 * indexes, from the planner statistics (run ANALYZE first): the space
 * the live rows would need at the fill factor, from pg_stats average
 * widths plus tuple and item overheads, compared with the actual size.
 * An estimate, typically within 10-20%; exact figures come from the
 * pgstattuple extension.  Objects never analyzed, and non-B-tree
 * indexes, have NULL estimates.
 */
CREATE VIEW inventory.bloat_estimate AS
WITH tbl AS (
    SELECT c.oid, c.relname, c.relpages, c.reltuples,
           COALESCE((SELECT pg_catalog.split_part(o, '=', 2)::integer
                     FROM pg_catalog.unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
           (SELECT sum(st.avg_width)
            FROM pg_catalog.pg_stats st
            WHERE st.schemaname = 'inventory' AND st.tablename = c.relname
              AND NOT st.inherited) AS row_width
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = 'inventory'::pg_catalog.regnamespace
      AND c.relkind IN ('r', 'm')
),
idx AS (
    SELECT i.oid, i.relname, t.relname AS table_name, i.relpages,
           i.reltuples,
           COALESCE((SELECT pg_catalog.split_part(o, '=', 2)::integer
                     FROM pg_catalog.unnest(i.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
           (SELECT sum(COALESCE(st.avg_width, 8))
            FROM pg_catalog.unnest(x.indkey::smallint[]) k(attnum)
            LEFT JOIN pg_catalog.pg_attribute a
              ON a.attrelid = x.indrelid AND a.attnum = k.attnum
            LEFT JOIN pg_catalog.pg_stats st
              ON st.schemaname = 'inventory' AND st.tablename = t.relname
             AND st.attname = a.attname AND NOT st.inherited) AS key_width,
           t.reltuples >= 0 AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_stats st
               WHERE st.schemaname = 'inventory'
                 AND st.tablename = t.relname) AS analyzed
    FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
    JOIN pg_catalog.pg_am am ON am.oid = i.relam
    WHERE t.relnamespace = 'inventory'::pg_catalog.regnamespace
      AND i.relkind = 'i'
      AND am.amname = 'btree'
),
est AS (
    SELECT 'table'::text AS object_type, relname AS table_name,
           relname AS object_name, relpages,
           CASE WHEN reltuples >= 0 AND row_width IS NOT NULL THEN
               pg_catalog.ceil(reltuples::numeric * (row_width + 24 + 4)
                   / ((pg_catalog.current_setting('block_size')::integer - 24)
                      * fillfactor / 100.0))
           END AS expected_pages
    FROM tbl
    UNION ALL
    SELECT 'index', table_name, relname, relpages,
           CASE WHEN analyzed AND reltuples >= 0 THEN
               -- one metapage, tuples of 8-byte header + keys + 4-byte item
               1 + pg_catalog.ceil(reltuples::numeric * (8 + key_width + 4)
                   / ((pg_catalog.current_setting('block_size')::integer - 24 - 16)
                      * fillfactor / 100.0))
           END
    FROM idx
)
SELECT object_type, table_name, object_name,
       relpages::bigint * pg_catalog.current_setting('block_size')::integer
           AS actual_bytes,
       (expected_pages * pg_catalog.current_setting('block_size')::integer)::bigint
           AS expected_bytes,
       (GREATEST(relpages - expected_pages, 0)
           * pg_catalog.current_setting('block_size')::integer)::bigint
           AS bloat_bytes,
       CASE WHEN relpages > 0 AND expected_pages IS NOT NULL THEN
           round(100.0 * GREATEST(relpages - expected_pages, 0) / relpages, 1)
       END AS bloat_pct
FROM est;
COMMENT ON VIEW inventory.bloat_estimate IS
    'Estimated wasted space of tables and B-tree indexes in schema inventory (needs ANALYZE)';

/*
 * maintenance_activity: sessions running our maintenance-style functions,
 * or holding or waiting for one of our advisory locks, with how long they
 * have run and who blocks them or whom they block.  state_summary is
 * 'blocked' (waiting for a lock held by blocked_by), 'blocking' (others
 * wait for it), 'long running' (over 5 minutes) or 'running'.
 */
CREATE VIEW inventory.maintenance_activity AS
WITH ours AS (
    SELECT l.pid,
           pg_catalog.string_agg(
               CASE l.objid
                   WHEN 1 THEN 'summary refresh'
                   WHEN 2 THEN 'rollup check'
                   ELSE COALESCE((SELECT c.oid::pg_catalog.regclass::text
                                  FROM pg_catalog.pg_class c
                                  WHERE c.oid = l.objid),
                                 'table ' || l.objid)
               END
               || CASE WHEN l.granted THEN ' (held)' ELSE ' (waiting)' END,
               ', ' ORDER BY l.objid) AS advisory_locks
    FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'advisory'
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                        WHERE d.datname = pg_catalog.current_database())
      AND l.classid = x'494E5645'::integer::pg_catalog.oid
      AND l.objsubid = 2
    GROUP BY l.pid
),
sessions AS (
    SELECT a.pid, a.usename, a.application_name, a.state, a.xact_start,
           a.query_start, a.wait_event_type, a.wait_event, a.query,
           o.advisory_locks,
           pg_catalog.pg_blocking_pids(a.pid) AS blocked_by
    FROM pg_catalog.pg_stat_activity a
    LEFT JOIN ours o ON o.pid = a.pid
    WHERE a.pid <> pg_catalog.pg_backend_pid()
      AND a.datname = pg_catalog.current_database()
      AND (o.pid IS NOT NULL
           OR a.query ~* 'inventory\.(run_maintenance|archive_|restore_month|refresh_summary|rebuild_|create_partition|import_online_retail)')
)
SELECT s.pid, s.usename, s.application_name, s.state,
       pg_catalog.now() - COALESCE(s.xact_start, s.query_start) AS running_for,
       s.wait_event_type, s.wait_event, s.advisory_locks, s.blocked_by,
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity b
        WHERE s.pid = ANY (pg_catalog.pg_blocking_pids(b.pid))) AS blocking,
       CASE WHEN pg_catalog.cardinality(s.blocked_by) > 0 THEN 'blocked'
            WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity b
                         WHERE s.pid = ANY (pg_catalog.pg_blocking_pids(b.pid)))
                THEN 'blocking'
            WHEN pg_catalog.now() - COALESCE(s.xact_start, s.query_start)
                 > interval '5 minutes' THEN 'long running'
            ELSE 'running' END AS state_summary,
       pg_catalog.left(s.query, 200) AS query
FROM sessions s;
COMMENT ON VIEW inventory.maintenance_activity IS
    'Sessions running inventory_ext maintenance or holding its advisory locks, blocked or long-running';
