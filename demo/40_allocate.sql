-- Step 40: allocate demand against the loaded lots.  One order FIFO, one
-- FEFO for more than there is (the shortfall is reported), a multi-line
-- order with a pack multiple; then commit the first (ledger shipments,
-- twice: the second is a no-op) and release the second.
\echo
\echo '== Allocate =='

-- the product and location with the most stock available
SELECT p.product_id AS demo_product, p.sku AS demo_sku,
       loc.location_id AS demo_location, loc.code AS demo_location_code
FROM inventory.lots l
JOIN inventory.products p ON p.product_id = l.product_id
JOIN inventory.organizations o ON o.org_id = p.org_id AND o.code = :'org'
JOIN inventory.locations loc ON loc.location_id = l.location_id
WHERE l.status = 'available'
GROUP BY p.product_id, p.sku, loc.location_id, loc.code
ORDER BY sum(l.qty_available) DESC, p.product_id, loc.location_id
LIMIT 1 \gset

SELECT :'demo_sku' AS sku, :'demo_location_code' AS location,
       count(*) AS lots, sum(qty_available) AS available
FROM inventory.lots
WHERE product_id = :demo_product AND location_id = :demo_location
  AND qty_available > 0;

-- DEMO-1: 24 units FIFO, oldest receipt first
SELECT a.demand_line AS line, l.lot_code, a.quantity, a.shortfall
FROM inventory.allocate(:demo_product, 24, 'DEMO-1', 'fifo',
                        ARRAY[:demo_location]::bigint[], :'as_of') a
LEFT JOIN inventory.lots l ON l.lot_id = a.lot_id
ORDER BY a.allocation_id NULLS LAST;

-- DEMO-2: 100 more than is left, FEFO: everything there is, plus shortfall
SELECT count(a.lot_id) AS lots_used, sum(a.quantity) AS allocated,
       sum(a.shortfall) AS shortfall
FROM inventory.allocate(:demo_product,
        (SELECT sum(qty_available) + 100 FROM inventory.lots
         WHERE product_id = :demo_product AND location_id = :demo_location),
        'DEMO-2', 'fefo', ARRAY[:demo_location]::bigint[], :'as_of') a;

-- DEMO-3: three lines in one call, the third rounded up to packs of 6
SELECT a.demand_line AS line, p.sku, l.lot_code, a.quantity, a.shortfall
FROM inventory.allocate_lines('DEMO-3',
        (SELECT jsonb_agg(jsonb_build_object(
                    'demand_line', t.n, 'product_id', t.product_id,
                    'quantity', (ARRAY[12, 6, 5])[t.n])
                 || CASE WHEN t.n = 3
                         THEN '{"pack_multiple": 6}'::jsonb
                         ELSE '{}'::jsonb END)
         FROM (SELECT row_number() OVER (ORDER BY sum(l.qty_available) DESC,
                                                  l.product_id)::int AS n,
                      l.product_id
               FROM inventory.lots l
               WHERE l.location_id = :demo_location
                 AND l.product_id <> :demo_product
               GROUP BY l.product_id
               ORDER BY 1 LIMIT 3) t),
        'fifo', ARRAY[:demo_location]::bigint[], :'as_of') a
JOIN inventory.products p ON p.product_id = a.product_id
LEFT JOIN inventory.lots l ON l.lot_id = a.lot_id
ORDER BY a.demand_line, a.allocation_id NULLS LAST;

-- ship DEMO-1 on the demo's "today" (twice: the second call does nothing)
SELECT inventory.commit_allocation('DEMO-1',
           p_shipped_at => (:'as_of'::date + time '10:00')
                           AT TIME ZONE 'Europe/London') AS committed;
SELECT inventory.commit_allocation('DEMO-1') AS committed_again;
SELECT inventory.release_allocation('DEMO-2') AS released;

SELECT a.demand_ref, a.status, count(*) AS allocations,
       sum(a.quantity) AS quantity,
       count(t.reference) AS ledger_shipments
FROM inventory.allocations a
LEFT JOIN inventory.transactions t
       ON t.reference = 'allocation:' || a.allocation_id
WHERE a.demand_ref LIKE 'DEMO-%'
GROUP BY a.demand_ref, a.status ORDER BY a.demand_ref, a.status;

SELECT count(*) FILTER (WHERE l.qty_allocated > l.qty_on_hand)
           AS over_allocated_lots,
       count(*) FILTER (WHERE l.qty_allocated <> COALESCE(r.q, 0))
           AS allocated_mismatch
FROM inventory.lots l
LEFT JOIN (SELECT lot_id, sum(quantity) AS q FROM inventory.allocations
           WHERE status = 'reserved' GROUP BY lot_id) r
       ON r.lot_id = l.lot_id;
