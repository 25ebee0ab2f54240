/*
 * 60_summary.sql: stock summaries per organisation and product.
 *
 * Two summaries of the same figures, for two kinds of reader:
 *
 *   inventory.inventory_summary  materialized view, refreshed on demand or
 *                                by the scheduled job; cheap to read, stale
 *                                between refreshes.
 *   inventory.stock_summary      table kept current by statement triggers
 *                                on inventory.lots; never stale.
 *
 * Figures, both summaries: on_hand, allocated and on_order are sums over
 * all lots of the product; available is on-hand minus allocated over lots
 * whose status is 'available' (quarantined and blocked lots cannot serve
 * demand); locations_with_stock counts locations holding a lot with
 * on-hand above zero; last_movement_at is the latest movement of any lot.
 *
 * Maintenance: the triggers add each statement's per-product deltas to
 * the summary rows, locking them in product_id order after the lots (lots
 * are locked in lot_id order by every writer); the few figures deltas
 * cannot give are recomputed from the lots with a snapshot taken after
 * the row lock, for the products that need it only.  So concurrent
 * writers' deltas add up and a recomputation sees every earlier commit
 * (see src/summary.c).
 */

/* The materialized view; products without lots show zeros. */
CREATE MATERIALIZED VIEW inventory.inventory_summary AS
SELECT p.org_id,
       p.product_id,
       p.sku,
       COALESCE(sum(l.qty_on_hand), 0)::numeric(18,4) AS on_hand,
       COALESCE(sum(l.qty_allocated), 0)::numeric(18,4) AS allocated,
       COALESCE(sum(l.qty_on_order), 0)::numeric(18,4) AS on_order,
       COALESCE(sum(l.qty_available)
                FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'available'),
                0)::numeric(18,4) AS available,
       count(DISTINCT l.location_id)
           FILTER (WHERE l.qty_on_hand OPERATOR(pg_catalog.>) 0)
           AS locations_with_stock,
       max(l.last_movement_at) AS last_movement_at
FROM inventory.products p
LEFT JOIN inventory.lots l
       ON l.product_id OPERATOR(pg_catalog.=) p.product_id
GROUP BY p.org_id, p.product_id, p.sku;
COMMENT ON MATERIALIZED VIEW inventory.inventory_summary IS
    'Stock per organisation and product as of the last refresh_summary()';

-- REFRESH ... CONCURRENTLY needs a unique index over all rows
CREATE UNIQUE INDEX inventory_summary_key
    ON inventory.inventory_summary (org_id, product_id);
CREATE INDEX inventory_summary_available_idx
    ON inventory.inventory_summary (org_id, available DESC);

/*
 * refresh_summary(p_concurrently boolean DEFAULT true) -> interval
 *
 * Refreshes inventory.inventory_summary and returns how long it took.
 * Concurrently (readers are not blocked) unless asked otherwise or the
 * view was never populated.  Takes the advisory lock (INV_ADVISORY_KEY,
 * INV_JOB_SUMMARY_REFRESH) without waiting: when another refresh holds it,
 * returns NULL with a NOTICE and does nothing.  Locks: EXCLUSIVE on the
 * view (ACCESS EXCLUSIVE when not concurrent).  SECURITY DEFINER because
 * only the view's owner may refresh it; EXECUTE is granted to
 * inventory_admin only (90_roles.sql).
 */
CREATE FUNCTION inventory.refresh_summary(p_concurrently boolean DEFAULT true)
RETURNS interval
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_start timestamptz := pg_catalog.clock_timestamp();
    v_concurrently boolean;
    v_elapsed interval;
BEGIN
    IF p_concurrently IS NULL THEN
        RAISE EXCEPTION 'p_concurrently must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.pg_try_advisory_xact_lock(x'494E5645'::integer, 1) THEN
        RAISE NOTICE 'summary refresh skipped: another refresh is running'
            USING DETAIL = 'The advisory lock of the summary refresh is held by another session.';
        RETURN NULL;
    END IF;

    SELECT p_concurrently AND c.relispopulated INTO v_concurrently
    FROM pg_catalog.pg_class c
    WHERE c.oid = 'inventory.inventory_summary'::pg_catalog.regclass;
    IF v_concurrently THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY inventory.inventory_summary;
    ELSE
        REFRESH MATERIALIZED VIEW inventory.inventory_summary;
    END IF;

    v_elapsed := pg_catalog.clock_timestamp() - v_start;
    RAISE LOG 'inventory_ext: inventory_summary refreshed (%) in % ms',
        CASE WHEN v_concurrently THEN 'concurrently' ELSE 'blocking' END,
        round(extract(epoch FROM v_elapsed) * 1000, 1);
    RETURN v_elapsed;
END;
$$;

/*
 * The incremental summary: one row per product that has at least one lot.
 * Derived data: not registered with pg_extension_config_dump, because the
 * triggers rebuild it while pg_restore reloads inventory.lots.
 */
CREATE TABLE inventory.stock_summary (
    org_id               bigint NOT NULL,
    product_id           bigint PRIMARY KEY,
    on_hand              numeric(18,4) NOT NULL DEFAULT 0,
    allocated            numeric(18,4) NOT NULL DEFAULT 0,
    on_order             numeric(18,4) NOT NULL DEFAULT 0,
    available            numeric(18,4) NOT NULL DEFAULT 0,
    locations_with_stock bigint NOT NULL DEFAULT 0,
    last_movement_at     timestamptz
);
COMMENT ON TABLE inventory.stock_summary IS
    'Stock per product, kept current by triggers on inventory.lots';
CREATE INDEX stock_summary_org_idx
    ON inventory.stock_summary (org_id, product_id);

/*
 * The figures of the given products recomputed from their lots; one row
 * per product that has lots.  The definition of truth, used by
 * check_stock_summary() and rebuild_stock_summary(); the triggers'
 * recomputation of locations_with_stock and last_movement_at must agree
 * with it.
 */
CREATE FUNCTION inventory.compute_stock_summary(p_product_ids bigint[])
RETURNS SETOF inventory.stock_summary
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.org_id,
           l.product_id,
           sum(l.qty_on_hand)::numeric(18,4),
           sum(l.qty_allocated)::numeric(18,4),
           sum(l.qty_on_order)::numeric(18,4),
           COALESCE(sum(l.qty_available)
                    FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'available'),
                    0)::numeric(18,4),
           count(DISTINCT l.location_id)
               FILTER (WHERE l.qty_on_hand OPERATOR(pg_catalog.>) 0),
           max(l.last_movement_at)
    FROM inventory.lots l
    JOIN inventory.products p
      ON p.product_id OPERATOR(pg_catalog.=) l.product_id
    WHERE p_product_ids IS NULL
       OR l.product_id OPERATOR(pg_catalog.=) ANY (p_product_ids)
    GROUP BY p.org_id, l.product_id
$$;

/*
 * Statement triggers on inventory.lots (src/summary.c).  Each adds the
 * statement's per-product deltas (new minus old, from the transition
 * tables) to the summary rows, locking them in product_id order, and
 * recomputes from the lots only what deltas cannot give (locations with
 * stock, a last movement that went back, products left without lots), for
 * the products that need it.  An UPDATE that changes none of the
 * summarised columns (for instance a lot_code correction) costs one join
 * of the transition tables and nothing more.
 */
CREATE FUNCTION inventory.stock_summary_after_change()
RETURNS trigger
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_stock_summary_trigger';

CREATE FUNCTION inventory.stock_summary_after_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM inventory.stock_summary;
    RETURN NULL;
END;
$$;

CREATE TRIGGER lots_stock_summary_insert
    AFTER INSERT ON inventory.lots
    REFERENCING NEW TABLE AS new_lots
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.stock_summary_after_change();
CREATE TRIGGER lots_stock_summary_update
    AFTER UPDATE ON inventory.lots
    REFERENCING OLD TABLE AS old_lots NEW TABLE AS new_lots
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.stock_summary_after_change();
CREATE TRIGGER lots_stock_summary_delete
    AFTER DELETE ON inventory.lots
    REFERENCING OLD TABLE AS old_lots
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.stock_summary_after_change();
CREATE TRIGGER lots_stock_summary_truncate
    AFTER TRUNCATE ON inventory.lots
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.stock_summary_after_truncate();

/*
 * check_stock_summary() -> rows
 *
 * Compares inventory.stock_summary with a full recomputation from the
 * lots; returns one row per product whose figures differ, with
 * issue 'missing' (no summary row), 'extra' (row for a product without
 * lots) or 'differs'.  No rows: consistent.  Reads only; takes no locks
 * beyond ACCESS SHARE, so under concurrent writes a row may differ for
 * the moment a writer has not committed yet.
 */
CREATE FUNCTION inventory.check_stock_summary(
    OUT product_id bigint,
    OUT issue text,
    OUT summary_on_hand numeric,
    OUT actual_on_hand numeric,
    OUT summary_allocated numeric,
    OUT actual_allocated numeric,
    OUT summary_available numeric,
    OUT actual_available numeric)
RETURNS SETOF record
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE(s.product_id, c.product_id),
           CASE WHEN s.product_id IS NULL THEN 'missing'
                WHEN c.product_id IS NULL THEN 'extra'
                ELSE 'differs' END,
           s.on_hand, c.on_hand, s.allocated, c.allocated,
           s.available, c.available
    FROM inventory.stock_summary s
    FULL JOIN inventory.compute_stock_summary(NULL) c
      ON c.product_id OPERATOR(pg_catalog.=) s.product_id
    WHERE s.product_id IS NULL OR c.product_id IS NULL
       OR (s.org_id, s.on_hand, s.allocated, s.on_order, s.available,
           s.locations_with_stock, s.last_movement_at)
          IS DISTINCT FROM
          (c.org_id, c.on_hand, c.allocated, c.on_order, c.available,
           c.locations_with_stock, c.last_movement_at)
    ORDER BY 1
$$;

/*
 * rebuild_stock_summary() -> bigint
 *
 * Recomputes inventory.stock_summary from the lots, for use after a
 * restore made with triggers disabled or when check_stock_summary()
 * reports differences.  Locks the summary table (SHARE ROW EXCLUSIVE, so
 * lot writers wait) and returns the number of rows written.
 */
CREATE FUNCTION inventory.rebuild_stock_summary()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows bigint;
BEGIN
    LOCK TABLE inventory.stock_summary IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM inventory.stock_summary;
    INSERT INTO inventory.stock_summary
    SELECT * FROM inventory.compute_stock_summary(NULL)
    ORDER BY product_id;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RAISE LOG 'inventory_ext: stock_summary rebuilt, % rows', v_rows;
    RETURN v_rows;
END;
$$;
