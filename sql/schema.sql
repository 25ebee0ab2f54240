-- Schema: objects, constraints, and a clean drop and re-create.
SET client_min_messages = warning;
\set VERBOSITY terse

-- the foundation's tables (each area's own test lists what it adds)
SELECT c.relname, c.relkind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'inventory' AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relname IN ('organizations', 'products', 'locations', 'lots',
                    'transactions', 'transactions_default',
                    'transaction_refs', 'transactions_archive',
                    'transactions_archive_default', 'allocations',
                    'partition_policies', 'retail_import_raw',
                    'retail_import_rejects')
ORDER BY c.relname;

-- the ledger is range-partitioned by month on created_at, with a default
SELECT pg_catalog.pg_get_partkeydef('inventory.transactions'::regclass);
SELECT c.relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'inventory.transactions'::regclass
ORDER BY 1;

-- quantities are numeric, never floating point
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'inventory' AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attname LIKE 'qty%' OR a.attname = 'quantity')
  AND c.relkind IN ('r', 'p')
ORDER BY 1, 2;

INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('acme', 'Acme', 'Europe/London');
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'ABC-1', 'Widget' FROM inventory.organizations;

-- SKUs are unique per organisation, case-insensitively
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'abc-1', 'Widget again' FROM inventory.organizations;
SELECT sku FROM inventory.products
WHERE lower(sku) = lower('AbC-1');

-- impossible states are refused by constraints
INSERT INTO inventory.products (org_id, sku, name, lead_time_days)
SELECT org_id, 'X', 'x', -1 FROM inventory.organizations;
INSERT INTO inventory.products (org_id, sku, name, pack_multiple)
SELECT org_id, 'X', 'x', 0 FROM inventory.organizations;
INSERT INTO inventory.locations (org_id, code, name)
SELECT org_id, 'MAIN', 'Main' FROM inventory.organizations;
INSERT INTO inventory.lots (product_id, location_id, received_at, qty_on_hand,
                            qty_allocated)
SELECT p.product_id, l.location_id, '2024-01-01', 5, 6
FROM inventory.products p, inventory.locations l;
INSERT INTO inventory.lots (product_id, location_id, received_at,
                            qty_allocated)
SELECT p.product_id, l.location_id, '2024-01-01', -1
FROM inventory.products p, inventory.locations l;

-- DROP EXTENSION removes everything; CREATE again works in the same db
DROP EXTENSION inventory_ext CASCADE;
SELECT count(*) AS leftovers FROM pg_namespace WHERE nspname = 'inventory';
CREATE EXTENSION inventory_ext;
SELECT count(*) AS organizations FROM inventory.organizations;
