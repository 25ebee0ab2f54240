/*
 * 30_archive.sql: archival of old ledger months (src/archive.c).
 *
 * A whole month leaves the hot ledger as metadata: its partition is
 * detached from the hot parent and attached to the parent's archive
 * (partition_policies.archive_parent, inventory.transactions_archive by
 * default).  Rows of a partial month, and old rows in the hot default
 * partition, move in batches, each batch one transaction in which the
 * rows deleted at the source and inserted at the destination are counted
 * and checksummed.  Rows never pass through the hot parent, so stock and
 * rollups are not applied twice, and every row keeps its txn_id and its
 * claim in inventory.transaction_refs.
 */

/*
 * The archive's partitioned indexes mirror the hot ledger's, so that a
 * detached hot partition attaches with the indexes it already has: the
 * unique index matches the hot partition's primary-key index, the others
 * match by definition.  PostgreSQL builds an index only when a partition
 * lacks one of these.
 */
CREATE UNIQUE INDEX transactions_archive_txn_key
    ON inventory.transactions_archive (txn_id, created_at);
CREATE INDEX transactions_archive_product_idx
    ON inventory.transactions_archive (product_id, location_id, created_at);
CREATE INDEX transactions_archive_lot_idx
    ON inventory.transactions_archive (lot_id);
CREATE INDEX transactions_archive_demand_idx
    ON inventory.transactions_archive (demand_ref)
    WHERE demand_ref IS NOT NULL;

/* One row per archival run (or per step of a batched run). */
CREATE TABLE inventory.archive_runs (
    run_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent       text NOT NULL,
    relation     text,
    action       text NOT NULL CHECK (action IN
                 ('attach', 'batch', 'restore', 'remote', 'skip')),
    months       integer NOT NULL DEFAULT 0,
    rows_moved   bigint NOT NULL DEFAULT 0,
    rows_exact   boolean NOT NULL DEFAULT true,
    bytes        bigint NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    duration     interval NOT NULL DEFAULT '0',
    outcome      text NOT NULL DEFAULT 'ok'
                 CHECK (outcome IN ('ok', 'failed', 'skipped')),
    detail       text
);
COMMENT ON TABLE inventory.archive_runs IS
    'Archival runs: months, rows, bytes, duration and outcome';
CREATE INDEX archive_runs_parent_idx
    ON inventory.archive_runs (parent, started_at);

/*
 * Progress of a batched archival (archive_before_proc), committed after
 * every batch so that other sessions can watch it.
 */
CREATE TABLE inventory.archive_progress (
    parent       text PRIMARY KEY,
    cutoff       timestamptz NOT NULL,
    state        text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    steps        integer NOT NULL DEFAULT 0,
    months_attached integer NOT NULL DEFAULT 0,
    rows_moved   bigint NOT NULL DEFAULT 0,
    current_relation text,
    detail       text
);
COMMENT ON TABLE inventory.archive_progress IS
    'Progress of batched archival runs, one row per parent';

SELECT pg_catalog.pg_extension_config_dump('inventory.archive_runs', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.archive_progress', '');

/*
 * list_partition_ranges(parent): the partitions of a range-partitioned
 * table with their bounds, as the text PostgreSQL prints and as
 * timestamptz; the default partition has is_default and NULL bounds.
 */
CREATE FUNCTION inventory.list_partition_ranges(p_parent regclass)
RETURNS TABLE (partition regclass, is_default boolean,
               lower_text text, upper_text text,
               lower_at timestamptz, upper_at timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid::pg_catalog.regclass,
           b.def OPERATOR(pg_catalog.=) 'DEFAULT',
           m.v[1], m.v[2],
           m.v[1]::pg_catalog.timestamptz, m.v[2]::pg_catalog.timestamptz
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
    CROSS JOIN LATERAL
        (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS def) b
    LEFT JOIN LATERAL
        (SELECT pg_catalog.regexp_match(b.def,
            '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS v) m
        ON true
    WHERE i.inhparent OPERATOR(pg_catalog.=) p_parent
      AND NOT i.inhdetachpending
    ORDER BY 5, 1
$$;

/*
 * archive_partition(partition, count_rows)
 *
 * Moves one whole hot partition to its parent's archive as metadata.
 * Returns the rows archived: the planner's estimate by default, so that
 * the run's time does not depend on the month's size; exact (one scan of
 * the month, before the hot parent is locked) when p_count_rows.
 */
CREATE FUNCTION inventory.archive_partition(
    p_partition regclass,
    p_count_rows boolean DEFAULT false)
RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_archive_partition';

/*
 * archive_step(parent, cutoff, batch_size, now, from)
 *
 * One unit of archival work on the rows dated before the cutoff (and on
 * or after p_from when given, for a date range): a whole month attached
 * to the archive, or one batch of rows moved.  action is 'attach', 'batch' or
 * 'done' (nothing left).  archive_before and archive_before_proc loop on it.
 */
CREATE FUNCTION inventory.archive_step(
    p_parent regclass,
    p_cutoff timestamptz,
    p_batch_size integer DEFAULT NULL,
    p_now timestamptz DEFAULT pg_catalog.now(),
    p_from timestamptz DEFAULT NULL,
    OUT action text,
    OUT relation text,
    OUT rows_moved bigint)
RETURNS record
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_archive_step';

/*
 * archive_before(parent, cutoff, batch_size, verbose, now, from)
 *
 * Everything of the parent dated before the cutoff (and on or after
 * p_from when given), in one transaction.
 * Returns the rows archived.
 */
CREATE FUNCTION inventory.archive_before(
    p_parent regclass,
    p_cutoff timestamptz,
    p_batch_size integer DEFAULT NULL,
    p_verbose boolean DEFAULT false,
    p_now timestamptz DEFAULT pg_catalog.now(),
    p_from timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_archive_before';

/*
 * archive_before_proc(parent, cutoff, batch_size, verbose, now, from)
 *
 * The same, committing after every month and every batch, so that a crash
 * or a cancel loses at most the step in flight (which rolls back whole)
 * and a rerun continues.  Progress is committed to
 * inventory.archive_progress after each step; a NOTICE per step.  In C: a
 * procedure that commits cannot carry a SET search_path clause, and C
 * qualifies every name instead.
 */
CREATE PROCEDURE inventory.archive_before_proc(
    p_parent regclass,
    p_cutoff timestamptz,
    p_batch_size integer DEFAULT NULL,
    p_verbose boolean DEFAULT true,
    p_now timestamptz DEFAULT NULL,
    p_from timestamptz DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_archive_before_proc';

/*
 * restore_month(parent, month)
 *
 * Brings an archived month back into the hot ledger.  Returns the rows
 * restored.
 */
CREATE FUNCTION inventory.restore_month(p_parent regclass, p_month date)
RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_restore_month';

/*
 * archive_partition_remote(partition, server, remote_table)
 *
 * Copies a whole month to a table on another server through
 * postgres_fdw, verifies count and checksum there, then detaches and
 * drops the local partition.  Returns the rows archived.
 */
CREATE FUNCTION inventory.archive_partition_remote(
    p_partition regclass,
    p_server name,
    p_remote_table text)
RETURNS bigint
LANGUAGE c
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, YMD'
AS 'MODULE_PATHNAME', 'inv_archive_partition_remote';

/*
 * restore_month_remote(parent, month, server, remote_table)
 *
 * Brings a month archived with archive_partition_remote back, in two
 * calls: the first copies it into the hot ledger and verifies it (the
 * remote copy is kept), the second, finding both copies identical,
 * deletes the remote one.  Returns the rows restored, or minus the rows
 * deleted remotely.
 */
CREATE FUNCTION inventory.restore_month_remote(
    p_parent regclass,
    p_month date,
    p_server name,
    p_remote_table text)
RETURNS bigint
LANGUAGE c
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, YMD'
AS 'MODULE_PATHNAME', 'inv_restore_month_remote';

/*
 * archive_detached(table, parent)
 *
 * Second half of the concurrent path: attaches a table that was detached
 * from the hot parent with DETACH PARTITION ... CONCURRENTLY to the
 * parent's archive.  The bounds are read from the CHECK constraint that
 * the concurrent detach leaves behind.
 */
CREATE FUNCTION inventory.archive_detached(p_table regclass,
                                           p_parent regclass)
RETURNS bigint
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_archive_detached';

/*
 * archive_statements(partition)
 *
 * The statements that archive a partition while writers keep writing:
 * a DETACH ... CONCURRENTLY, which PostgreSQL runs only as a top-level
 * statement outside a transaction block, then archive_detached.  Run each
 * as its own statement (psql \gexec, or one pg_cron job each).  PostgreSQL
 * allows the concurrent detach only on a table without a default
 * partition, so this path is refused (0A000) for the ledger itself, whose
 * default partition is part of its contract; archive_partition is the
 * path there.
 */
CREATE FUNCTION inventory.archive_statements(p_partition regclass)
RETURNS SETOF text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent regclass;
BEGIN
    IF p_partition IS NULL THEN
        RAISE EXCEPTION 'partition must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT i.inhparent::regclass INTO v_parent
    FROM pg_catalog.pg_inherits i
    JOIN inventory.partition_policies p ON p.parent = i.inhparent
    WHERE i.inhrelid = p_partition;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not a partition of a registered table',
            p_partition
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Register the parent with register_partitioned_table first.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_partitioned_table t
               WHERE t.partrelid = v_parent AND t.partdefid <> 0) THEN
        RAISE EXCEPTION 'table "%" cannot detach partitions concurrently', v_parent
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'PostgreSQL refuses DETACH PARTITION ... CONCURRENTLY when the table has a default partition.',
                  HINT = 'Use inventory.archive_partition, which holds the parent''s lock only for the detach and attach, with inventory_ext.lock_timeout and retries.';
    END IF;
    RETURN NEXT pg_catalog.format('ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY',
                                  v_parent, p_partition);
    RETURN NEXT pg_catalog.format('SELECT inventory.archive_detached(%L, %L)',
                                  p_partition::text, v_parent::text);
END;
$$;

/*
 * archive_due(now)
 *
 * The scheduled job: for every policy with retention_action 'archive'
 * and a retention, archives the whole months that ended on or before the
 * start of the month holding (now - retention), in the policy's zone;
 * never the current month.  Commits after each month.  A parent whose
 * advisory lock is held by another run is skipped with a NOTICE; a month
 * that fails is recorded in archive_runs and reported as a WARNING.  In C
 * for the reason given at archive_before_proc.
 */
CREATE PROCEDURE inventory.archive_due(p_now timestamptz DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_archive_due';

/*
 * The whole ledger, hot and archived, in one relation.  A query that
 * filters on created_at prunes the partitions of both sides.
 */
CREATE VIEW inventory.transactions_all AS
    SELECT t.txn_id, t.created_at, t.org_id, t.product_id, t.location_id,
           t.lot_id, t.txn_type, t.quantity, t.unit_cost, t.reference,
           t.demand_ref, t.note, false AS archived
    FROM inventory.transactions t
    UNION ALL
    SELECT a.txn_id, a.created_at, a.org_id, a.product_id, a.location_id,
           a.lot_id, a.txn_type, a.quantity, a.unit_cost, a.reference,
           a.demand_ref, a.note, true AS archived
    FROM inventory.transactions_archive a;
COMMENT ON VIEW inventory.transactions_all IS
    'Hot and archived ledger rows together (UNION ALL)';

/*
 * archive_history: every archival run, newest first in the usual query,
 * with its end time and rate; failed and skipped runs included.
 */
CREATE VIEW inventory.archive_history AS
    SELECT r.run_id, r.parent, r.relation, r.action, r.months,
           r.rows_moved, r.rows_exact, r.bytes,
           pg_catalog.pg_size_pretty(r.bytes) AS size,
           r.started_at, r.duration,
           r.started_at OPERATOR(pg_catalog.+) r.duration AS finished_at,
           CASE WHEN pg_catalog.date_part('epoch', r.duration)
                     OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round((r.rows_moved
                     OPERATOR(pg_catalog./)
                     pg_catalog.date_part('epoch', r.duration))::pg_catalog.numeric)
           END AS rows_per_second,
           r.outcome, r.detail
    FROM inventory.archive_runs r;
COMMENT ON VIEW inventory.archive_history IS
    'Archival runs with size, end time and rate (reads inventory.archive_runs)';

/*
 * archive_health: per archived parent, what archival has done and whether
 * it is failing: months and rows archived, the last good run, the last
 * failure and its reason, failures in the last 7 days, and the state of
 * the last batched run (archive_progress).
 */
CREATE VIEW inventory.archive_health AS
    SELECT r.parent,
           COALESCE(pg_catalog.sum(r.months) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'ok'
                 AND r.action OPERATOR(pg_catalog.<>) 'restore'), 0)
               AS months_archived,
           COALESCE(pg_catalog.sum(r.months) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'ok'
                 AND r.action OPERATOR(pg_catalog.=) 'restore'), 0)
               AS months_restored,
           COALESCE(pg_catalog.sum(r.rows_moved) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'ok'
                 AND r.action OPERATOR(pg_catalog.<>) 'restore'), 0)
               AS rows_archived,
           pg_catalog.max(r.started_at) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'ok') AS last_ok_at,
           pg_catalog.max(r.started_at) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'failed')
               AS last_failure_at,
           (pg_catalog.array_agg(r.detail ORDER BY r.started_at DESC)
               FILTER (WHERE r.outcome OPERATOR(pg_catalog.=) 'failed'))[1]
               AS last_failure,
           pg_catalog.count(*) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'failed'
                 AND r.started_at OPERATOR(pg_catalog.>)
                     (pg_catalog.now() OPERATOR(pg_catalog.-)
                      '7 days'::pg_catalog.interval)) AS failures_7d,
           pg_catalog.count(*) FILTER (
               WHERE r.outcome OPERATOR(pg_catalog.=) 'skipped'
                 AND r.started_at OPERATOR(pg_catalog.>)
                     (pg_catalog.now() OPERATOR(pg_catalog.-)
                      '7 days'::pg_catalog.interval)) AS skipped_7d,
           g.state AS batch_state,
           g.updated_at AS batch_updated_at
    FROM inventory.archive_runs r
    LEFT JOIN inventory.archive_progress g
           ON g.parent OPERATOR(pg_catalog.=) r.parent
    GROUP BY r.parent, g.state, g.updated_at;
COMMENT ON VIEW inventory.archive_health IS
    'Archival per parent: months and rows archived, last success and failure';
