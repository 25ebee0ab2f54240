/*
 * 20_partition.sql: the partition engine (src/partition.c).
 *
 * Registered tables get one partition per calendar month of the time zone
 * stored in their policy (inventory.partition_policies, 00_schema.sql),
 * never of the session that runs maintenance.  Maintenance premakes
 * months, gives rows waiting in the default partition their month's
 * partition, and applies retention by the real bounds of each partition.
 * Every wait for a lock is bounded by inventory_ext.lock_timeout; a table
 * whose locks cannot be had is reported as skipped, never waited for.
 */

-- what the last maintenance of a table did, for partition_health
ALTER TABLE inventory.partition_policies
    ADD COLUMN last_maintenance_summary text;

/*
 * One row per action maintenance took or declined, per run.  The same rows
 * are returned by run_maintenance; this table keeps them for the DBA.
 */
CREATE TABLE inventory.maintenance_log (
    log_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint NOT NULL,
    parent_oid      oid NOT NULL,
    parent_name     text NOT NULL,
    action          text NOT NULL
                    CHECK (action IN ('created', 'dropped', 'detached',
                                      'archived', 'skipped', 'stray')),
    partition_name  text,
    detail          text,
    as_of           timestamptz NOT NULL,
    logged_at       timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE inventory.maintenance_log IS
    'Partition maintenance: one row per action taken or skipped';
CREATE INDEX maintenance_log_parent_idx
    ON inventory.maintenance_log (parent_oid, log_id);

CREATE SEQUENCE inventory.maintenance_log_run_id_seq;

SELECT pg_catalog.pg_extension_config_dump('inventory.maintenance_log', '');

/*
 * register_partitioned_table(parent, column, time_zone, premake_months,
 *     retention, retention_action, archive_parent, options)
 *
 * Records the policy of a table partitioned by RANGE on a timestamptz,
 * timestamp or date column.  time_zone defaults to the server's TimeZone
 * (its configured value, not a SET of the calling session), and is stored.
 * retention is a positive whole number of months/years or of days;
 * anything else (mixed units, a time part, zero, negative) is ambiguous
 * and refused with 22023.  Creates no partition: run maintenance next.
 * The caller must own the table.
 */
CREATE FUNCTION inventory.register_partitioned_table(
    p_parent regclass,
    p_column name,
    p_time_zone text DEFAULT NULL,
    p_premake_months integer DEFAULT 3,
    p_retention interval DEFAULT NULL,
    p_retention_action text DEFAULT 'detach',
    p_archive_parent regclass DEFAULT NULL,
    p_options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_register_partitioned_table';

/*
 * unregister_partitioned_table(parent): forget the policy; partitions stay.
 */
CREATE FUNCTION inventory.unregister_partitioned_table(p_parent regclass)
RETURNS void
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_unregister_partitioned_table';

/*
 * create_partition(parent, month): the partition of the calendar month
 * holding p_month, in the policy's zone.  Idempotent: action 'exists' when
 * a partition with exactly these bounds is there.  Rows of the month in
 * the default partition are moved into the new partition.
 */
CREATE FUNCTION inventory.create_partition(
    p_parent regclass,
    p_month date)
RETURNS TABLE (partition text, action text, rows_moved bigint)
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_create_partition';

/*
 * create_partitions(parent, from, to): create_partition for every month
 * from p_from's to p_to's, inclusive (at most 1200).
 */
CREATE FUNCTION inventory.create_partitions(
    p_parent regclass,
    p_from date,
    p_to date)
RETURNS TABLE (partition text, action text, rows_moved bigint)
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_create_partitions';

/*
 * run_maintenance(parent, now): premake, rescue of the default partition
 * and retention, for one registered table or all of them, in this
 * transaction.  One row per action taken ('created', 'dropped',
 * 'detached', 'archived') or declined ('skipped', 'stray').  p_now is the
 * reference time (tests and replays inject it).
 */
CREATE FUNCTION inventory.run_maintenance(
    p_parent regclass DEFAULT NULL,
    p_now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (parent text, action text, partition text, detail text)
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_run_maintenance';

/*
 * run_maintenance_proc(parent, now): run_maintenance one table at a time,
 * committing after each, so the locks of one table are released before
 * the next is touched.  This is what the pg_cron job calls; CALL it
 * outside an explicit transaction block.  A table whose maintenance fails
 * is reported as a WARNING and the others are still maintained.  Written
 * in C: a procedure that commits cannot carry SET search_path, and the C
 * code qualifies every name.
 */
CREATE PROCEDURE inventory.run_maintenance_proc(
    p_parent regclass DEFAULT NULL,
    p_now timestamptz DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_run_maintenance_proc';

/*
 * partition_bounds(parent, now): the partitions of a registered table and
 * their real bounds from the catalog, shown in the policy's zone (the
 * same text whatever the session's TimeZone); month is the calendar month
 * a partition spans exactly, NULL for other bounds; position is 'past',
 * 'current', 'future' or 'default'.  Takes no locks.
 */
CREATE FUNCTION inventory.partition_bounds(
    p_parent regclass,
    p_now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (partition text, ordinal integer, is_default boolean,
               lower_bound text, upper_bound text, month date,
               "position" text)
LANGUAGE c
STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_partition_bounds';

/*
 * partition_default_rows(parent): rows in the default partition of a
 * partitioned table; NULL when it has none, when the caller may not read
 * it, or when a lock on it is held for longer than 100 ms (a health check
 * must never queue behind DDL and hold up writers in turn).
 */
CREATE FUNCTION inventory.partition_default_rows(p_parent regclass)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '100ms'
AS $$
DECLARE
    v_default regclass;
    v_count bigint;
BEGIN
    SELECT pt.partdefid::regclass INTO v_default
    FROM pg_catalog.pg_partitioned_table pt
    WHERE pt.partrelid = p_parent AND pt.partdefid <> 0;
    IF v_default IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY %s',
                              v_default)
    INTO v_count;
    RETURN v_count;
EXCEPTION
    WHEN lock_not_available OR insufficient_privilege THEN
        RETURN NULL;
END;
$$;

/*
 * Per registered table: partitions behind (wholly past), the current one,
 * ahead (future), the premade months still missing, rows waiting in the
 * default partition, the oldest and newest bound (in the policy's zone),
 * and when the last maintenance ran and what it did.
 */
CREATE VIEW inventory.partition_health AS
SELECT p.parent,
       p.time_zone,
       p.premake_months,
       p.retention,
       p.retention_action,
       COALESCE(b.partitions, 0) AS partitions,
       COALESCE(b.behind, 0) AS partitions_behind,
       COALESCE(b.has_current, false) AS has_current,
       COALESCE(b.ahead, 0) AS partitions_ahead,
       GREATEST(p.premake_months - COALESCE(b.ahead, 0), 0)
           AS premake_missing,
       inventory.partition_default_rows(p.parent) AS default_rows,
       b.oldest_bound,
       b.newest_bound,
       p.last_maintenance_at,
       p.last_maintenance_summary
FROM inventory.partition_policies p
LEFT JOIN LATERAL (
    SELECT pg_catalog.count(*) FILTER (WHERE NOT r.is_default) AS partitions,
           pg_catalog.count(*) FILTER (WHERE r."position" = 'past') AS behind,
           pg_catalog.bool_or(r."position" = 'current') AS has_current,
           pg_catalog.count(*) FILTER (WHERE r."position" = 'future') AS ahead,
           (pg_catalog.array_agg(r.lower_bound ORDER BY r.ordinal)
               FILTER (WHERE NOT r.is_default))[1] AS oldest_bound,
           (pg_catalog.array_agg(r.upper_bound ORDER BY r.ordinal DESC)
               FILTER (WHERE NOT r.is_default))[1] AS newest_bound
    -- through pg_class, so that a registered table that was dropped or
    -- is no longer partitioned shows no partitions instead of an error
    FROM pg_catalog.pg_class c,
         LATERAL inventory.partition_bounds(c.oid::pg_catalog.regclass) r
    WHERE c.oid = p.parent AND c.relkind = 'p'
) b ON true;
COMMENT ON VIEW inventory.partition_health IS
    'Registered partitioned tables: partitions behind/ahead, default rows, last maintenance';
