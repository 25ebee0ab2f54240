/*
 * 50_reorder.sql: daily usage rollup and reorder analysis.
 *
 * inventory.daily_usage holds, per product, location and local calendar
 * day (in the organisation's time zone), the quantity that counts as
 * demand (shipments and consumption, as positive numbers) and the
 * quantity returned.  Receipts, transfers and adjustments are never
 * demand.  A statement trigger on the ledger's parent adds each
 * statement's rows in one set-based upsert; rows moved between
 * partitions (maintenance, archival) are inserted straight into a
 * partition, so the parent's trigger does not fire and the rollup is not
 * counted twice.  rebuild_daily_usage() recomputes any range from the
 * ledger (hot and archive); check_daily_usage() lists disagreements.
 *
 * analyze_reorder() (C, src/reorder.c) reads the rollup, never the raw
 * ledger, so its cost grows with products times days.
 */

CREATE TABLE inventory.daily_usage (
    product_id  bigint NOT NULL,
    location_id bigint NOT NULL,
    -- local calendar day in the organisation's time zone
    day         date NOT NULL,
    -- shipments and consumption, as a positive quantity
    demand      numeric NOT NULL DEFAULT 0,
    -- returns, as a positive quantity
    returned    numeric NOT NULL DEFAULT 0,
    -- number of demand lines (shipment and consumption rows)
    lines       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, location_id, day)
);
COMMENT ON TABLE inventory.daily_usage IS
    'Demand and returns per product, location and local day; kept by a ledger trigger';
SELECT pg_catalog.pg_extension_config_dump('inventory.daily_usage', '');
-- analyze_reorder reads one window of days for all of an organisation's
-- products: without this index that was a scan of every day ever kept
-- (36 months in the bench, 97% of the rows thrown away).  Updates of a
-- day's figures do not touch it (demand, returned, lines are not indexed,
-- so they stay HOT); one entry per new (product, location, day).
CREATE INDEX daily_usage_day_idx ON inventory.daily_usage (day);

/*
 * ledger_add_daily_usage(): AFTER INSERT FOR EACH STATEMENT on the ledger
 * parent.  Adds the statement's demand and returns to the rollup with one
 * upsert, in key order so that concurrent loads cannot deadlock on the
 * rollup's rows.  Takes ROW EXCLUSIVE on daily_usage and row locks on the
 * rows it changes.
 */
CREATE FUNCTION inventory.ledger_add_daily_usage()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO inventory.daily_usage AS u
        (product_id, location_id, day, demand, returned, lines)
    SELECT n.product_id, n.location_id,
           (n.created_at AT TIME ZONE o.time_zone)::date,
           COALESCE(sum(-n.quantity) FILTER (
               WHERE n.txn_type IN ('shipment', 'consumption')), 0),
           COALESCE(sum(n.quantity) FILTER (WHERE n.txn_type = 'return'), 0),
           count(*) FILTER (WHERE n.txn_type IN ('shipment', 'consumption'))
    FROM new_rows n
    JOIN inventory.organizations o ON o.org_id = n.org_id
    WHERE n.txn_type IN ('shipment', 'consumption', 'return')
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (product_id, location_id, day) DO UPDATE
    SET demand = u.demand + EXCLUDED.demand,
        returned = u.returned + EXCLUDED.returned,
        lines = u.lines + EXCLUDED.lines;
    RETURN NULL;
END;
$$;

CREATE TRIGGER transactions_daily_usage
    AFTER INSERT ON inventory.transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.ledger_add_daily_usage();

/*
 * ledger_daily_usage(org, from, to): the rollup's rows for local days
 * from..to (inclusive) computed from the ledger, hot and archive.  The
 * reference the rollup is checked and rebuilt against.
 */
CREATE FUNCTION inventory.ledger_daily_usage(
    p_org_id bigint, p_from date, p_to date)
RETURNS TABLE (product_id bigint, location_id bigint, day date,
               demand numeric, returned numeric, lines integer)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.product_id, t.location_id,
           (t.created_at AT TIME ZONE o.time_zone)::date,
           COALESCE(sum(-t.quantity) FILTER (
               WHERE t.txn_type IN ('shipment', 'consumption')), 0),
           COALESCE(sum(t.quantity) FILTER (WHERE t.txn_type = 'return'), 0),
           (count(*) FILTER (
               WHERE t.txn_type IN ('shipment', 'consumption')))::integer
    FROM (SELECT h.org_id, h.product_id, h.location_id, h.created_at,
                 h.txn_type, h.quantity
          FROM inventory.transactions h
          UNION ALL
          SELECT a.org_id, a.product_id, a.location_id, a.created_at,
                 a.txn_type, a.quantity
          FROM inventory.transactions_archive a) t
    JOIN inventory.organizations o ON o.org_id = t.org_id
    WHERE t.org_id = p_org_id
      AND t.txn_type IN ('shipment', 'consumption', 'return')
      AND t.created_at >= (p_from::timestamp AT TIME ZONE o.time_zone)
      AND t.created_at < ((p_to + 1)::timestamp AT TIME ZONE o.time_zone)
    GROUP BY 1, 2, 3
$$;

/* Raise the errors shared by rebuild and check; returns the org's zone. */
CREATE FUNCTION inventory.daily_usage_check_args(
    p_org_id bigint, p_from date, p_to date)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_zone text;
BEGIN
    IF p_org_id IS NULL OR p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'organization, first day and last day must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_to < p_from THEN
        RAISE EXCEPTION 'last day must not be before first day'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The range given was %s to %s.', p_from, p_to);
    END IF;
    SELECT time_zone INTO v_zone
    FROM inventory.organizations WHERE org_id = p_org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization % does not exist', p_org_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN v_zone;
END;
$$;

/*
 * rebuild_daily_usage(org, from, to) -> rows written
 *
 * Replaces the rollup's rows of the organisation's products for local days
 * from..to (inclusive) with figures recomputed from the ledger (hot and
 * archive).  Takes SHARE ROW EXCLUSIVE on daily_usage first, so a ledger
 * insert running at the same time either committed before (and is read
 * from the ledger) or adds its rows after the rebuild commits.
 */
CREATE FUNCTION inventory.rebuild_daily_usage(
    p_org_id bigint, p_from date, p_to date)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deleted bigint;
    v_written bigint;
BEGIN
    PERFORM inventory.daily_usage_check_args(p_org_id, p_from, p_to);
    LOCK TABLE inventory.daily_usage IN SHARE ROW EXCLUSIVE MODE;

    DELETE FROM inventory.daily_usage u
    USING inventory.products p
    WHERE p.product_id = u.product_id AND p.org_id = p_org_id
      AND u.day BETWEEN p_from AND p_to;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;

    INSERT INTO inventory.daily_usage
        (product_id, location_id, day, demand, returned, lines)
    SELECT l.product_id, l.location_id, l.day, l.demand, l.returned, l.lines
    FROM inventory.ledger_daily_usage(p_org_id, p_from, p_to) l
    ORDER BY 1, 2, 3;
    GET DIAGNOSTICS v_written = ROW_COUNT;

    RAISE LOG 'inventory_ext: rebuild_daily_usage for organization % from % to % removed % rows, wrote %',
        p_org_id, p_from, p_to, v_deleted, v_written;
    RETURN v_written;
END;
$$;

/*
 * check_daily_usage(org, from, to): rows of the rollup that differ from
 * the ledger for local days from..to; no rows means consistent.  Reads
 * only; a rollup row of zeros and a missing row are equal.
 */
CREATE FUNCTION inventory.check_daily_usage(
    p_org_id bigint, p_from date, p_to date)
RETURNS TABLE (product_id bigint, location_id bigint, day date,
               rollup_demand numeric, ledger_demand numeric,
               rollup_returned numeric, ledger_returned numeric,
               rollup_lines integer, ledger_lines integer)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM inventory.daily_usage_check_args(p_org_id, p_from, p_to);
    RETURN QUERY
    SELECT COALESCE(r.product_id, l.product_id),
           COALESCE(r.location_id, l.location_id),
           COALESCE(r.day, l.day),
           COALESCE(r.demand, 0), COALESCE(l.demand, 0),
           COALESCE(r.returned, 0), COALESCE(l.returned, 0),
           COALESCE(r.lines, 0), COALESCE(l.lines, 0)
    FROM (SELECT u.product_id, u.location_id, u.day, u.demand, u.returned,
                 u.lines
          FROM inventory.daily_usage u
          JOIN inventory.products p ON p.product_id = u.product_id
          WHERE p.org_id = p_org_id AND u.day BETWEEN p_from AND p_to) r
    FULL JOIN inventory.ledger_daily_usage(p_org_id, p_from, p_to) l
      ON l.product_id = r.product_id AND l.location_id = r.location_id
     AND l.day = r.day
    WHERE COALESCE(r.demand, 0) <> COALESCE(l.demand, 0)
       OR COALESCE(r.returned, 0) <> COALESCE(l.returned, 0)
       OR COALESCE(r.lines, 0) <> COALESCE(l.lines, 0)
    ORDER BY 1, 2, 3;
END;
$$;

/*
 * service_level_z(p) -> z such that P(Z <= z) = p for a standard normal
 * Z; the safety factor for a cycle service level p in (0, 1).
 */
CREATE FUNCTION inventory.service_level_z(p_service_level numeric)
RETURNS double precision
LANGUAGE c
IMMUTABLE
STRICT
PARALLEL SAFE
AS 'MODULE_PATHNAME', 'inv_service_level_z';

/*
 * analyze_reorder(...): see src/reorder.c and doc/reorder.md.  Reads the
 * rollup, lots and products with ACCESS SHARE locks only.
 */
CREATE FUNCTION inventory.analyze_reorder(
    p_org_id bigint,
    p_as_of date DEFAULT NULL,
    p_window_days integer DEFAULT 30,
    p_service_level numeric DEFAULT 0.95,
    p_by_location boolean DEFAULT false,
    p_only_below boolean DEFAULT false,
    p_category text DEFAULT NULL,
    p_net_returns boolean DEFAULT false,
    p_holding_cost_rate numeric DEFAULT NULL,
    p_order_cost numeric DEFAULT NULL)
RETURNS TABLE (
    product_id bigint,
    sku text,
    location_id bigint,
    on_hand numeric,
    allocated numeric,
    on_order numeric,
    available numeric,
    reorder_point numeric,
    mean_daily_usage numeric,
    stddev_daily_usage numeric,
    days_of_stock numeric,
    safety_stock numeric,
    computed_reorder_point numeric,
    suggested_order_qty numeric)
LANGUAGE c
STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_analyze_reorder';
