-- Fixture of the archive shell suites (040, 045): one organisation,
-- product and location, the ledger's January to March 2024 as plain
-- partitions, and its policy of archiving into transactions_archive.
SET TimeZone = 'UTC';
INSERT INTO inventory.organizations (code, name) VALUES ('acme', 'Acme');
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'ABC-1', 'Widget' FROM inventory.organizations;
INSERT INTO inventory.locations (org_id, code, name)
SELECT org_id, 'MAIN', 'Main' FROM inventory.organizations;
CREATE TABLE inventory.transactions_p202401 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE inventory.transactions_p202402 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
CREATE TABLE inventory.transactions_p202403 PARTITION OF inventory.transactions
    FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
INSERT INTO inventory.partition_policies
    (parent, partition_column, column_type, time_zone, retention_action,
     archive_parent)
VALUES ('inventory.transactions', 'created_at', 'timestamptz', 'UTC',
        'archive', 'inventory.transactions_archive');
