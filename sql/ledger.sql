-- Ledger: movements update their lot; one record per reference.
SET client_min_messages = warning;
-- each test file starts from a fresh extension
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
SET TimeZone = 'UTC';
\set VERBOSITY terse

INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('acme', 'Acme', 'Europe/London');
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'ABC-1', 'Widget' FROM inventory.organizations;
INSERT INTO inventory.locations (org_id, code, name)
SELECT org_id, 'MAIN', 'Main' FROM inventory.organizations;

SELECT inventory.receive(p.product_id, l.location_id, 100, 'PO-1',
                         '2024-01-15 10:00+00') AS lot
FROM inventory.products p, inventory.locations l \gset
SELECT lot_id = :lot AS same_lot, qty_on_hand, qty_allocated, qty_available
FROM inventory.lots;

-- receiving the same reference again creates nothing
SELECT inventory.receive(p.product_id, l.location_id, 100, 'PO-1',
                         '2024-01-15 10:00+00') = :lot AS same_lot
FROM inventory.products p, inventory.locations l;
SELECT count(*) AS lots, sum(qty_on_hand) AS on_hand FROM inventory.lots;

SELECT inventory.record_movement(:lot, 'shipment', 30, 'SO-1',
                                 '2024-01-20 09:00+00');
-- same reference in another month: recorded once
SELECT inventory.record_movement(:lot, 'shipment', 30, 'SO-1',
                                 '2024-03-20 09:00+00');
SELECT inventory.record_movement(:lot, 'return', 5, 'RMA-1',
                                 '2024-02-01 09:00+00');
SELECT inventory.record_movement(:lot, 'adjustment', -2.5, 'ADJ-1',
                                 '2024-02-02 09:00+00');
SELECT qty_on_hand, last_movement_at FROM inventory.lots;
SELECT txn_type, quantity, reference FROM inventory.transactions
ORDER BY created_at;

-- a plain INSERT of a duplicate reference records nothing either
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT '2025-06-01', org_id, product_id, location_id, lot_id, 'shipment',
       -1, 'SO-1'
FROM inventory.transactions WHERE reference = 'SO-1';
SELECT count(*) FROM inventory.transactions WHERE reference = 'SO-1';

-- a bulk statement with a duplicate inside it keeps the first only
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT '2024-04-01'::timestamptz + g * interval '1 day', p.org_id,
       l.product_id, l.location_id, l.lot_id, 'shipment', -1,
       'BULK-' || (g % 3)
FROM inventory.lots l JOIN inventory.products p USING (product_id),
     generate_series(1, 6) g;
SELECT reference, created_at FROM inventory.transactions
WHERE reference LIKE 'BULK-%' ORDER BY reference;
SELECT qty_on_hand FROM inventory.lots;

-- stock may not go below zero
SELECT inventory.record_movement(:lot, 'shipment', 1000, 'SO-2');
-- nor may a row disagree with its lot
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT now(), org_id, product_id + 1, location_id, lot_id, 'receipt', 1, 'X'
FROM inventory.transactions WHERE reference = 'PO-1';
-- signs follow the type
INSERT INTO inventory.transactions
    (created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT now(), org_id, product_id, location_id, lot_id, 'receipt', -1, 'Y'
FROM inventory.transactions WHERE reference = 'PO-1';
-- ledger rows are never updated
UPDATE inventory.transactions SET quantity = 1;
-- bad input
SELECT inventory.record_movement(:lot, 'theft', 1, 'Z');
SELECT inventory.record_movement(:lot, 'shipment', 0, 'Z');
SELECT inventory.record_movement(:lot, 'shipment', -3, 'Z');
SELECT inventory.record_movement(NULL, 'shipment', 1, 'Z');
SELECT inventory.record_movement(999999, 'shipment', 1, 'Z');
SELECT inventory.receive(999999, 1, 1, 'Z');
SELECT inventory.receive(p.product_id, 999999, 1, 'Z')
FROM inventory.products p;
SELECT inventory.receive(p.product_id, l.location_id, 0, 'Z')
FROM inventory.products p, inventory.locations l;
-- nothing above changed the stock
SELECT qty_on_hand FROM inventory.lots;
SELECT count(*) FROM inventory.transaction_refs;
