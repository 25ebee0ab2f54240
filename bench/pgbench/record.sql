-- Row 8: one movement recorded in the current month against a random
-- lot, as an application does.  Variables: lmin, lmax (lot ids).
\set l random(:lmin, :lmax)
SELECT inventory.record_movement(:l, 'receipt', 1, 'w:' || txid_current());
