# bench/rows_pgbench.sh: rows 5 and 8, pgbench runs against database
# bench ($BDB).  Sourced by bench/run.

TDB=bench_tpcb

# Row 5: allocation, $CLIENTS clients for $DURATION s, vs pgbench's
# built-in TPC-B-like transaction (scale $TPCB_SCALE) on the same
# cluster; tps and p99 latency.
row5() {
	local r v out pmin pmax
	describe 5a "allocation, $CLIENTS clients, ${DURATION}s: throughput" tps \
		"pgbench TPC-B-like" "allocate + release" "" higher
	describe 5b "allocation, $CLIENTS clients, ${DURATION}s: p99 latency" ms \
		"pgbench TPC-B-like" "allocate + release"
	landed $BDB allocate release_allocation || {
		note 5a "ours not landed (allocate, release_allocation)"
		note 5b "ours not landed (allocate, release_allocation)"; }
	q $BDB <<'SQL' >/dev/null
CREATE SEQUENCE bench.allocate_retries;
-- allocate_release(product, qty, ref): allocate, then release, in one
-- transaction; a lock timeout (55P03) undoes the attempt and retries it,
-- at most 100 times; retries are counted in bench.allocate_retries
CREATE FUNCTION bench.allocate_release(p_product bigint, p_qty numeric, p_ref text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    i integer;
BEGIN
    FOR i IN 1 .. 100 LOOP
        BEGIN
            PERFORM count(*) FROM inventory.allocate(p_product, p_qty, p_ref);
            PERFORM inventory.release_allocation(p_ref);
            RETURN i - 1;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM nextval('bench.allocate_retries');
        END;
    END LOOP;
    RAISE EXCEPTION 'allocation of product % kept timing out', p_product;
END $$;
SQL
	q postgres -c "CREATE DATABASE $TDB" >/dev/null
	pgbench -i -q -I dtGvp -s "$TPCB_SCALE" $TDB >"$BENCH_WORK/pgbench_init.log" 2>&1 || {
		note 5a "pgbench -i failed"; return 1; }
	read -r pmin pmax < <(q $BDB -F ' ' -c "SELECT min(product_id), max(product_id) FROM bench.productmap")
	for r in $(seq 1 "$RUNS"); do
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			if [ $v = anchor ]; then
				out=$(bench_pgbench 5.$v.$r $TDB -c "$CLIENTS" -j 2 -T "$DURATION") || {
					note 5a "$v failed"; continue; }
			else
				landed $BDB allocate release_allocation || continue
				out=$(bench_pgbench 5.$v.$r $BDB -c "$CLIENTS" -j 2 -T "$DURATION" \
					-f "$BENCH_DIR/pgbench/allocate.sql" -D pmin="$pmin" -D pmax="$pmax") || {
					note 5a "$v failed"; continue; }
			fi
			rec 5a $v "$r" "${out% *}"
			rec 5b $v "$r" "${out#* }"
		done
	done
	landed $BDB allocate release_allocation &&
		note 5a "ours: $(q $BDB -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bench.allocate_retries") lock timeouts (55P03) retried in all runs"
	return 0
}

# background_ops RUN: what runs beside the writers in row 8: idle
# maintenance of every registered table every half second, and one month
# archived (data month 6 + RUN) a second in.  Runs until killed.
background_ops() {
	local run=$1 part i=0
	while true; do
		if [ $i -eq 2 ] && [ "$ARCHIVE" = 1 ]; then
			part=$(q $BDB -c "SELECT bench.month_partition($((6 + run)))")
			[ -n "$part" ] && q $BDB -c "SELECT inventory.archive_partition('$part'::regclass, false)" >/dev/null
		fi
		q $BDB -c "SELECT count(*) FROM inventory.run_maintenance()" >/dev/null
		i=$((i + 1))
		sleep 0.5
	done
}

# Row 8: p99 latency of writers recording movements in the current
# month ($CLIENTS / 2 clients, $DURATION s) alone vs with maintenance and
# archival running beside them.
row8() {
	local r v out lmin lmax bg clients=$((CLIENTS / 2))
	ARCHIVE=1
	describe 8 "writers, $clients clients, ${DURATION}s: p99 latency" ms \
		"writers alone" "with maintenance + archival beside"
	landed $BDB run_maintenance || {
		note 8 "ours not landed (run_maintenance, archive_partition)"; return 0; }
	landed $BDB archive_partition || {
		ARCHIVE=0; note 8 "archive_partition not landed: maintenance only"; }
	read -r lmin lmax < <(q $BDB -F ' ' -c "SELECT min(lot_id), max(lot_id) FROM bench.lotmap")
	for r in $(seq 1 "$RUNS"); do
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			bg=
			if [ $v = ours ]; then
				background_ops "$r" >/dev/null 2>"$BENCH_WORK/bg.$r.log" &
				bg=$!
			fi
			out=$(bench_pgbench 8.$v.$r $BDB -c "$clients" -j 2 -T "$DURATION" \
				-f "$BENCH_DIR/pgbench/record.sql" -D lmin="$lmin" -D lmax="$lmax") ||
				note 8 "$v failed in run $r"
			if [ -n "$bg" ]; then
				kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null || true
			fi
			[ -n "$out" ] && rec 8 $v "$r" "${out#* }"
			out=
		done
	done
}
