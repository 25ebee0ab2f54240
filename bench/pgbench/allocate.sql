-- Row 5: one order line allocated and released again (so stock does not
-- run out over the run), products drawn with the ledger's skew (rank
-- 1 + n * u^3: the top 1% of products get about a fifth of the lines).
-- bench.allocate_release retries a lock timeout (55P03, retryable by
-- design) as an application would.  Variables: pmin, pmax (product ids).
\set p :pmin + int((:pmax - :pmin) * pow(random(0, 999999) / 1000000.0, 3))
\set n random(1, 2000000000)
SELECT bench.allocate_release(:p, 1, 'b:' || :client_id || ':' || :n);
