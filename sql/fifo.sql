-- Allocation: FIFO/FEFO/LIFO, tie-breaks, expiry, packs, lines, commit.
SET client_min_messages = warning;
-- each test file starts from a fresh extension
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
SET TimeZone = 'UTC';
SET DateStyle = ISO;
\set VERBOSITY terse

-- the organization lives at UTC+12; the tests below use lot codes, not ids
INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('acme', 'Acme', 'Etc/GMT-12');
INSERT INTO inventory.locations (org_id, code, name, priority)
SELECT org_id, v.code, v.code, v.priority
FROM inventory.organizations,
     (VALUES ('A', 10), ('B', 20), ('C', 100)) AS v(code, priority);
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, v.sku, v.sku
FROM inventory.organizations,
     (VALUES ('W'), ('T'), ('P'), ('Q'), ('M'), ('N'), ('R')) AS v(sku);

-- receive(sku, location code, qty, lot code, received, expires)
CREATE FUNCTION pg_temp.rcv(p_sku text, p_loc text, p_qty numeric,
                            p_lot text, p_received timestamptz,
                            p_expires date DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    SELECT inventory.receive(p.product_id, l.location_id, p_qty,
                             'PO-' || p_lot, p_received, p_expires, p_lot)
    FROM inventory.products p, inventory.locations l
    WHERE p.sku = p_sku AND l.code = p_loc
$$;
CREATE FUNCTION pg_temp.pid(p_sku text) RETURNS bigint LANGUAGE sql AS $$
    SELECT product_id FROM inventory.products WHERE sku = p_sku
$$;
CREATE FUNCTION pg_temp.lid(p_code text) RETURNS bigint LANGUAGE sql AS $$
    SELECT location_id FROM inventory.locations WHERE code = p_code
$$;
-- run a statement, return its SQLSTATE and message instead of failing
CREATE FUNCTION pg_temp.err(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;
-- allocation rows with lot and location codes
\set show 'SELECT a.demand_line AS line, l.lot_code AS lot, loc.code AS loc, a.quantity, a.expires_on, a.allocation_id IS NOT NULL AS saved, a.shortfall FROM'
\set tail 'a LEFT JOIN inventory.lots l ON l.lot_id = a.lot_id LEFT JOIN inventory.locations loc ON loc.location_id = a.location_id'

SELECT count(*) AS lots FROM (VALUES
    (pg_temp.rcv('W', 'A', 10, 'W1', '2025-01-10 08:00+00', '2025-09-01')),
    (pg_temp.rcv('W', 'B', 10, 'W2', '2025-01-05 08:00+00', '2025-07-01')),
    (pg_temp.rcv('W', 'A', 10, 'W3', '2025-02-01 08:00+00')),
    (pg_temp.rcv('W', 'B', 10, 'W4', '2025-02-01 08:00+00', '2025-07-01')),
    (pg_temp.rcv('W', 'A', 10, 'W5', '2025-03-01 08:00+00', '2025-07-01')),
    (pg_temp.rcv('W', 'C', 10, 'W6', '2025-01-10 08:00+00')),
    (pg_temp.rcv('W', 'A', 10, 'W7', '2025-01-20 08:00+00', '2025-06-01')),
    (pg_temp.rcv('W', 'A', 10, 'W8', '2025-01-01 08:00+00', '2025-06-02'))
) AS v(lot);

-- the expiry rule: expired ON its date; min shelf life in whole days
SELECT inventory.lot_is_usable('2025-07-01', '2025-06-30') AS day_before,
       inventory.lot_is_usable('2025-07-01', '2025-07-01') AS on_the_day,
       inventory.lot_is_usable(NULL, '2025-07-01') AS undated,
       inventory.lot_is_usable('2025-07-01', '2025-06-01', 30) AS shelf_30_of_30,
       inventory.lot_is_usable('2025-07-01', '2025-06-01', 31) AS shelf_31_of_30;

-- FIFO: by receipt; W1 and W6 received together: A (priority 10) before
-- C (100); W3 and W4 together: A before B.  W7 expired on 2025-06-01.
:show inventory.allocate(pg_temp.pid('W'), 1000, 'D-FIFO', 'fifo',
    p_as_of => '2025-06-01', p_dry_run => true) :tail;
-- FEFO: earliest expiry first; W5, W2, W4 expire together: A first, then
-- B by lot id; undated lots W3 (A) and W6 (C) last
:show inventory.allocate(pg_temp.pid('W'), 1000, 'D-FEFO', 'fefo',
    p_as_of => '2025-06-01', p_dry_run => true) :tail;
-- LIFO: newest receipt first, same tie-breaks
:show inventory.allocate(pg_temp.pid('W'), 1000, 'D-LIFO', 'LIFO',
    p_as_of => '2025-06-01', p_dry_run => true) :tail;
-- a dry run changed nothing
SELECT sum(qty_allocated) AS allocated FROM inventory.lots;
SELECT count(*) AS allocations FROM inventory.allocations;

-- expiry boundary on the allocation date: on 2025-07-01 the lots expiring
-- that day are out, on 2025-06-30 they are in
:show inventory.allocate(pg_temp.pid('W'), 1000, 'D-EXP', 'fefo',
    p_as_of => '2025-07-01', p_dry_run => true) :tail;
:show inventory.allocate(pg_temp.pid('W'), 25, 'D-EXP', 'fefo',
    p_as_of => '2025-06-30', p_dry_run => true) :tail;
-- minimum shelf life: 31 days from 2025-06-01 leaves W1 and the undated
:show inventory.allocate(pg_temp.pid('W'), 25, 'D-SHELF', 'fefo',
    p_as_of => '2025-06-01', p_min_shelf_life_days => 31,
    p_dry_run => true) :tail;
-- restricted to some locations
:show inventory.allocate(pg_temp.pid('W'), 25, 'D-LOC', 'fifo',
    p_locations => ARRAY[pg_temp.lid('B'), pg_temp.lid('C')],
    p_as_of => '2025-06-01', p_dry_run => true) :tail;

-- the allocation date defaults to today in the ORGANIZATION's zone
-- (UTC+12), whatever the session's zone: T1 expires today there, T2
-- tomorrow.  At UTC-12 the session's date is always one day earlier.
SELECT count(*) AS lots FROM (VALUES
    (pg_temp.rcv('T', 'A', 5, 'T1', now() - interval '1 day',
                 (now() AT TIME ZONE 'Etc/GMT-12')::date)),
    (pg_temp.rcv('T', 'A', 5, 'T2', now(),
                 (now() AT TIME ZONE 'Etc/GMT-12')::date + 1))) AS v(lot);
SET TimeZone = 'Etc/GMT-12';
SELECT current_date = (now() AT TIME ZONE 'Etc/GMT-12')::date AS same_date;
SELECT l.lot_code AS lot, a.quantity, a.shortfall
FROM inventory.allocate(pg_temp.pid('T'), 8, 'D-TZ', 'fifo',
                        p_dry_run => true) a
LEFT JOIN inventory.lots l ON l.lot_id = a.lot_id;
SET TimeZone = 'Etc/GMT+12';
SELECT current_date = (now() AT TIME ZONE 'Etc/GMT-12')::date AS same_date;
-- the session's own date would wrongly call T1 usable
SELECT l.lot_code, inventory.lot_is_usable(l.expires_on, current_date)
           AS by_session_date
FROM inventory.lots l WHERE l.product_id = pg_temp.pid('T') ORDER BY 1;
SELECT l.lot_code AS lot, a.quantity, a.shortfall
FROM inventory.allocate(pg_temp.pid('T'), 8, 'D-TZ', 'fifo',
                        p_dry_run => true) a
LEFT JOIN inventory.lots l ON l.lot_id = a.lot_id;
SET TimeZone = 'UTC';

-- pack multiple rounds the DEMAND up (7 -> 12), never the stock: P1 gives
-- its 5, P2 the other 7
SELECT count(*) AS lots FROM (VALUES
    (pg_temp.rcv('P', 'A', 5, 'P1', '2025-01-01 00:00+00')),
    (pg_temp.rcv('P', 'A', 20, 'P2', '2025-01-02 00:00+00'))) AS v(lot);
:show inventory.allocate(pg_temp.pid('P'), 7, 'D-PACK', p_pack_multiple => 6)
    :tail;
:show inventory.allocate(pg_temp.pid('P'), 6, 'D-PACK', p_pack_multiple => 6,
    p_demand_line => 2) :tail;
SELECT lot_code, qty_on_hand, qty_allocated, qty_available
FROM inventory.lots WHERE product_id = pg_temp.pid('P') ORDER BY lot_code;

-- partial: what there is, and the shortfall
SELECT pg_temp.rcv('Q', 'A', 5, 'Q1', '2025-01-01 00:00+00') IS NOT NULL AS lot;
:show inventory.allocate(pg_temp.pid('Q'), 8, 'D-PART') :tail;
SELECT release_allocation AS released
FROM inventory.release_allocation('D-PART');
-- all or nothing: nothing at all
:show inventory.allocate(pg_temp.pid('Q'), 8, 'D-AON',
    p_all_or_nothing => true) :tail;
SELECT qty_allocated FROM inventory.lots WHERE lot_code = 'Q1';
SELECT count(*) AS allocations FROM inventory.allocations
WHERE demand_ref = 'D-AON';
:show inventory.allocate(pg_temp.pid('Q'), 5, 'D-AON',
    p_all_or_nothing => true) :tail;

-- many lines, the same product twice: line 2 gets what line 1 left
SELECT count(*) AS lots FROM (VALUES
    (pg_temp.rcv('M', 'A', 10, 'M1', '2025-01-01 00:00+00')),
    (pg_temp.rcv('M', 'A', 10, 'M2', '2025-01-02 00:00+00')),
    (pg_temp.rcv('P', 'B', 4, 'P3', '2025-01-03 00:00+00'))) AS v(lot);
:show inventory.allocate_lines('D-LINES', jsonb_build_array(
    jsonb_build_object('demand_line', 2, 'product_id', pg_temp.pid('M'),
                       'quantity', 8),
    jsonb_build_object('demand_line', 1, 'product_id', pg_temp.pid('M'),
                       'quantity', 15),
    jsonb_build_object('demand_line', 3, 'product_id', pg_temp.pid('P'),
                       'quantity', 3, 'pack_multiple', 2))) :tail;
SELECT lot_code, qty_on_hand, qty_allocated, qty_available
FROM inventory.lots WHERE lot_code IN ('M1', 'M2', 'P2', 'P3') ORDER BY lot_code;
-- all or nothing over the whole call: line 2 cannot be met, so none is
:show inventory.allocate_lines('D-LINES2', jsonb_build_array(
    jsonb_build_object('product_id', pg_temp.pid('W'), 'quantity', 1),
    jsonb_build_object('product_id', pg_temp.pid('M'), 'quantity', 1)),
    p_all_or_nothing => true) :tail;

-- numeric end to end: 3140 - 3106.40 leaves exactly 33.60
SELECT pg_temp.rcv('N', 'A', 3140, 'N1', '2025-01-01 00:00+00') IS NOT NULL AS lot;
:show inventory.allocate(pg_temp.pid('N'), 3106.40, 'D-NUM') :tail;
SELECT qty_available FROM inventory.lots WHERE lot_code = 'N1';
:show inventory.allocate(pg_temp.pid('N'), 40, 'D-NUM2') :tail;
SELECT qty_on_hand, qty_allocated, qty_available
FROM inventory.lots WHERE lot_code = 'N1';

-- commit twice: one shipment per allocation, the second call a no-op
SET client_min_messages = notice;
SELECT inventory.commit_allocation('D-NUM', p_shipped_at => '2025-06-01 10:00+00')
    AS committed;
SELECT inventory.commit_allocation('D-NUM') AS committed_again;
SET client_min_messages = warning;
SELECT txn_type, quantity, reference LIKE 'allocation:%' AS derived_ref,
       demand_ref
FROM inventory.transactions WHERE demand_ref = 'D-NUM';
SELECT qty_on_hand, qty_allocated, qty_available
FROM inventory.lots WHERE lot_code = 'N1';
SELECT status, quantity FROM inventory.allocations WHERE demand_ref = 'D-NUM';

-- release twice: the stock comes back once
SET client_min_messages = notice;
SELECT inventory.release_allocation('D-NUM2') AS released;
SELECT inventory.release_allocation('D-NUM2') AS released_again;
-- committed stays committed
SELECT inventory.release_allocation('D-NUM') AS release_committed;
SELECT inventory.commit_allocation('D-NOSUCH') AS unknown_demand;
SET client_min_messages = warning;
SELECT qty_on_hand, qty_allocated, qty_available
FROM inventory.lots WHERE lot_code = 'N1';
-- one line of a demand at a time
SELECT inventory.commit_allocation('D-LINES', 3) AS committed_line_3;
SELECT demand_line, status, sum(quantity)
FROM inventory.allocations WHERE demand_ref = 'D-LINES'
GROUP BY 1, 2 ORDER BY 1;

-- a line already allocated is not allocated again
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, 'D-PACK')$$);

-- bad input: clear error with its SQLSTATE, nothing changed
CREATE TEMP TABLE before AS
SELECT (SELECT sum(qty_allocated) FROM inventory.lots) AS allocated,
       (SELECT count(*) FROM inventory.allocations) AS allocations;
SELECT pg_temp.err($$SELECT inventory.allocate(999999, 1, 'D-BAD')$$) AS unknown_product;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 0, 'D-BAD')$$) AS zero;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), -3, 'D-BAD')$$) AS negative;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), NULL, 'D-BAD')$$) AS null_quantity;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 'NaN', 'D-BAD')$$) AS nan;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1.00001, 'D-BAD')$$) AS too_fine;
SELECT pg_temp.err($$SELECT inventory.allocate(NULL, 1, 'D-BAD')$$) AS null_product;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, NULL)$$) AS null_demand;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, 'D-BAD', 'lowest-cost')$$) AS unknown_strategy;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, 'D-BAD', p_locations => ARRAY[999999::bigint])$$) AS unknown_location;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, 'D-BAD', p_locations => '{}')$$) AS no_location;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, 'D-BAD', p_pack_multiple => 0)$$) AS zero_pack;
SELECT pg_temp.err($$SELECT inventory.allocate(pg_temp.pid('W'), 1, 'D-BAD', p_min_shelf_life_days => -1)$$) AS negative_shelf;
SELECT pg_temp.err($$SELECT inventory.allocate_lines('D-BAD', '{"product_id": 1}')$$) AS lines_not_array;
SELECT pg_temp.err($$SELECT inventory.allocate_lines('D-BAD', '[{"demand_line": 1, "product_id": 1, "quantity": 1}, {"demand_line": 1, "product_id": 1, "quantity": 2}]')$$) AS line_twice;
SELECT pg_temp.err($$SELECT inventory.allocate_lines('D-BAD', jsonb_build_array(jsonb_build_object('product_id', pg_temp.pid('W'), 'quantity', 1), jsonb_build_object('product_id', 999999, 'quantity', 1)))$$) AS unknown_product_in_line_2;
SELECT pg_temp.err($$SELECT inventory.release_allocation(NULL)$$) AS null_release;
SELECT b.allocated = (SELECT sum(qty_allocated) FROM inventory.lots)
       AND b.allocations = (SELECT count(*) FROM inventory.allocations)
       AS nothing_changed
FROM before b;

-- a writer can allocate and commit through these functions
SELECT pg_temp.rcv('R', 'A', 10, 'R1', '2025-01-01 00:00+00') IS NOT NULL AS lot;
SELECT pg_temp.pid('R') AS r_id \gset
SET ROLE inventory_writer;
SELECT quantity, shortfall FROM inventory.allocate(:r_id, 4, 'D-WRITER');
SELECT inventory.commit_allocation('D-WRITER') AS committed;
RESET ROLE;
SELECT qty_on_hand, qty_allocated FROM inventory.lots WHERE lot_code = 'R1';

-- every lot: allocated equals its reserved allocations, within on-hand
SELECT count(*) AS lots,
       count(*) FILTER (WHERE l.qty_allocated <> COALESCE(r.q, 0)) AS mismatched,
       count(*) FILTER (WHERE l.qty_allocated > l.qty_on_hand) AS over_allocated
FROM inventory.lots l
LEFT JOIN (SELECT lot_id, sum(quantity) AS q FROM inventory.allocations
           WHERE status = 'reserved' GROUP BY lot_id) r USING (lot_id);
