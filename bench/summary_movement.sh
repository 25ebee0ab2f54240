#!/usr/bin/env bash
# Single-client throughput of inventory.record_movement, the path every
# ledger insert takes through the lots and stock_summary triggers.
# Run inside a cluster:  . bin/common.sh; inv_build;
#   inv_with_cluster bash bench/summary_movement.sh
# INV_BENCH_SECONDS (default 20), INV_BENCH_CLIENTS (default 1);
# INV_BENCH_NO_SUMMARY=1 disables the stock_summary triggers, to see the
# floor the summary's cost sits on.
set -eu
seconds=${INV_BENCH_SECONDS:-20}
clients=${INV_BENCH_CLIENTS:-1}
db=summary_bench
work=$(mktemp -d /tmp/summary_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
psql -X -q -d postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
q "CREATE EXTENSION inventory_ext" >/dev/null
# 200 products, 20 lots each (4000 lots) over 4 locations
q "
INSERT INTO inventory.organizations (code, name) VALUES ('b', 'Bench');
INSERT INTO inventory.locations (org_id, code, name, priority)
SELECT org_id, 'L' || i, 'L' || i, i FROM inventory.organizations,
       generate_series(1, 4) AS i;
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'P-' || i, 'P ' || i
FROM inventory.organizations, generate_series(1, 200) AS i;
SELECT count(inventory.receive(p.product_id,
           (SELECT min(location_id) FROM inventory.locations) + i % 4,
           1000, 'bench-' || p.product_id || '-' || i,
           '2024-01-01'::timestamptz + i * interval '1 day'))
FROM inventory.products p, generate_series(1, 20) AS i;
" >/dev/null
q "VACUUM ANALYZE" >/dev/null
if [ -n "${INV_BENCH_NO_SUMMARY:-}" ]; then
	for t in insert update delete; do
		q "ALTER TABLE inventory.lots DISABLE TRIGGER lots_stock_summary_$t"
	done
fi
lmin=$(q "SELECT min(lot_id) FROM inventory.lots")
lmax=$(q "SELECT max(lot_id) FROM inventory.lots")
cat >"$work/mv.sql" <<'SQL'
\set l random(:lmin, :lmax)
\set k random(1, 2)
SELECT inventory.record_movement(:l, (ARRAY['receipt', 'shipment'])[:k], 1,
    'm-' || :client_id || '-' || pg_current_xact_id());
SQL
"$INV_BINDIR/pgbench" -n -c "$clients" -j "$clients" -T "$seconds" \
	-D lmin="$lmin" -D lmax="$lmax" -f "$work/mv.sql" "$db" >"$work/out" 2>&1 ||
	{ cat "$work/out"; exit 1; }
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/out" | tail -1)
bad=$(q "SELECT count(*) FROM inventory.check_stock_summary()")
echo "record_movement: $tps tps ($clients client(s), $seconds s)${INV_BENCH_NO_SUMMARY:+, summary triggers disabled}; check_stock_summary rows: $bad"
