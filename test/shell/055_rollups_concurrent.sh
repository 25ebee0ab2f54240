#!/usr/bin/env bash
# The incremental rollups under concurrent writers: 8 pgbench clients
# record shipments, returns and receipts for a few hot products (so the
# daily_usage and stock_summary rows they touch collide) for 15 seconds.
# Afterwards both rollups must equal a recomputation from the ledger, and
# the server log must show no deadlock.
set -u
n=0
check() {	# check "description" command...: TAP line from the exit status
	local what=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}
q() { psql -qXAt -v ON_ERROR_STOP=1 -d rollups -c "$1"; }
eq() {	# eq expected actual
	[ "$1" = "$2" ] || { echo "# expected: $1"; echo "#      got: $2"; return 1; }
}

PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "DROP DATABASE IF EXISTS rollups" \
	-c "CREATE DATABASE rollups" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d rollups >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION inventory_ext;
INSERT INTO inventory.organizations (code, name, time_zone)
VALUES ('shop', 'Shop', 'Europe/London');
INSERT INTO inventory.products (org_id, sku, name)
SELECT 1, 'hot-' || g, 'hot product ' || g FROM generate_series(1, 4) g;
INSERT INTO inventory.locations (org_id, code, name)
SELECT 1, 'wh' || g, 'warehouse ' || g FROM generate_series(1, 2) g;
-- one big lot per product and location: shipments never run out
SELECT count(inventory.receive(p.product_id, l.location_id, 1000000,
                               'open:' || p.product_id || ':' || l.location_id))
FROM inventory.products p CROSS JOIN inventory.locations l;
SQL

script=$(mktemp /tmp/rollups.XXXXXX.sql)
cat >"$script" <<'PGB'
\set lot random(1, 8)
\set qty random(1, 20)
\set kind random(1, 10)
SELECT inventory.record_movement(:lot,
       CASE WHEN :kind <= 7 THEN 'shipment'
            WHEN :kind <= 9 THEN 'return' ELSE 'receipt' END,
       :qty, 'bench:' || :client_id || ':' || random()::text);
PGB
pgbench -n -c 8 -j 2 -T 15 -f "$script" rollups >"$script.log" 2>&1
rc=$?
rm -f "$script"
check "pgbench ran 8 clients for 15 s without a failed transaction" \
	eq "0|0" "$rc|$(grep -cE 'ERROR|aborted' "$script.log")"
grep -E 'number of transactions actually processed|tps' "$script.log" |
	sed 's/^/# /'
rm -f "$script.log"

check "movements were recorded" \
	eq t "$(q "SELECT count(*) > 100 FROM inventory.transactions")"
check "daily_usage equals a rebuild from the ledger" \
	eq 0 "$(q "SELECT count(*) FROM inventory.check_daily_usage(1,
	           current_date - 1, current_date + 1)")"
check "stock_summary equals a recomputation from the lots" \
	eq 0 "$(q "SELECT count(*) FROM inventory.check_stock_summary()")"
check "the nightly job's check_rollups() agrees" \
	eq 0 "$(q "SELECT inventory.check_rollups()")"
check "lots equal the sum of their ledger rows" \
	eq 0 "$(q "SELECT count(*) FROM inventory.lots l
	           WHERE l.qty_on_hand <> (SELECT sum(t.quantity)
	                                   FROM inventory.transactions t
	                                   WHERE t.lot_id = l.lot_id)")"
check "no deadlock in the server log" \
	eq 0 "$(grep -c 'deadlock detected' "$INV_CLUSTER_DIR/server.log")"
psql -qX -d postgres -c "DROP DATABASE rollups" >/dev/null
echo "1..$n"
