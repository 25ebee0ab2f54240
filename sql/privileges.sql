-- Roles and privileges: reader, writer, admin; EXECUTE revoked from
-- PUBLIC; tenant isolation by organisation.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
\set VERBOSITY terse
SET TimeZone = 'UTC';

-- the roles and how they nest
SELECT r.rolname, r.rolcanlogin,
       ARRAY(SELECT g.rolname FROM pg_auth_members m
             JOIN pg_roles g ON g.oid = m.roleid
             WHERE m.member = r.oid ORDER BY 1) AS member_of
FROM pg_roles r
WHERE r.rolname LIKE 'inventory\_%'
ORDER BY 1;

-- no function of the schema is executable by PUBLIC
SELECT count(*) AS public_functions
FROM pg_proc p
WHERE p.pronamespace = 'inventory'::regnamespace
  AND (p.proacl IS NULL
       OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                  WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'));
-- every SQL and PL/pgSQL function has a fixed search_path
SELECT count(*) AS without_search_path
FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'inventory'::regnamespace
  AND l.lanname IN ('sql', 'plpgsql')
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                  WHERE c LIKE 'search\_path=%');
-- SECURITY DEFINER: trigger functions, the matview refresh (owner only)
-- and the job list (pg_cron shows each user only their own jobs)
SELECT bool_and(p.prosecdef) AS triggers_run_as_owner
FROM pg_proc p
WHERE p.pronamespace = 'inventory'::regnamespace
  AND p.prorettype = 'trigger'::regtype;
SELECT p.proname
FROM pg_proc p
WHERE p.pronamespace = 'inventory'::regnamespace
  AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
ORDER BY 1;

-- who may run what, over whichever functions are installed
SELECT count(*) FILTER (WHERE has_function_privilege('inventory_writer', p.oid, 'EXECUTE')
                          AND p.proname NOT IN ('record_movement', 'receive',
                              'allocate', 'allocate_lines', 'commit_allocation',
                              'release_allocation', 'analyze_reorder',
                              'check_daily_usage', 'check_stock_summary',
                              'check_rollups', 'daily_usage_check_args',
                              'ledger_daily_usage', 'compute_stock_summary',
                              'current_org_id', 'list_job_runs',
                              'cron_readiness', 'cron_settings',
                              'job_definitions', 'lot_is_usable',
                              'partition_bounds', 'partition_default_rows'))
           AS writer_extra_functions,
       count(*) FILTER (WHERE NOT has_function_privilege('inventory_admin', p.oid, 'EXECUTE'))
           AS admin_missing_functions
FROM pg_proc p
WHERE p.pronamespace = 'inventory'::regnamespace;
SELECT bool_or(has_function_privilege('inventory_writer', p.oid, 'EXECUTE'))
           AS writer_can_maintain_or_archive,
       bool_and(has_function_privilege('inventory_admin', p.oid, 'EXECUTE'))
           AS admin_can
FROM pg_proc p
WHERE p.pronamespace = 'inventory'::regnamespace
  AND p.proname IN ('archive_partition', 'archive_before', 'archive_due',
                    'restore_month', 'run_maintenance', 'run_maintenance_proc',
                    'create_partition', 'refresh_summary', 'schedule_jobs',
                    'unschedule_jobs', 'rebuild_stock_summary',
                    'import_online_retail', 'enable_tenant_isolation');

-- two organisations with one lot each
INSERT INTO inventory.organizations (code, name)
VALUES ('tenant-a', 'Tenant A'), ('tenant-b', 'Tenant B');
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'SKU-' || code, 'Widget of ' || code
FROM inventory.organizations ORDER BY org_id;
INSERT INTO inventory.locations (org_id, code, name)
SELECT org_id, 'WH-' || code, 'Warehouse of ' || code
FROM inventory.organizations ORDER BY org_id;
SELECT o.org_id AS org_a,
       inventory.receive(p.product_id, l.location_id, 10, 'rcv-a',
                         '2026-01-05 10:00+00') AS lot_a
FROM inventory.organizations o
JOIN inventory.products p USING (org_id)
JOIN inventory.locations l USING (org_id)
WHERE o.code = 'tenant-a' \gset
SELECT o.org_id AS org_b,
       inventory.receive(p.product_id, l.location_id, 20, 'rcv-b',
                         '2026-01-05 10:00+00') AS lot_b
FROM inventory.organizations o
JOIN inventory.products p USING (org_id)
JOIN inventory.locations l USING (org_id)
WHERE o.code = 'tenant-b' \gset

-- the reader reads, and cannot allocate, record or refresh
SET ROLE inventory_reader;
SELECT lot_id = :lot_a AS is_lot_a, qty_on_hand
FROM inventory.lots ORDER BY lot_id LIMIT 1;
SELECT count(*) AS summary_rows FROM inventory.stock_summary;
UPDATE inventory.lots SET qty_allocated = 1 WHERE lot_id = :lot_a;
SELECT inventory.record_movement(:lot_a, 'shipment', 1, 'r-1');
INSERT INTO inventory.transactions
    (org_id, product_id, location_id, lot_id, txn_type, quantity, reference)
SELECT :org_a, product_id, location_id, lot_id, 'shipment', -1, 'r-2'
FROM inventory.lots WHERE lot_id = :lot_a;
SELECT inventory.refresh_summary();
RESET ROLE;

-- the reader runs the checks (and the helpers they call)
SET ROLE inventory_reader;
SELECT count(*) AS usage_mismatches
FROM inventory.check_daily_usage(:org_a, '2026-01-01', '2026-01-31');
SELECT count(*) AS stock_mismatches FROM inventory.check_stock_summary();
SELECT inventory.check_rollups() AS rollup_check;
RESET ROLE;

-- the writer records movements and allocates, through the ledger only
SET ROLE inventory_writer;
SELECT inventory.record_movement(:lot_a, 'shipment', 2, 'w-1',
                                 '2026-01-06 10:00+00') AS recorded;
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT '2026-01-06 11:00+00', :org_a, product_id, location_id, lot_id,
       'shipment', -1, 'w-2'
FROM inventory.lots WHERE lot_id = :lot_a;
UPDATE inventory.lots SET qty_allocated = 3 WHERE lot_id = :lot_a;
SELECT qty_on_hand, qty_allocated, qty_available
FROM inventory.lots WHERE lot_id = :lot_a;
SELECT on_hand, allocated, available
FROM inventory.stock_summary
WHERE product_id = (SELECT product_id FROM inventory.lots WHERE lot_id = :lot_a);
-- ... but never sets stock directly, and cannot maintain or archive
UPDATE inventory.lots SET qty_on_hand = 1000 WHERE lot_id = :lot_a;
INSERT INTO inventory.lots (product_id, location_id, received_at, qty_on_hand)
SELECT product_id, location_id, now(), 1000
FROM inventory.lots WHERE lot_id = :lot_a;
DELETE FROM inventory.transactions;
UPDATE inventory.stock_summary SET on_hand = 0;
SELECT inventory.refresh_summary();
SELECT inventory.schedule_jobs();
SELECT inventory.rebuild_stock_summary();
RESET ROLE;

-- the admin may maintain
SET ROLE inventory_admin;
SELECT inventory.refresh_summary() IS NOT NULL AS admin_refreshed;
SELECT count(*) AS admin_summary_rows FROM inventory.inventory_summary;
-- but only the owner changes security
SELECT inventory.enable_tenant_isolation();
RESET ROLE;

-- tenant isolation
SELECT inventory.enable_tenant_isolation() >= 9 AS isolated_tables;
-- recorded as data, so pg_dump keeps it (see test/shell/070_ops.sh)
SELECT name, value FROM inventory.settings;
SELECT c.relname, c.relrowsecurity, count(p.polname) AS policies
FROM pg_class c
LEFT JOIN pg_policy p ON p.polrelid = c.oid
WHERE c.relnamespace = 'inventory'::regnamespace
  AND c.relname IN ('organizations', 'products', 'locations', 'lots',
                    'transactions', 'allocations', 'stock_summary',
                    'daily_usage')
GROUP BY c.relname, c.relrowsecurity
ORDER BY 1;

SET ROLE inventory_writer;
-- no tenant set: nothing visible
SELECT count(*) AS lots_without_tenant FROM inventory.lots;
SELECT set_config('inventory.current_org', :'org_a', false) IS NOT NULL;
SELECT sku FROM inventory.products ORDER BY sku;
SELECT count(*) AS lots_seen, bool_and(lot_id = :lot_a) AS only_own
FROM inventory.lots;
SELECT count(*) AS ledger_rows_seen, bool_and(org_id = :org_a) AS only_own
FROM inventory.transactions;
SELECT count(*) AS summary_rows_seen FROM inventory.stock_summary;
SELECT count(*) AS usage_rows_seen,
       bool_and(product_id = (SELECT product_id FROM inventory.lots
                              WHERE lot_id = :lot_a)) AS only_own
FROM inventory.daily_usage;
-- tenant A cannot allocate tenant B's lot: the UPDATE finds no row
UPDATE inventory.lots SET qty_allocated = 5 WHERE lot_id = :lot_b;
-- nor record movements against it
SELECT inventory.record_movement(:lot_b, 'shipment', 1, 'x-1');
INSERT INTO inventory.transactions
    (org_id, product_id, location_id, lot_id, txn_type, quantity, reference)
SELECT :org_b, product_id, location_id, lot_id, 'shipment', -1, 'x-2'
FROM inventory.lots WHERE lot_id = :lot_a;
INSERT INTO inventory.transactions
    (org_id, product_id, location_id, lot_id, txn_type, quantity, reference)
SELECT :org_a, product_id, location_id, :lot_b, 'shipment', -1, 'x-3'
FROM inventory.lots WHERE lot_id = :lot_a;
-- own stock still works
UPDATE inventory.lots SET qty_allocated = 4 WHERE lot_id = :lot_a;
SELECT inventory.record_movement(:lot_a, 'shipment', 1, 'a-1',
                                 '2026-01-07 10:00+00') AS recorded;
-- the materialized view cannot carry policies: readers lose it
SELECT count(*) FROM inventory.inventory_summary;
RESET ROLE;

-- tenant B's lot is untouched
SELECT qty_on_hand, qty_allocated FROM inventory.lots WHERE lot_id = :lot_b;
SELECT on_hand, allocated FROM inventory.stock_summary s
JOIN inventory.lots l USING (product_id) WHERE l.lot_id = :lot_a;
-- the admin role sees every tenant
SET ROLE inventory_admin;
SELECT count(*) AS admin_lots FROM inventory.lots;
RESET ROLE;
SELECT count(*) AS mismatches FROM inventory.check_stock_summary();

SELECT inventory.disable_tenant_isolation() >= 9 AS released_tables;
SELECT name, value FROM inventory.settings;
SELECT count(*) AS tables_with_rls
FROM pg_class
WHERE relnamespace = 'inventory'::regnamespace AND relrowsecurity;
SELECT has_table_privilege('inventory_reader', 'inventory.inventory_summary',
                           'SELECT') AS reader_has_summary;
RESET inventory.current_org;
