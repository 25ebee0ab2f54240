/*
 * bench/gen.sql: the benchmark's data set, deterministic for a seed.
 *
 * psql variables: scale (1 = 50,000 products, 200 locations, 36 months of
 * about a million movements each; 0.1 = a tenth of the products and of
 * the movements), seed (any integer), first_month (first day of the
 * ledger's first month).  The 36 months end with the month before the
 * current one; the current month is left to the rows that write.
 *
 * Every pseudo-random choice is bench.rnd(seed, key, stream), a hash of
 * the seed and the row's key, so one seed always gives the same rows
 * (for the same first_month).
 *
 * Skew: the product of a movement is rank 1 + P * u^3 (the top 1% of
 * products get about a fifth of the movements); one day in twenty is a
 * peak day (4x); weekdays carry more than weekends (Mon-Fri 1.2, Sat 0.5,
 * Sun 0.25).  Month 0 holds ten times the movements of the others: it is
 * the "month ten times larger" of row 3.
 *
 * How it loads fast without changing what the triggers would produce:
 * this file makes the catalogue, lots and partitions and defines
 * bench.gen_month(m); bench/run then runs the 36 months in parallel
 * sessions (one per core) and bench/gen_finish.sql completes the load.
 * Each month is inserted through the ledger's parent (every row routed
 * to its partition, txn_id from the identity) with
 * session_replication_role = replica, which skips the ledger's per-row
 * reference trigger and its statement triggers; gen_month then writes,
 * set-based, what those triggers would have written for the month's rows
 * (transaction_refs, daily_usage by the rollup trigger's own query, each
 * lot's change), and gen_finish applies the lots' changes once, rebuilds
 * stock_summary and verifies: check_daily_usage and check_stock_summary
 * return no row, every reference is claimed, sampled lots equal the sum
 * of their ledger rows, no lot is negative.  No constraint, index or
 * trigger is dropped or disabled; the current month (the rows the bench
 * writes) goes through every trigger.
 *
 * Stock never goes negative: each month starts with one receipt per lot
 * of the month's whole outflow of that lot (plus 20 units in month 0), so
 * the balance at any moment is at least what is still to go out.
 */
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';

CREATE TABLE bench.params AS
SELECT :scale::numeric AS scale,
       :seed::bigint AS seed,
       greatest(50, round(50000 * :scale))::int AS n_products,
       200 AS n_locations,
       4 AS lots_per_product,
       36 AS months,
       date :'first_month' AS first_month,
       (date :'first_month' + interval '35 months')::date AS last_month,
       greatest(1000, round(1000000 * :scale))::int AS monthly_rows,
       NULL::bigint AS org_id;

INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('bench', 'Benchmark organisation', 'UTC');
UPDATE bench.params
SET org_id = (SELECT org_id FROM inventory.organizations WHERE code = 'bench');

/*
 * Ledger partitions: the 36 months, the current one and three ahead.  By
 * the partition engine when it is installed, else by hand.  Retention is
 * far beyond the data so that maintenance never archives on its own.
 */
SELECT format('SELECT inventory.register_partitioned_table(%L::regclass, %L, %L, 3, %L::interval, %L, %L::regclass)',
              'inventory.transactions', 'created_at', 'UTC', '120 months',
              'archive', 'inventory.transactions_archive'),
       format('SELECT inventory.create_partitions(%L::regclass, %L::date, %L::date)',
              'inventory.transactions', first_month,
              (last_month + interval '4 months')::date)
FROM bench.params
WHERE bench.landed('register_partitioned_table')
  AND bench.landed('create_partitions') \gexec
SELECT format('CREATE TABLE IF NOT EXISTS inventory.%I PARTITION OF inventory.transactions FOR VALUES FROM (%L) TO (%L)',
              'transactions_p' || to_char(m, 'YYYY_MM'),
              m::timestamp AT TIME ZONE 'UTC',
              (m + interval '1 month')::timestamp AT TIME ZONE 'UTC')
FROM bench.params,
     generate_series(first_month::timestamp,
                     last_month + interval '4 months', interval '1 month') m
WHERE NOT (bench.landed('register_partitioned_table')
           AND bench.landed('create_partitions'))
\gexec

INSERT INTO inventory.products
    (org_id, sku, name, description, category, unit_cost, lead_time_days)
SELECT org_id, format('SKU-%s', lpad(n::text, 6, '0')),
       format('Product %s', n),
       format('Generated product %s of category %s', n, n % 50),
       format('cat-%s', n % 50),
       round((1 + 99 * bench.rnd(seed, n, 1))::numeric, 2),
       3 + n % 12
FROM bench.params, generate_series(1, n_products) n
ORDER BY n;

INSERT INTO inventory.locations (org_id, code, name, priority)
SELECT org_id, format('LOC-%s', lpad(n::text, 3, '0')),
       format('Location %s', n), 10 * (n % 5)
FROM bench.params, generate_series(1, n_locations) n
ORDER BY n;

-- product rank -> product id, location index -> location id
CREATE TABLE bench.productmap AS
SELECT row_number() OVER (ORDER BY product_id)::int AS rank, product_id
FROM inventory.products
WHERE org_id = (SELECT org_id FROM bench.params);
CREATE TABLE bench.locmap AS
SELECT (row_number() OVER (ORDER BY location_id) - 1)::int AS idx, location_id
FROM inventory.locations
WHERE org_id = (SELECT org_id FROM bench.params);

-- each product is stocked at lots_per_product distinct locations
INSERT INTO inventory.lots (product_id, location_id, lot_code, received_at)
SELECT pm.product_id, lm.location_id, format('L%s-%s', pm.rank, k),
       first_month::timestamp AT TIME ZONE 'UTC'
FROM bench.params
CROSS JOIN bench.productmap pm
CROSS JOIN generate_series(0, lots_per_product - 1) k
JOIN bench.locmap lm
  ON lm.idx = (pm.rank * 7 + k * (n_locations / lots_per_product)) % n_locations
ORDER BY pm.rank, k;

CREATE TABLE bench.lotmap AS
SELECT pm.rank, (split_part(l.lot_code, '-', 2))::int AS k, l.lot_id,
       l.product_id, l.location_id
FROM inventory.lots l
JOIN bench.productmap pm ON pm.product_id = l.product_id;
ALTER TABLE bench.lotmap ADD PRIMARY KEY (rank, k);
ANALYZE bench.productmap, bench.locmap, bench.lotmap;

/*
 * What the ledger's triggers keep, per lot, accumulated month by month
 * (bench/gen_finish.sql applies it to the lots once).
 */
CREATE TABLE bench.lot_delta (
    lot_id bigint NOT NULL,
    delta numeric NOT NULL,
    last_at timestamptz NOT NULL
);

/*
 * gen_month(m): month m (0 = first) of the history: one receipt per lot
 * with outflow, then the month's movements, inserted in time order
 * through the ledger's parent; then what the ledger's triggers would
 * have kept for these rows: their references (transaction_refs), their
 * demand (daily_usage, by the rollup trigger's own query over the rows)
 * and their effect on each lot (bench.lot_delta).  The caller has set
 * session_replication_role = replica.  Months are independent, so
 * bench/run runs them in parallel sessions.  Returns the rows inserted.
 */
CREATE FUNCTION bench.gen_month(p_month int)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v bench.params%ROWTYPE;
    v_start timestamptz;
    v_end timestamptz;
    v_days int;
    v_rows int;
    v_count bigint;
BEGIN
    SELECT * INTO v FROM bench.params;
    v_start := (v.first_month + make_interval(months => p_month))::timestamp
               AT TIME ZONE 'UTC';
    v_end := (v.first_month + make_interval(months => p_month + 1))::timestamp
             AT TIME ZONE 'UTC';
    v_days := extract(day from (v_start AT TIME ZONE 'UTC')
                      + interval '1 month' - interval '1 day');
    v_rows := v.monthly_rows * CASE WHEN p_month = 0 THEN 10 ELSE 1 END;

    DROP TABLE IF EXISTS pg_temp.mv;
    CREATE TEMP TABLE mv AS
    WITH days AS (
        SELECT d, v_start + (d - 1) * interval '1 day' AS day_start,
               CASE extract(isodow FROM v_start + (d - 1) * interval '1 day')
                   WHEN 6 THEN 0.5 WHEN 7 THEN 0.25 ELSE 1.2 END
               * CASE WHEN bench.rnd(v.seed, p_month * 100 + d, 1) < 0.05
                      THEN 4 ELSE 1 END AS w
        FROM generate_series(1, v_days) d),
    per_day AS (
        SELECT d, day_start,
               round(v_rows * w / sum(w) OVER ())::int AS n
        FROM days),
    r AS (
        SELECT day_start,
               (p_month::bigint * 40 + d) * 100000000 + i AS key
        FROM per_day, generate_series(1, per_day.n) i),
    c AS (
        SELECT key,
               day_start + (28800 + 43200 * bench.rnd(v.seed, key, 5))
                   * interval '1 second' AS created_at,
               1 + least(v.n_products - 1,
                   floor(v.n_products * bench.rnd(v.seed, key, 2) ^ 3))::int
                   AS rank,
               floor(v.lots_per_product * bench.rnd(v.seed, key, 3))::int AS k,
               bench.rnd(v.seed, key, 4) AS u,
               bench.rnd(v.seed, key, 6) AS q
        FROM r),
    moves AS (
        SELECT c.created_at, lm.product_id, lm.location_id, lm.lot_id,
               CASE WHEN c.u < 0.85 THEN 'shipment'
                    WHEN c.u < 0.93 THEN 'consumption'
                    WHEN c.u < 0.97 THEN 'return'
                    ELSE 'adjustment' END AS txn_type,
               (CASE WHEN c.u < 0.85 THEN -(1 + floor(c.q ^ 2 * 20))
                     WHEN c.u < 0.93 THEN -(1 + floor(c.q * 5))
                     WHEN c.u < 0.97 THEN 1 + floor(c.q * 3)
                     WHEN c.q < 0.5 THEN -1 ELSE 2 END)::numeric AS quantity,
               'g:' || c.key AS reference
        FROM c
        JOIN bench.lotmap lm ON lm.rank = c.rank AND lm.k = c.k)
    SELECT v_start AS created_at, lm.product_id, lm.location_id, lm.lot_id,
           'receipt' AS txn_type,
           coalesce(o.outflow, 0)
               + CASE WHEN p_month = 0 THEN 20 ELSE 0 END AS quantity,
           format('g:r:%s:%s', p_month, lm.lot_id) AS reference
    FROM bench.lotmap lm
    LEFT JOIN (SELECT lot_id, -sum(quantity) AS outflow
               FROM moves WHERE quantity < 0 GROUP BY lot_id) o
      ON o.lot_id = lm.lot_id
    WHERE coalesce(o.outflow, 0) + CASE WHEN p_month = 0 THEN 20 ELSE 0 END > 0
    UNION ALL
    SELECT * FROM moves;

    INSERT INTO inventory.transactions
        (created_at, org_id, product_id, location_id, lot_id, txn_type,
         quantity, reference)
    SELECT created_at, v.org_id, product_id, location_id, lot_id, txn_type,
           quantity, reference
    FROM mv
    ORDER BY created_at;
    GET DIAGNOSTICS v_count = ROW_COUNT;

    -- the reference trigger's claims (the month is pruned to one partition)
    INSERT INTO inventory.transaction_refs (org_id, reference, txn_id, created_at)
    SELECT t.org_id, t.reference, t.txn_id, t.created_at
    FROM inventory.transactions t
    WHERE t.created_at >= v_start AND t.created_at < v_end;

    -- the rollup trigger's upsert, with the month's rows as new_rows (the
    -- organisation's zone is UTC; months do not share days)
    INSERT INTO inventory.daily_usage AS u
        (product_id, location_id, day, demand, returned, lines)
    SELECT n.product_id, n.location_id,
           (n.created_at AT TIME ZONE 'UTC')::date,
           COALESCE(sum(-n.quantity) FILTER (
               WHERE n.txn_type IN ('shipment', 'consumption')), 0),
           COALESCE(sum(n.quantity) FILTER (WHERE n.txn_type = 'return'), 0),
           count(*) FILTER (WHERE n.txn_type IN ('shipment', 'consumption'))
    FROM mv n
    WHERE n.txn_type IN ('shipment', 'consumption', 'return')
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3;

    -- the lots trigger's change, applied once for all months at the end
    INSERT INTO bench.lot_delta
    SELECT lot_id, sum(quantity), max(created_at) FROM mv GROUP BY lot_id;

    DROP TABLE mv;
    RETURN v_count;
END;
$$;
