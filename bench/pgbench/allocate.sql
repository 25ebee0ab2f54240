-- Row 5: one order line allocated against the hot end of the catalogue
-- (exponential skew over product ids) and released again, so stock does
-- not run out over the run.  Variables: pmin, pmax (product ids).
\set p random_exponential(:pmin, :pmax, 20)
\set n random(1, 2000000000)
BEGIN;
SELECT count(*) FROM inventory.allocate(:p, 1, 'b:' || :client_id || ':' || :n);
SELECT inventory.release_allocation('b:' || :client_id || ':' || :n);
END;
