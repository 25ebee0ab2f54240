-- Step 20: partition the ledger by calendar month of the organisation's
-- zone, premake the months ahead, and move the loaded rows out of the
-- default partition into their months.  "Now" is :as_of, the day after
-- the data ends, taken at midnight in that zone.
\echo
\echo '== Partitions =='
SELECT inventory.register_partitioned_table('inventory.transactions',
           'created_at', o.time_zone, 3)
FROM inventory.organizations o WHERE o.code = :'org' \g /dev/null
SELECT parent, time_zone, premake_months, retention
FROM inventory.partition_policies;

-- one maintenance run: rescue of every loaded month, then premake
SELECT m.action,
       CASE WHEN m.detail LIKE 'rescue%' THEN 'rescue' ELSE m.detail END
           AS why,
       count(*) AS partitions,
       sum(COALESCE(substring(m.detail FROM 'moved ([0-9]+) row')::bigint,
                    0)) AS rows_moved
FROM inventory.run_maintenance('inventory.transactions',
         (:'as_of'::date)::timestamp AT TIME ZONE
         (SELECT time_zone FROM inventory.organizations WHERE code = :'org')) m
GROUP BY 1, 2 ORDER BY 1, 2;

-- the partitions by their real bounds, shown in the policy's zone
SELECT b.month, b."position", b.lower_bound, b.upper_bound,
       COALESCE(r.ledger_rows, 0) AS ledger_rows
FROM inventory.partition_bounds('inventory.transactions',
         (:'as_of'::date)::timestamp AT TIME ZONE
         (SELECT time_zone FROM inventory.organizations WHERE code = :'org')) b
LEFT JOIN (SELECT t.tableoid::regclass AS part, count(*) AS ledger_rows
           FROM inventory.transactions t GROUP BY 1) r
       ON r.part = b.partition::regclass
ORDER BY b.ordinal;

SELECT parent, partitions, default_rows, oldest_bound, newest_bound,
       last_maintenance_summary
FROM inventory.partition_health;
