# bench/rows_ledger.sh: rows 3, 4, 6 and 7, on the generated ledger in
# database bench ($BDB).  Sourced by bench/run.

# org: the generated organisation
org() { q $BDB -c "SELECT org_id FROM bench.params"; }

# Row 3: archive one month (~monthly_rows rows).  Each run moves a
# different month of the same size, so no run finds the work of another:
# the anchor months 1, 3, 5, ours months 2, 4, 6 (data months; month 0 is
# the 10x one).  The anchor is the textbook recipe into a plain archive
# table with the archive's indexes; ours is archive_partition (metadata,
# rows not counted).  3b: ours on month 0, ten times larger, restored
# between runs with restore_month (untimed).
row3() {
	local r v m sql ms part ours=1 restore=1 first
	describe 3a "archive one month (~$(q $BDB -c "SELECT monthly_rows FROM bench.params") rows)" ms \
		"DELETE..RETURNING into INSERT" "archive_partition"
	describe 3b "archive a month 10x larger (ours 1x vs ours 10x)" ms \
		"archive_partition, 1x month" "archive_partition, 10x month"
	landed $BDB archive_partition || {
		ours=0; note 3a "ours not landed (archive_partition)"; note 3b "not landed (archive_partition)"; }
	landed $BDB restore_month || restore=0
	q $BDB -c "CREATE TABLE bench.archive_anchor
		(LIKE inventory.transactions_archive INCLUDING ALL)" >/dev/null
	# the plain table has no index when the archive's are on its partitions
	q $BDB -c "CREATE INDEX IF NOT EXISTS archive_anchor_txn ON bench.archive_anchor (txn_id);
		CREATE INDEX IF NOT EXISTS archive_anchor_product ON bench.archive_anchor (product_id, location_id, created_at)" >/dev/null
	first=$(q $BDB -c "SELECT first_month FROM bench.params")
	for r in $(seq 1 "$RUNS"); do
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			if [ $v = anchor ]; then
				m=$((2 * r - 1))
				sql="WITH d AS (DELETE FROM inventory.transactions
					WHERE created_at >= bench.month_start($m)
					  AND created_at < bench.month_start($((m + 1)))
					RETURNING *)
					INSERT INTO bench.archive_anchor SELECT * FROM d"
			else
				[ $ours = 1 ] || continue
				m=$((2 * r))
				part=$(q $BDB -c "SELECT bench.month_partition($m)")
				sql="SELECT inventory.archive_partition('$part'::regclass, false)"
			fi
			if ms=$(ms $BDB "$sql"); then
				rec 3a $v "$r" "$ms"
				[ $v = ours ] && rec 3b anchor "$r" "$ms"
			else
				note 3a "$v failed on month $m"
			fi
		done
	done
	[ $ours = 1 ] || return 0
	for r in $(seq 1 "$RUNS"); do
		part=$(q $BDB -c "SELECT bench.month_partition(0)")
		if [ -z "$part" ]; then note 3b "month 0 not in the hot ledger"; break; fi
		if ms=$(ms $BDB "SELECT inventory.archive_partition('$part'::regclass, false)"); then
			rec 3b ours "$r" "$ms"
		else
			note 3b "ours failed on the 10x month"; break
		fi
		if [ $restore = 0 ]; then
			note 3b "one run only: restore_month not landed"; break
		fi
		[ "$r" -lt "$RUNS" ] &&
			q $BDB -c "SELECT inventory.restore_month('inventory.transactions'::regclass, date '$first')" >/dev/null
	done
	return 0
}

# Row 4: reorder analysis for the organisation over 30 days ending
# yesterday (as of the first day of the current month), all products.
# The anchor computes the same figures from the raw ledger with a
# calendar-day grid (days without usage count as zero), with the same
# population standard deviation.  Both sides return sums of every figure:
# with only count(*) outside, the planner removed the anchor's LEFT JOINs
# to the usage and stock subqueries (unique on the join keys, no column
# used) and never read the ledger, so the anchor timed a 150k-row grid.
row4() {
	local o asof r v sql ms
	describe 4 "reorder analysis, $(q $BDB -c "SELECT n_products FROM bench.params") products, 30 days" ms \
		"SQL over the raw ledger" "analyze_reorder (rollup)"
	landed $BDB analyze_reorder || { note 4 "ours not landed (analyze_reorder)"; return 0; }
	o=$(org)
	asof=$(q $BDB -c "SELECT (last_month + interval '1 month')::date FROM bench.params")
	local anchor="
WITH w AS (SELECT date '$asof' - 30 AS d0, date '$asof' - 1 AS d1),
usage AS (
    SELECT t.product_id, (t.created_at AT TIME ZONE 'UTC')::date AS day,
           sum(-t.quantity) AS q
    FROM inventory.transactions t, w
    WHERE t.org_id = $o AND t.txn_type IN ('shipment', 'consumption')
      AND t.created_at >= w.d0::timestamp AT TIME ZONE 'UTC'
      AND t.created_at < (w.d1 + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1, 2),
grid AS (
    SELECT p.product_id, d::date AS day
    FROM inventory.products p, w, generate_series(w.d0, w.d1, interval '1 day') d
    WHERE p.org_id = $o),
stats AS (
    SELECT g.product_id, avg(coalesce(u.q, 0)) AS mean,
           stddev_pop(coalesce(u.q, 0)) AS sd
    FROM grid g LEFT JOIN usage u USING (product_id, day)
    GROUP BY 1),
stock AS (
    SELECT product_id, sum(qty_on_hand) AS on_hand,
           sum(qty_allocated) AS allocated, sum(qty_on_order) AS on_order
    FROM inventory.lots GROUP BY 1)
SELECT count(*), sum(x.on_hand), sum(x.mean), sum(x.sd), sum(x.days_left),
       sum(x.safety), sum(x.rop) FROM (
    SELECT p.product_id, st.on_hand, s.mean, s.sd,
           st.on_hand / nullif(s.mean, 0) AS days_left,
           1.645 * s.sd * sqrt(p.lead_time_days) AS safety,
           s.mean * p.lead_time_days + 1.645 * s.sd * sqrt(p.lead_time_days) AS rop
    FROM stats s
    JOIN inventory.products p USING (product_id)
    LEFT JOIN stock st USING (product_id)) x"
	local ours="SELECT count(*), sum(on_hand), sum(mean_daily_usage),
       sum(stddev_daily_usage), sum(days_of_stock), sum(safety_stock),
       sum(computed_reorder_point)
FROM inventory.analyze_reorder($o, date '$asof', 30)"
	for r in $(seq 1 "$RUNS"); do
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			[ $v = anchor ] && sql=$anchor || sql=$ours
			if ms=$(ms $BDB "$sql"); then rec 4 $v "$r" "$ms"; else note 4 "$v failed"; fi
		done
	done
}

# Row 6: ledger insert throughput.  The same rows (receipt +2 and
# shipment -1 pairs on lots across all products, current month) in
# statements of 1,000 rows: through our ledger (reference claim, lots,
# daily_usage rollup, stock_summary triggers) vs a plain partitioned
# table of the same shape and indexes with no trigger.
row6() {
	local n r v ms
	n=$([ "$MODE" = full ] && echo 100000 || echo 20000)
	describe 6 "ledger insert, $n rows in statements of 1000" rows/s \
		"plain partitioned table" "our ledger, triggers and rollups" "" higher
	q $BDB <<SQL >/dev/null
CREATE TABLE bench.ins_src AS
SELECT i, lm.lot_id, lm.product_id, lm.location_id,
       CASE WHEN i % 2 = 0 THEN 'receipt' ELSE 'shipment' END AS txn_type,
       CASE WHEN i % 2 = 0 THEN 2 ELSE -1 END::numeric AS quantity,
       date_trunc('month', now()) + (i / 2) * interval '10 ms' AS created_at
FROM bench.params p CROSS JOIN generate_series(0, $n - 1) i
JOIN bench.lotmap lm
  ON lm.rank = 1 + floor(p.n_products * bench.rnd(p.seed, i / 2, 7))::int
 AND lm.k = (i / 2) % p.lots_per_product;
CREATE TABLE bench.plain_ledger (LIKE inventory.transactions
    INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS
    INCLUDING INDEXES) PARTITION BY RANGE (created_at);
CREATE INDEX ON bench.plain_ledger (product_id, location_id, created_at);
CREATE INDEX ON bench.plain_ledger (lot_id);
CREATE INDEX ON bench.plain_ledger (demand_ref) WHERE demand_ref IS NOT NULL;
CREATE TABLE bench.plain_ledger_cur PARTITION OF bench.plain_ledger
    FOR VALUES FROM (date_trunc('month', now()))
    TO (date_trunc('month', now()) + interval '1 month');
-- insert_batches(target, tag, batch): the rows of bench.ins_src, in
-- statements of batch rows each, references prefixed by tag
CREATE FUNCTION bench.insert_batches(p_target regclass, p_tag text, p_batch int)
RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    v_org bigint := (SELECT org_id FROM bench.params);
    v_n bigint := (SELECT count(*) FROM bench.ins_src);
    b bigint;
BEGIN
    FOR b IN 0 .. (v_n - 1) / p_batch LOOP
        EXECUTE format('INSERT INTO %s (created_at, org_id, product_id,
                location_id, lot_id, txn_type, quantity, reference)
            SELECT created_at, \$1, product_id, location_id, lot_id,
                   txn_type, quantity, \$2 || i
            FROM bench.ins_src WHERE i >= \$3 AND i < \$4 ORDER BY i', p_target)
        USING v_org, p_tag, b * p_batch, (b + 1) * p_batch;
    END LOOP;
END \$\$;
ANALYZE bench.ins_src;
SQL
	for r in $(seq 1 "$RUNS"); do
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			if [ $v = anchor ]; then
				sql="SELECT bench.insert_batches('bench.plain_ledger', 'i:$r:', 1000)"
			else
				sql="SELECT bench.insert_batches('inventory.transactions', 'i:$r:', 1000)"
			fi
			if ms=$(ms $BDB "$sql"); then
				rec 6 $v "$r" "$(awk -v n=$n -v ms="$ms" 'BEGIN {printf "%.0f", n * 1000 / ms}')"
			else
				note 6 "$v failed"
			fi
		done
	done
}

# Row 7: summary.  7a: how stale each summary is after a write: the
# materialized view until a full concurrent refresh ends (its time, the
# least staleness a reader sees), the incremental summary zero (checked:
# the written products' rows equal their lots right after the commit).
# 7b: what the incremental summary costs writers: 200 single-movement
# statements with its triggers vs with them disabled.
row7() {
	local r v ms lots
	describe 7a "summary staleness after a write" ms \
		"matview: REFRESH CONCURRENTLY" "incremental stock_summary"
	describe 7b "200 single-row movements: write overhead" ms \
		"lots without summary triggers" "with incremental summary triggers"
	landed $BDB refresh_summary check_stock_summary || {
		note 7a "not landed (refresh_summary)"; note 7b "not landed"; return 0; }
	q $BDB <<'SQL' >/dev/null
-- movements(tag): 200 receipts of 1 on lots of 200 products, one
-- statement each, as applications record them
CREATE FUNCTION bench.movements(p_tag text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    l bigint;
BEGIN
    FOR l IN SELECT lm.lot_id FROM bench.lotmap lm, bench.params p
             WHERE lm.k = 0 AND lm.rank % greatest(1, p.n_products / 200) = 0
             ORDER BY lm.rank LIMIT 200 LOOP
        PERFORM inventory.record_movement(l, 'receipt', 1, p_tag || l);
    END LOOP;
END $$;
CREATE FUNCTION bench.summary_triggers(p_on boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t name;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger
             WHERE tgrelid = 'inventory.lots'::regclass
               AND tgname LIKE 'lots_stock_summary%' LOOP
        EXECUTE format('ALTER TABLE inventory.lots %s TRIGGER %I',
                       CASE WHEN p_on THEN 'ENABLE' ELSE 'DISABLE' END, t);
    END LOOP;
END $$;
SQL
	for r in $(seq 1 "$RUNS"); do
		# a write, then the summaries
		q $BDB -c "SELECT bench.movements('s:$r:')" >/dev/null
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			if [ $v = anchor ]; then
				ms=$(ms $BDB "SELECT inventory.refresh_summary(true)") &&
					rec 7a anchor "$r" "$ms"
			elif [ "$(q $BDB -c "SELECT count(*) FROM inventory.check_stock_summary()")" = 0 ]; then
				rec 7a ours "$r" 0
			else
				note 7a "incremental summary differed after a write"
			fi
		done
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			if [ $v = anchor ]; then
				q $BDB -c "SELECT bench.summary_triggers(false)" >/dev/null
				ms=$(ms $BDB "SELECT bench.movements('o:$r:$v:')") && rec 7b anchor "$r" "$ms"
				q $BDB -c "SELECT bench.summary_triggers(true)" >/dev/null
				# the summary carries deltas forward: movements made
				# with its triggers off must be folded in (untimed)
				q $BDB -c "SELECT inventory.rebuild_stock_summary()" >/dev/null
			else
				ms=$(ms $BDB "SELECT bench.movements('o:$r:$v:')") && rec 7b ours "$r" "$ms"
			fi
		done
	done
	q $BDB -c "SELECT inventory.rebuild_stock_summary()" >/dev/null
}
