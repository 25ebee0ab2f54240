-- Generated stand-in for the UCI Online Retail file, same columns and
-- shape: used by bin/demo when ../shared/data is absent.  Deterministic.
-- Output: CSV with header on stdout (run with psql -At).
SELECT setseed(0.42);
COPY (
    WITH lines AS (
        SELECT g AS n,
               -- a few products dominate: power-law pick over 3000 codes
               (floor(3000 * power(random(), 3)))::int AS prod,
               (floor(20 * power(random(), 4)))::int AS country,
               timestamp '2010-12-01 08:00'
                   + (floor(random() * 374) || ' days')::interval
                   + (floor(random() * 600) || ' minutes')::interval AS ts,
               1 + floor(24 * power(random(), 2))::int AS qty,
               random() AS r
        FROM generate_series(1, 300000) g)
    SELECT CASE WHEN r < 0.02 THEN 'C' ELSE '' END
               || (536365 + n / 4)::text AS "InvoiceNo",
           (20000 + prod)::text AS "StockCode",
           'GENERATED PRODUCT ' || prod AS "Description",
           CASE WHEN r < 0.02 THEN -qty ELSE qty END AS "Quantity",
           to_char(ts, 'YYYY-MM-DD HH24:MI:SS') AS "InvoiceDate",
           round((0.5 + prod % 17)::numeric * 0.85, 2) AS "UnitPrice",
           'P' || lpad((n % 4000)::text, 5, '0') AS "CustomerRef",
           'Country ' || country AS "Country"
    FROM lines
    -- the shop is closed on Saturdays, as in the real data
    WHERE extract(isodow FROM ts) <> 6
    ORDER BY ts, n
) TO STDOUT WITH (FORMAT csv, HEADER true);
