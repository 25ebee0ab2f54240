-- Step 60: the two stock summaries.  The materialized view is refreshed
-- (concurrently: readers are not blocked) and reports how long that took;
-- the incremental stock_summary, kept by triggers on the lots through the
-- load and the allocations above, must agree with a full recomputation.
\echo
\echo '== Summary =='

SELECT org_id AS demo_org FROM inventory.organizations
WHERE code = :'org' \gset

SELECT inventory.refresh_summary() AS refresh_took;

-- 0: the incremental summary agrees with the lots
SELECT count(*) AS check_stock_summary_mismatches
FROM inventory.check_stock_summary();

-- and the freshly refreshed view agrees with it, product by product
SELECT count(*) AS products,
       count(*) FILTER (WHERE (v.on_hand, v.allocated, v.available)
                        IS DISTINCT FROM (s.on_hand, s.allocated, s.available))
           AS view_vs_incremental_differences
FROM inventory.inventory_summary v
JOIN inventory.stock_summary s USING (product_id)
WHERE v.org_id = :demo_org;

-- a few rows: the products with the most stock available
SELECT sku, on_hand, allocated, available, locations_with_stock,
       last_movement_at::date AS last_movement
FROM inventory.inventory_summary
WHERE org_id = :demo_org
ORDER BY available DESC, sku
LIMIT 5;
