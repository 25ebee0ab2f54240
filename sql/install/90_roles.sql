/*
 * 90_roles.sql: roles, privileges and optional row-level security by
 * organisation.  Runs last, so it covers every object the fragments
 * before it created, whichever areas are present.
 *
 *   inventory_reader  reads tables and views, runs read-only functions
 *   inventory_writer  also records movements and allocates (member of
 *                     reader: a writer must read what it allocates)
 *   inventory_admin   everything: maintenance, archival, scheduling,
 *                     loading (member of writer)
 *
 * Roles are cluster-wide: created here if missing, NOLOGIN, and left in
 * place by DROP EXTENSION (other databases may use them).  Grant them to
 * login roles: GRANT inventory_writer TO app_user.
 *
 * Writers never get UPDATE on stock columns.  Stock changes through the
 * ledger's triggers, and every trigger function in the schema runs as the
 * extension owner (SECURITY DEFINER): a trigger function cannot be called
 * directly, and it only acts on rows the invoker was allowed to write, so
 * this is safer than granting writers the derived tables (lots' on-hand,
 * transaction_refs, summaries, rollups).
 */

DO $roles$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['inventory_reader', 'inventory_writer',
                                  'inventory_admin']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
                       WHERE rolname = v_role) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', v_role);
        END IF;
    END LOOP;
END;
$roles$;

GRANT inventory_reader TO inventory_writer;
GRANT inventory_writer TO inventory_admin;

/*
 * The tenant of the session, from the placeholder setting
 * inventory.current_org (an org_id); NULL when unset.  The prefix
 * inventory_ext. is reserved for the module's own settings, so the
 * placeholder uses inventory. instead.
 */
CREATE FUNCTION inventory.current_org_id()
RETURNS bigint
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT NULLIF(pg_catalog.current_setting('inventory.current_org', true),
                  '')::bigint
$$;

/*
 * apply_tenant_isolation() -> integer (internal)
 *
 * Does the work of enable_tenant_isolation(): turns on row-level security by organisation: every table of the schema
 * with an org_id column (partitioned parents, not their partitions) and
 * inventory.lots and inventory.allocations (through their product) get a
 * policy letting a session see and write only rows of the organisation
 * in inventory.current_org, and inventory_admin everything.  Views of the
 * schema become security_invoker so they cannot read around the policies;
 * the materialized view inventory_summary cannot carry policies, so
 * inventory_reader loses SELECT on it.  Returns the number of tables
 * protected.  Must be run by the extension owner (42501 otherwise).
 * Locks: ACCESS EXCLUSIVE on each table, briefly.
 */
CREATE FUNCTION inventory.apply_tenant_isolation()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table record;
    v_count integer := 0;
    v_check text;
BEGIN
    FOR v_table IN
        SELECT c.oid::regclass AS rel, c.relname,
               EXISTS (SELECT 1 FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attname = 'org_id'
                         AND NOT a.attisdropped) AS has_org,
               EXISTS (SELECT 1 FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attname = 'product_id'
                         AND NOT a.attisdropped) AS has_product
        FROM pg_class c
        WHERE c.relnamespace = 'inventory'::regnamespace
          AND c.relkind IN ('r', 'p')
          AND NOT c.relispartition
          AND c.relpersistence = 'p'
        ORDER BY c.relname
    LOOP
        IF v_table.has_org THEN
            v_check := 'org_id OPERATOR(pg_catalog.=) (SELECT inventory.current_org_id())';
        ELSIF v_table.has_product THEN
            -- lots, allocations, daily_usage: the tenant of their product
            -- the outer column must be qualified: inside the subquery a
            -- bare product_id would be the product's own
            v_check := format(
                'EXISTS (SELECT 1 FROM inventory.products p
                 WHERE p.product_id OPERATOR(pg_catalog.=) %I.product_id
                   AND p.org_id OPERATOR(pg_catalog.=)
                       (SELECT inventory.current_org_id()))',
                v_table.relname);
        ELSE
            CONTINUE;
        END IF;
        -- replace our policies (quietly: DROP POLICY IF EXISTS would
        -- print a NOTICE per table the first time)
        IF EXISTS (SELECT 1 FROM pg_policy
                   WHERE polrelid = v_table.rel
                     AND polname = 'tenant_isolation') THEN
            EXECUTE format('DROP POLICY tenant_isolation ON %s', v_table.rel);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_policy
                   WHERE polrelid = v_table.rel AND polname = 'admin_all') THEN
            EXECUTE format('DROP POLICY admin_all ON %s', v_table.rel);
        END IF;
        EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (%s) WITH CHECK (%s)',
                       v_table.rel, v_check, v_check);
        EXECUTE format('CREATE POLICY admin_all ON %s TO inventory_admin USING (true) WITH CHECK (true)',
                       v_table.rel);
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', v_table.rel);
        v_count := v_count + 1;
    END LOOP;

    FOR v_table IN
        SELECT c.oid::regclass AS rel
        FROM pg_class c
        WHERE c.relnamespace = 'inventory'::regnamespace AND c.relkind = 'v'
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER VIEW %s SET (security_invoker = true)',
                       v_table.rel);
    END LOOP;
    REVOKE SELECT ON inventory.inventory_summary FROM inventory_reader;

    RAISE LOG 'inventory_ext: tenant isolation enabled on % tables', v_count;
    RETURN v_count;
END;
$$;

/*
 * remove_tenant_isolation() -> integer (internal)
 *
 * Does the work of disable_tenant_isolation(): drops its policies, disables
 * row-level security on those tables, resets the views and gives
 * inventory_reader SELECT on inventory_summary back.  Returns the number
 * of tables released.  Extension owner only.
 */
CREATE FUNCTION inventory.remove_tenant_isolation()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table record;
    v_count integer := 0;
BEGIN
    FOR v_table IN
        SELECT DISTINCT c.oid::regclass AS rel, c.relname
        FROM pg_policy p
        JOIN pg_class c ON c.oid = p.polrelid
        WHERE c.relnamespace = 'inventory'::regnamespace
          AND p.polname IN ('tenant_isolation', 'admin_all')
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s',
                       v_table.rel);
        EXECUTE format('DROP POLICY IF EXISTS admin_all ON %s', v_table.rel);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY',
                       v_table.rel);
        v_count := v_count + 1;
    END LOOP;
    FOR v_table IN
        SELECT c.oid::regclass AS rel
        FROM pg_class c
        WHERE c.relnamespace = 'inventory'::regnamespace AND c.relkind = 'v'
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER VIEW %s RESET (security_invoker)', v_table.rel);
    END LOOP;
    GRANT SELECT ON inventory.inventory_summary TO inventory_reader;
    RETURN v_count;
END;
$$;

/*
 * Whether tenant isolation is on is stored as data, in a configuration
 * table that pg_dump saves.  pg_dump does not save row-level security
 * flags or policies of an extension's own tables (CREATE EXTENSION makes
 * the tables, without them), so a restore would silently drop isolation.
 * Instead the restore's COPY of this table fires the trigger below, which
 * applies the setting again: a restored database is isolated exactly when
 * its source was.
 */
CREATE TABLE inventory.settings (
    name       text PRIMARY KEY CHECK (name IN ('tenant_isolation')),
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (name <> 'tenant_isolation' OR value IN ('on', 'off'))
);
SELECT pg_catalog.pg_extension_config_dump('inventory.settings', '');

CREATE FUNCTION inventory.settings_apply()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_applied boolean;
BEGIN
    IF NEW.name = 'tenant_isolation' THEN
        v_applied := EXISTS (SELECT 1 FROM pg_catalog.pg_policy
                             WHERE polrelid = 'inventory.products'::regclass
                               AND polname = 'tenant_isolation');
        IF NEW.value = 'on' AND NOT v_applied THEN
            PERFORM inventory.apply_tenant_isolation();
        ELSIF NEW.value = 'off' AND v_applied THEN
            PERFORM inventory.remove_tenant_isolation();
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER settings_apply
    AFTER INSERT OR UPDATE ON inventory.settings
    FOR EACH ROW EXECUTE FUNCTION inventory.settings_apply();

/*
 * set_tenant_isolation(on) -> integer (internal)
 *
 * Applies or removes isolation and records the choice in
 * inventory.settings.  Returns the number of tables changed.
 */
CREATE FUNCTION inventory.set_tenant_isolation(p_on boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    IF p_on THEN
        v_count := inventory.apply_tenant_isolation();
    ELSE
        v_count := inventory.remove_tenant_isolation();
    END IF;
    -- the trigger sees the state already applied and does nothing
    INSERT INTO inventory.settings (name, value)
    VALUES ('tenant_isolation', CASE WHEN p_on THEN 'on' ELSE 'off' END)
    ON CONFLICT (name) DO UPDATE
        SET value = EXCLUDED.value, updated_at = pg_catalog.now();
    RETURN v_count;
END;
$$;

/*
 * enable_tenant_isolation() -> integer
 * disable_tenant_isolation() -> integer
 *
 * Turn row-level security by organisation on or off (see
 * apply_tenant_isolation), recorded in inventory.settings so that
 * pg_dump and pg_restore keep it.  Return the number of tables protected
 * or released.  Extension owner only.
 */
CREATE FUNCTION inventory.enable_tenant_isolation()
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT inventory.set_tenant_isolation(true) $$;

CREATE FUNCTION inventory.disable_tenant_isolation()
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT inventory.set_tenant_isolation(false) $$;

/*
 * Privileges.  Names of other areas' functions are listed too; only those
 * present get a grant, so this fragment works whichever areas are built.
 */
DO $privileges$
DECLARE
    v_fn record;
    v_reader_functions text[] := ARRAY[
        'analyze_reorder', 'check_daily_usage', 'check_stock_summary',
        'check_rollups', 'daily_usage_check_args', 'ledger_daily_usage',
        'compute_stock_summary', 'current_org_id', 'list_job_runs', 'cron_readiness',
        'cron_settings', 'job_definitions', 'lot_is_usable',
        'partition_bounds', 'partition_default_rows'];
    v_writer_functions text[] := ARRAY[
        'record_movement', 'receive', 'allocate', 'allocate_lines',
        'commit_allocation', 'release_allocation'];
BEGIN
    -- trigger functions run as the owner (see the header), with a fixed
    -- search_path; C ones qualify every name already and are left
    -- without a per-call setting, which would slow bulk loads row by row
    FOR v_fn IN
        SELECT p.oid::regprocedure AS fn, l.lanname, p.proconfig
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'inventory'::pg_catalog.regnamespace
          AND p.prorettype = 'trigger'::pg_catalog.regtype
        ORDER BY p.oid
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER',
                                  v_fn.fn);
        IF v_fn.lanname <> 'c' AND v_fn.proconfig IS NULL THEN
            EXECUTE pg_catalog.format(
                'ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp',
                v_fn.fn);
        END IF;
    END LOOP;

    -- nothing is executable by PUBLIC; admin may run everything
    FOR v_fn IN
        SELECT p.oid::regprocedure AS fn, p.proname
        FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'inventory'::pg_catalog.regnamespace
        ORDER BY p.oid
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC',
                                  v_fn.fn);
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON ROUTINE %s TO inventory_admin', v_fn.fn);
        IF v_fn.proname = ANY (v_reader_functions) THEN
            EXECUTE pg_catalog.format(
                'GRANT EXECUTE ON ROUTINE %s TO inventory_reader', v_fn.fn);
        ELSIF v_fn.proname = ANY (v_writer_functions) THEN
            EXECUTE pg_catalog.format(
                'GRANT EXECUTE ON ROUTINE %s TO inventory_writer', v_fn.fn);
        END IF;
    END LOOP;
END;
$privileges$;

/*
 * Partition maintenance and archival act as the owner of the table they
 * change, and partitions are made by, and belong to, the parent's owner.
 * The ledger and its archive therefore belong to inventory_admin: its
 * members (and superusers, whose pg_cron jobs run them) may maintain and
 * archive them; nobody else may.
 */
ALTER TABLE inventory.transactions OWNER TO inventory_admin;
ALTER TABLE inventory.transactions_default OWNER TO inventory_admin;
ALTER TABLE inventory.transactions_archive OWNER TO inventory_admin;
ALTER TABLE inventory.transactions_archive_default OWNER TO inventory_admin;
-- new partitions are created in the schema by that owner
GRANT CREATE ON SCHEMA inventory TO inventory_admin;

GRANT USAGE ON SCHEMA inventory TO inventory_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA inventory TO inventory_reader;
GRANT ALL ON ALL TABLES IN SCHEMA inventory TO inventory_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA inventory TO inventory_admin;

-- writers record movements; receive() makes lots, which start empty
GRANT INSERT ON inventory.transactions TO inventory_writer;
GRANT INSERT (product_id, location_id, lot_code, received_at, expires_on)
    ON inventory.lots TO inventory_writer;
-- allocation reserves stock: qty_allocated only, never on-hand
GRANT UPDATE (qty_allocated) ON inventory.lots TO inventory_writer;
GRANT INSERT, UPDATE (status, quantity, updated_at)
    ON inventory.allocations TO inventory_writer;
