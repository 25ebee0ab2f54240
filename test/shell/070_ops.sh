#!/usr/bin/env bash
# Operations tests that need more than one session or cluster:
#   - refresh_summary skips (NOTICE) while another session holds its
#     advisory lock; maintenance_activity shows holder, waiter, blocking;
#   - pg_dump / pg_restore round trip with data, tenant policies, grants;
#   - a cluster without pg_cron preloaded: the extension works and
#     schedule_jobs fails with the exact postgresql.conf lines to add;
#   - a cluster where pg_cron can run jobs: the refresh job runs on a
#     one-minute schedule and its run shows in inventory.job_runs.
# Runs inside bin/test's cluster environment (PGHOST, PGPORT, ...).
set -uo pipefail
. "$INV_TOP/bin/common.sh"

# the test counter lives in a file: some checks run in subshells
nfile=$(mktemp /tmp/ops_n.XXXXXX)
echo 0 >"$nfile"
check() {	# check "description" command...: TAP line from the exit status
	local what=$1 n; shift
	n=$(($(cat "$nfile") + 1))
	echo "$n" >"$nfile"
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}
q() {	# q DB SQL: one value, unaligned
	psql -qXAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
eq() {	# eq expected actual
	[ "$1" = "$2" ] || { echo "# expected: $1"; echo "#      got: $2"; return 1; }
}

# ---- advisory lock: skip, and the activity view -------------------------
psql -qX -d postgres -c "DROP DATABASE IF EXISTS ops_lock" \
	-c "CREATE DATABASE ops_lock" >/dev/null
q ops_lock "CREATE EXTENSION inventory_ext" >/dev/null
psql -qX -d ops_lock -v application_name=holder \
	-c "SET application_name = 'ops-holder'" \
	-c "BEGIN" \
	-c "SELECT pg_advisory_xact_lock(x'494E5645'::integer, 1)" \
	-c "SELECT pg_sleep(8)" -c "COMMIT" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 50); do
	[ "$(q ops_lock "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
	sleep 0.1
done
psql -qX -d ops_lock -c "SET application_name = 'ops-waiter'" \
	-c "SELECT pg_advisory_xact_lock(x'494E5645'::integer, 1)" >/dev/null 2>&1 &
waiter=$!
sleep 1
out=$(psql -qXAt -d ops_lock -v VERBOSITY=terse \
	-c "SELECT inventory.refresh_summary() IS NULL" 2>&1)
check "refresh_summary skips with a NOTICE while its lock is held" \
	eq "NOTICE:  summary refresh skipped: another refresh is running
t" "$out"
check "maintenance_activity shows the holder as blocking and the waiter as blocked" \
	eq "ops-holder|summary refresh (held)|blocking
ops-waiter|summary refresh (waiting)|blocked" \
	"$(q ops_lock "SELECT application_name, advisory_locks, state_summary
	               FROM inventory.maintenance_activity ORDER BY 1")"
wait "$holder" "$waiter"
check "the refresh runs once the lock is free" \
	eq t "$(q ops_lock "SELECT inventory.refresh_summary() IS NOT NULL")"

# ---- pg_dump / pg_restore round trip -------------------------------------
psql -qX -d postgres -c "DROP DATABASE IF EXISTS ops_dump" \
	-c "CREATE DATABASE ops_dump" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d ops_dump >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION inventory_ext;
INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('north', 'North', 'Europe/London'), ('south', 'South', 'UTC');
INSERT INTO inventory.products (org_id, sku, name, reorder_point)
SELECT o.org_id, o.code || '-' || g, 'item ' || g, g
FROM inventory.organizations o, generate_series(1, 20) g;
INSERT INTO inventory.locations (org_id, code, name, priority)
SELECT o.org_id, 'wh' || g, 'warehouse ' || g, g
FROM inventory.organizations o, generate_series(1, 3) g;
SELECT count(inventory.receive(p.product_id, l.location_id, 10 + p.product_id,
                               'rcv:' || p.product_id || ':' || l.location_id,
                               '2026-01-02 08:00+00'))
FROM inventory.products p JOIN inventory.locations l USING (org_id);
SELECT count(inventory.record_movement(l.lot_id, 'shipment', 3,
                                       'ship:' || l.lot_id,
                                       '2026-01-03 09:00+00'))
FROM inventory.lots l;
UPDATE inventory.lots SET qty_allocated = 2 WHERE lot_id % 4 = 0;
INSERT INTO inventory.partition_policies
    (parent, partition_column, column_type, time_zone, premake_months,
     retention, retention_action, archive_parent)
VALUES ('inventory.transactions', 'created_at', 'timestamptz',
        'Europe/London', 4, '13 months', 'archive',
        'inventory.transactions_archive');
SELECT inventory.enable_tenant_isolation();
SQL
fingerprint() {	# a digest of data, policies and grants of database $1
	q "$1" "
	SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
	    SELECT 'org ' || o::text FROM inventory.organizations o
	    UNION ALL SELECT 'product ' || p::text FROM inventory.products p
	    UNION ALL SELECT 'location ' || l::text FROM inventory.locations l
	    UNION ALL SELECT 'lot ' || l::text FROM inventory.lots l
	    UNION ALL SELECT 'txn ' || t::text FROM inventory.transactions t
	    UNION ALL SELECT 'ref ' || r::text FROM inventory.transaction_refs r
	    UNION ALL SELECT 'policy ' || p::text FROM inventory.partition_policies p
	    UNION ALL SELECT 'summary ' || s::text FROM inventory.stock_summary s
	    UNION ALL SELECT 'rls ' || c.relname || ' ' || c.relrowsecurity
	        FROM pg_class c WHERE c.relnamespace = 'inventory'::regnamespace
	    UNION ALL SELECT 'pol ' || tablename || ' ' || policyname || ' '
	               || array_to_string(roles, ',') || ' ' || qual
	        FROM pg_policies WHERE schemaname = 'inventory'
	    UNION ALL SELECT 'acl ' || c.relname || ' ' || COALESCE(c.relacl::text, '')
	        FROM pg_class c WHERE c.relnamespace = 'inventory'::regnamespace
	    UNION ALL SELECT 'fn ' || p.oid::regprocedure::text || ' '
	               || COALESCE(p.proacl::text, '') || ' ' || p.prosecdef
	        FROM pg_proc p WHERE p.pronamespace = 'inventory'::regnamespace
	) s(x)"
}
dumpfile=$(mktemp /tmp/ops_dump.XXXXXX)
pg_dump -Fc -d ops_dump -f "$dumpfile"
psql -qX -d postgres -c "DROP DATABASE IF EXISTS ops_restore" \
	-c "CREATE DATABASE ops_restore" >/dev/null
restore_log=$(pg_restore -d ops_restore "$dumpfile" 2>&1)
check "pg_restore into a new database reports no error" eq "" "$restore_log"
check "data, tenant policies, grants and summary survive the round trip" \
	eq "$(fingerprint ops_dump)" "$(fingerprint ops_restore)"
check "the restored incremental summary matches a recomputation" \
	eq 0 "$(q ops_restore "SELECT count(*) FROM inventory.check_stock_summary()")"
check "the restored policies still isolate tenants" \
	eq "20|1" "$(q ops_restore "SET ROLE inventory_reader;
	               SET inventory.current_org = '1';
	               SELECT (SELECT count(*) FROM inventory.products),
	                      (SELECT count(DISTINCT org_id) FROM inventory.stock_summary)")"
check "the materialized view refreshes after restore" \
	eq 40 "$(q ops_restore "SELECT inventory.refresh_summary() IS NOT NULL;
	               SELECT count(*) FROM inventory.inventory_summary" | tail -1)"
rm -f "$dumpfile"
psql -qX -d postgres -c "DROP DATABASE ops_lock" -c "DROP DATABASE ops_dump" \
	-c "DROP DATABASE ops_restore" >/dev/null

# ---- a cluster without pg_cron -------------------------------------------
nocron() {
	local dir port rc=0 as=()
	dir=$(mktemp -d /tmp/inventory_nocron.XXXXXX)
	chmod 755 "$dir"
	port=$(( 20000 + RANDOM % 20000 ))
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; as=(runuser -u postgres --); fi
	"${as[@]}" "$INV_BINDIR/initdb" -D "$dir/data" -U postgres -A trust \
		--no-sync -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 || return 1
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
fsync = off
CONF
	"${as[@]}" "$INV_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		start >/dev/null || return 1
	(
		export PGHOST=$dir PGPORT=$port
		q postgres "CREATE DATABASE shop" >/dev/null
		q shop "CREATE EXTENSION inventory_ext" >/dev/null
		check "without pg_cron the extension installs and job_runs is empty" \
			eq 0 "$(q shop "SELECT count(*) FROM inventory.job_runs")"
		check "schedule_jobs fails with 55000 and the postgresql.conf lines to add" \
			eq "55000|pg_cron is not loaded|Add shared_preload_libraries = 'pg_cron' and cron.database_name = 'shop' to postgresql.conf, restart the server, then run CREATE EXTENSION pg_cron in database shop." \
			"$(psql -qXAt -d shop -v VERBOSITY=verbose -c "SELECT inventory.schedule_jobs()" 2>&1 |
			   sed -n -e 's/^ERROR:  \([0-9A-Z]*\): \(.*\)$/\1|\2/p' -e 's/^HINT:  /|/p' | tr -d '\n')"
		check "stock still moves without pg_cron" \
			eq 0 "$(q shop "INSERT INTO inventory.organizations (code, name) VALUES ('o', 'O');
			              INSERT INTO inventory.products (org_id, sku, name) VALUES (1, 'p', 'P');
			              INSERT INTO inventory.locations (org_id, code, name) VALUES (1, 'l', 'L');
			              SELECT inventory.receive(1, 1, 5, 'r1') IS NULL;
			              SELECT count(*) FROM inventory.check_stock_summary()" | tail -1)"
	) || rc=$?
	"${as[@]}" "$INV_BINDIR/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$dir"
	return $rc
}
nocron

# ---- a cluster where pg_cron runs jobs -----------------------------------
# bin/test's cluster listens on a socket only and pg_cron connects to
# localhost by default; background workers need no connection.
cron_runs() {
	q inventory_cron "CREATE EXTENSION pg_cron" >/dev/null
	q inventory_cron "CREATE EXTENSION inventory_ext" >/dev/null
	q inventory_cron "SELECT count(*) FROM inventory.schedule_jobs(
	                      p_maintenance => NULL, p_archival => NULL,
	                      p_rollup_check => NULL, p_refresh => '* * * * *')" >/dev/null
	local status="" i
	for i in $(seq 1 80); do
		status=$(q inventory_cron "SELECT last_status FROM inventory.job_runs
		                           WHERE job_name = 'inventory_ext:refresh'")
		[ "$status" = succeeded ] && break
		sleep 1
	done
	check "the refresh job ran on its one-minute schedule (after ${i}s)" \
		eq succeeded "$status"
	check "job_runs shows the run with pg_cron's message" \
		eq "* * * * *|t|SELECT 1" "$(q inventory_cron "SELECT schedule, recent_runs >= 1, last_message
		                        FROM inventory.job_runs")"
	check "unschedule_jobs removes the job" \
		eq "1|0" "$(q inventory_cron "SELECT inventory.unschedule_jobs()")|$(
		            q inventory_cron "SELECT count(*) FROM inventory.job_runs")"
}
(
	export INV_PGCONF="cron.use_background_workers = on
max_worker_processes = 20"
	inv_with_cluster cron_runs
)
echo "1..$(cat "$nfile")"
rm -f "$nfile"
