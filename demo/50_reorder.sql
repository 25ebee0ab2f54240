-- Step 50: reorder analysis as of :as_of over the 30 days before it
-- (fewer when the data starts later: days before the first sale are days
-- without data, not days without sales).  First one product's usage per
-- day three ways (only the last is right: days without sales count as
-- zero), then what needs ordering.
\echo
\echo '== Reorder =='

SELECT org_id AS demo_org FROM inventory.organizations
WHERE code = :'org' \gset

SELECT LEAST(30, :'as_of'::date - min(u.day)) AS demo_window
FROM inventory.daily_usage u
JOIN inventory.products p USING (product_id)
WHERE p.org_id = :demo_org \gset

-- 85123A in the real data; the generated data has other stock codes, so
-- there the product with the most demand in the window
SELECT COALESCE(
    (SELECT p.sku FROM inventory.products p
     WHERE p.org_id = :demo_org AND p.sku = '85123A'),
    (SELECT p.sku FROM inventory.daily_usage u
     JOIN inventory.products p USING (product_id)
     WHERE p.org_id = :demo_org
       AND u.day >= :'as_of'::date - :demo_window AND u.day < :'as_of'::date
     GROUP BY p.sku ORDER BY sum(u.demand) DESC, p.sku LIMIT 1))
    AS demo_sku \gset

-- usage per ledger line, per trading day and per calendar day; the
-- rollup has a row per location and day, so sum the locations first
SELECT :'demo_sku' AS sku, :'as_of'::date - :demo_window AS first_day,
       :'as_of'::date - 1 AS last_day, sum(d.lines) AS lines,
       count(*) AS trading_days,
       round(sum(d.demand) / NULLIF(sum(d.lines), 0), 1) AS per_line,
       round(sum(d.demand) / NULLIF(count(*), 0), 1) AS per_trading_day,
       round(COALESCE(sum(d.demand), 0) / :demo_window, 1) AS per_calendar_day
FROM (SELECT u.day, sum(u.demand) AS demand, sum(u.lines) AS lines
      FROM inventory.daily_usage u
      JOIN inventory.products p USING (product_id)
      WHERE p.org_id = :demo_org AND p.sku = :'demo_sku'
        AND u.day >= :'as_of'::date - :demo_window AND u.day < :'as_of'::date
      GROUP BY u.day
      HAVING sum(u.lines) > 0) d;

-- the analysis of that product: the same per-day figure, and what follows
SELECT sku, available, round(mean_daily_usage, 1) AS per_day,
       round(stddev_daily_usage, 1) AS stddev,
       round(days_of_stock, 1) AS days_left,
       round(reorder_point, 1) AS reorder_point, suggested_order_qty
FROM inventory.analyze_reorder(:demo_org, :'as_of', :demo_window)
WHERE sku = :'demo_sku';

-- items at or below their reorder point, the fastest movers first
SELECT count(*) AS products_to_order,
       sum(suggested_order_qty) AS units_to_order
FROM inventory.analyze_reorder(:demo_org, :'as_of', :demo_window,
                               p_only_below => true);

SELECT sku, available, round(mean_daily_usage, 1) AS per_day,
       round(days_of_stock, 1) AS days_left,
       round(reorder_point, 1) AS reorder_point, suggested_order_qty
FROM inventory.analyze_reorder(:demo_org, :'as_of', :demo_window,
                               p_only_below => true)
ORDER BY mean_daily_usage DESC, sku
LIMIT 5;
