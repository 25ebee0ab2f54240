#!/usr/bin/env bash
# Archival survives a killed backend and an immediate server stop: the
# archiving session is stopped (pg_terminate_backend, and separately
# pg_ctl -m immediate) after a month was detached but before it was
# attached to the archive, in the middle of a batched move (some batches
# committed, one in flight), and during a restore.  After each, every
# ledger row exists exactly once, hot or archived (same count, same
# checksum, no txn_id twice), stock and the daily usage rollup are
# unchanged, and rerunning the job completes it.  Last, a writer records
# movements in the current month while a month is archived and restored
# over and over: no movement may wait long.
#
# Runs in a cluster of its own, since it stops the server.
set -u
. "$INV_TOP/bin/common.sh"

crash_suite() {
	local db=archcrash n=0 as=() bg
	[ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
	q() { psql -qtAX -d "$db" -v ON_ERROR_STOP=1 -c "$1"; }
	check() {
		n=$((n + 1))
		if [ "$2" = "$3" ]; then
			echo "ok $n - $1"
		else
			echo "not ok $n - $1"
			echo "#   got:      $2"
			echo "#   expected: $3"
		fi
	}
	# wait until a query returns t (at most 30 s)
	wait_for() {
		local i
		for i in $(seq 1 300); do
			[ "$(q "$1" 2>/dev/null)" = "t" ] && return 0
			sleep 0.1
		done
		echo "# timed out waiting for: $1"
		return 1
	}
	# start an archiving statement in the background, as application
	# "archiver", with long lock waits so that a blocker holds it
	start_archiver() {
		PGAPPNAME=archiver PGOPTIONS="-c inventory_ext.lock_timeout=60000 -c inventory_ext.lock_retries=1" \
			psql -qX -d "$db" -c "$1" >"$INV_CLUSTER_DIR/archiver.log" 2>&1 &
		bg=$!
	}
	# hold a lock from a background session until it is killed
	start_blocker() {
		PGAPPNAME=blocker psql -qX -d "$db" \
			-c "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);" \
			>/dev/null 2>&1 &
		wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'blocker' AND l.granted AND l.mode = 'AccessExclusiveLock' AND l.relation = '$1'::regclass)"
	}
	kill_app() {
		q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$1'" >/dev/null
	}
	archiver_waits_on_lock() {
		wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'archiver' AND wait_event_type = 'Lock')"
	}
	immediate_restart() {
		"${as[@]}" "$INV_BINDIR/pg_ctl" -D "$INV_CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1
		wait "$bg" 2>/dev/null
		"${as[@]}" "$INV_BINDIR/pg_ctl" -D "$INV_CLUSTER_DIR/data" -l "$INV_CLUSTER_DIR/server.log" -w start >/dev/null
	}
	# the ledger's fingerprint: rows, checksum, distinct ids, stock, rollup
	fp() {
		q "SELECT * FROM public.fingerprint()"
	}

	psql -qX -c "CREATE DATABASE $db" >/dev/null
	q "CREATE EXTENSION inventory_ext" >/dev/null
	psql -qX -d "$db" -v ON_ERROR_STOP=1 \
		-f "$INV_TOP/test/shell/archive_ledger.sql" >/dev/null
	q "
	SET TimeZone = 'UTC';
	SELECT inventory.receive(p.product_id, l.location_id, 1000000, 'PO-0',
	                         '2023-12-31 23:00+00')
	FROM inventory.products p, inventory.locations l;
	-- January to April (April in the default partition), shipments and returns
	SELECT count(inventory.record_movement(1, CASE WHEN g % 5 = 0 THEN 'return' ELSE 'shipment' END,
	           1 + g % 3, 'M-' || g,
	           '2024-01-01 00:10+00'::timestamptz + g * interval '50 minutes'))
	FROM generate_series(0, 3400) g;
	CREATE FUNCTION public.fingerprint() RETURNS text LANGUAGE sql AS \$\$
	    SELECT concat_ws(' ',
	        (SELECT count(*) || ' rows' FROM inventory.transactions_all),
	        (SELECT 'checksum ' || sum(hashtextextended(ROW(t.txn_id, t.created_at,
	            t.org_id, t.product_id, t.location_id, t.lot_id, t.txn_type,
	            t.quantity, t.unit_cost, t.reference, t.demand_ref, t.note)::text, 0))
	         FROM inventory.transactions_all t),
	        (SELECT count(DISTINCT txn_id) || ' ids' FROM inventory.transactions_all),
	        (SELECT 'stock ' || sum(qty_on_hand) FROM inventory.lots),
	        (SELECT 'usage ' || sum(hashtext(u::text)) FROM inventory.daily_usage u))
	\$\$;
	-- a slow archive: every row inserted into it waits 50 ms, so a
	-- batched move of one row per batch can be caught in flight
	CREATE FUNCTION public.slow_row() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN
	    IF current_setting('application_name') = 'archiver' THEN
	        PERFORM pg_sleep(0.05);
	    END IF;
	    RETURN NEW;
	END \$\$;
	CREATE TRIGGER slow_row BEFORE INSERT ON inventory.transactions_archive
	    FOR EACH ROW EXECUTE FUNCTION public.slow_row();
	" >/dev/null
	local base
	base=$(fp)
	echo "# baseline: $base"
	check "setup: 3402 ledger rows" "$(q "SELECT count(*) FROM inventory.transactions")" "3402"

	# 1. killed after DETACH, before ATTACH (blocked on the archive's default)
	start_blocker inventory.transactions_archive_default
	start_archiver "SELECT inventory.archive_partition('inventory.transactions_p202401', true)"
	archiver_waits_on_lock
	check "archiver holds the detach while it waits for the attach" \
		"$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'archiver' AND l.relation = 'inventory.transactions'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted")" "1"
	kill_app archiver
	wait "$bg"
	kill_app blocker
	check "killed between detach and attach: every row once" "$(fp)" "$base"
	check "killed between detach and attach: January is still a hot partition" \
		"$(q "SELECT inhparent::regclass FROM pg_inherits WHERE inhrelid = 'inventory.transactions_p202401'::regclass")" \
		"inventory.transactions"
	q "SELECT inventory.archive_partition('inventory.transactions_p202401', true)" >/dev/null
	check "rerun archives January" \
		"$(q "SELECT string_agg(partition::text, ',') FROM inventory.list_partition_ranges('inventory.transactions_archive') WHERE NOT is_default")" \
		"inventory.transactions_p202401"
	check "after the rerun: every row once" "$(fp)" "$base"

	# 2. killed in the middle of a batched move (one row per batch)
	start_archiver "CALL inventory.archive_before_proc('inventory.transactions', '2024-02-10 00:00+00', 1)"
	wait_for "SELECT COALESCE((SELECT steps >= 5 FROM inventory.archive_progress WHERE state = 'running'), false)"
	check "progress is readable from another session while batches run" \
		"$(q "SELECT state FROM inventory.archive_progress")" "running"
	kill_app archiver
	wait "$bg"
	check "killed mid-batch: every row once" "$(fp)" "$base"
	check "killed mid-batch: some batches were committed" \
		"$(q "SELECT count(*) > 0 AND count(*) < 216 FROM inventory.transactions_archive WHERE created_at >= '2024-02-01'")" "t"
	q "CALL inventory.archive_before_proc('inventory.transactions', '2024-02-10 00:00+00', 50, false)" >/dev/null
	check "rerun completes: nothing hot before the cutoff" \
		"$(q "SELECT count(*) FROM inventory.transactions WHERE created_at < '2024-02-10'")" "0"
	check "rerun completes: progress done" \
		"$(q "SELECT state FROM inventory.archive_progress")" "done"
	check "after the rerun: every row once" "$(fp)" "$base"

	# 3. immediate server stop in the middle of a batched move
	start_archiver "CALL inventory.archive_before_proc('inventory.transactions', '2024-02-20 00:00+00', 1)"
	wait_for "SELECT COALESCE((SELECT steps >= 5 FROM inventory.archive_progress WHERE state = 'running'), false)"
	immediate_restart
	check "immediate stop mid-batch: every row once after recovery" "$(fp)" "$base"
	q "CALL inventory.archive_before_proc('inventory.transactions', '2024-02-20 00:00+00', 100, false)" >/dev/null
	check "rerun after recovery completes" \
		"$(q "SELECT count(*) FROM inventory.transactions WHERE created_at < '2024-02-20'")" "0"
	check "after the rerun: every row once" "$(fp)" "$base"

	# 4. immediate server stop between detach and attach of a whole month
	start_blocker inventory.transactions_archive_default
	start_archiver "SELECT inventory.archive_before('inventory.transactions', '2024-04-01 00:00+00', 1000)"
	archiver_waits_on_lock
	immediate_restart
	check "immediate stop between detach and attach: every row once" "$(fp)" "$base"
	check "immediate stop between detach and attach: March still hot" \
		"$(q "SELECT count(*) > 0 FROM inventory.list_partition_ranges('inventory.transactions') WHERE partition = 'inventory.transactions_p202403'::regclass")" "t"
	q "SELECT inventory.archive_before('inventory.transactions', '2024-04-01 00:00+00', 1000)" >/dev/null
	check "rerun archives February and March whole" \
		"$(q "SELECT count(*) FROM inventory.transactions WHERE created_at < '2024-04-01'")" "0"
	check "after the rerun: every row once" "$(fp)" "$base"

	# 5. killed during a restore (blocked on the hot default partition)
	start_blocker inventory.transactions_default
	start_archiver "SELECT inventory.restore_month('inventory.transactions', '2024-03-01')"
	archiver_waits_on_lock
	kill_app archiver
	wait "$bg"
	kill_app blocker
	check "killed during restore: every row once" "$(fp)" "$base"
	q "SELECT inventory.restore_month('inventory.transactions', '2024-03-01')" >/dev/null
	check "rerun restores March" \
		"$(q "SELECT count(*) FROM inventory.transactions_archive WHERE created_at >= '2024-03-01' AND created_at < '2024-04-01'")" "0"
	check "after the restore: every row once" "$(fp)" "$base"
	check "archive_runs recorded the runs" \
		"$(q "SELECT count(*) > 0 FROM inventory.archive_history WHERE outcome = 'ok'")" "t"
	# 6. writers of the current month keep writing while months are
	# archived and restored: each movement's latency is recorded
	q "CREATE TABLE inventory.transactions_p202405 PARTITION OF inventory.transactions
	       FOR VALUES FROM ('2024-05-01 00:00+00') TO ('2024-06-01 00:00+00');
	   CREATE TABLE public.latency (ms float8)" >/dev/null
	PGAPPNAME=writer psql -qX -d "$db" -c "
	DO \$\$
	DECLARE t0 timestamptz;
	BEGIN
	    FOR i IN 1..400 LOOP
	        t0 := clock_timestamp();
	        PERFORM inventory.record_movement(1, 'shipment', 1, 'W-' || i,
	            '2024-05-01 00:00+00'::timestamptz + i * interval '1 minute');
	        INSERT INTO public.latency
	        VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
	        COMMIT;
	        PERFORM pg_sleep(0.01);
	    END LOOP;
	END \$\$" >/dev/null 2>&1 &
	local writer=$! cycles=0
	while kill -0 "$writer" 2>/dev/null && [ $cycles -lt 20 ]; do
		q "SELECT inventory.restore_month('inventory.transactions', '2024-01-01')" >/dev/null &&
			q "SELECT inventory.archive_partition('inventory.transactions_p202401')" >/dev/null &&
			cycles=$((cycles + 1))
	done
	wait "$writer"
	echo "# $cycles archive+restore cycles of January while writing May; writer latency ms: $(q "SELECT 'max ' || round(max(ms)::numeric, 1) || ', p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ', median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM public.latency")"
	check "the writer recorded every movement" \
		"$(q "SELECT count(*) FROM inventory.transactions WHERE reference LIKE 'W-%'")" "400"
	check "months were archived and restored meanwhile" \
		"$(q "SELECT $cycles > 0")" "t"
	check "no movement waited longer than 250 ms" \
		"$(q "SELECT max(ms) < 250 FROM public.latency")" "t"
}

inv_with_cluster crash_suite
