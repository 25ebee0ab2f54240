#!/usr/bin/env bash
# Allocation soak: 16 pgbench clients for 60 s against a few hot products,
# allocating (FIFO, FEFO, LIFO, multi-line), committing, releasing and
# receiving at once, and settling each other's older reservations.  Afterwards no lot may be allocated beyond its
# quantity, lots.qty_allocated must equal the reserved allocations, every
# committed allocation must be exactly one ledger shipment, and the server
# log must hold no deadlock.  The throughput is reported beside pgbench's
# built-in TPC-B-like update transaction on the same cluster.
#
# INV_SOAK_CLIENTS, INV_SOAK_SECONDS and INV_SOAK_BUILTIN_SECONDS override
# the defaults (16, 60, 20).
set -u
clients=${INV_SOAK_CLIENTS:-16}
seconds=${INV_SOAK_SECONDS:-60}
builtin_seconds=${INV_SOAK_BUILTIN_SECONDS:-20}
pgbench="$INV_BINDIR/pgbench"
db=fifo_soak
work=$(mktemp -d /tmp/fifo_soak.XXXXXX)
trap 'rm -rf "$work"' EXIT

n=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

if [ ! -x "$pgbench" ]; then
	echo "ok 1 # SKIP pgbench not found at $pgbench"
	exit 0
fi

psql -X -q -d postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
q "CREATE EXTENSION inventory_ext" >/dev/null

# 4 hot products, 5 lots each at two locations, some dated, some not
q "
INSERT INTO inventory.organizations (code, name) VALUES ('soak', 'Soak');
INSERT INTO inventory.locations (org_id, code, name, priority)
SELECT org_id, v.code, v.code, v.priority FROM inventory.organizations,
       (VALUES ('L1', 10), ('L2', 20)) AS v(code, priority);
INSERT INTO inventory.products (org_id, sku, name)
SELECT org_id, 'HOT-' || i, 'Hot ' || i
FROM inventory.organizations, generate_series(1, 4) AS i;
SELECT count(inventory.receive(p.product_id,
           (SELECT location_id FROM inventory.locations
            WHERE code = CASE WHEN i % 2 = 0 THEN 'L1' ELSE 'L2' END),
           100000, 'soak-' || p.product_id || '-' || i,
           '2024-01-01'::timestamptz + i * interval '1 day',
           CASE WHEN i % 3 = 0 THEN NULL
                ELSE current_date + 30 + i END))
FROM inventory.products p, generate_series(1, 5) AS i;" >/dev/null
pmin=$(q "SELECT min(product_id) FROM inventory.products")
pmax=$(q "SELECT max(product_id) FROM inventory.products")

# one business transaction: allocate, then commit, release, receive or
# keep the reservation; then maybe settle an older reservation
cat >"$work/fifo.sql" <<'SQL'
\set p random(:pmin, :pmax)
\set p2 random(:pmin, :pmax)
\set qty random(1, 25)
\set act random(1, 10)
\set s random(1, 3)
BEGIN;
\if :act = 9
SELECT count(*) FROM inventory.allocate_lines('b-' || pg_current_xact_id(),
    jsonb_build_array(
        jsonb_build_object('product_id', :p, 'quantity', :qty),
        jsonb_build_object('product_id', :p2, 'quantity', :qty),
        jsonb_build_object('product_id', :p, 'quantity', 1.5)),
    (ARRAY['fifo', 'fefo', 'lifo'])[:s]);
\else
SELECT count(*) FROM inventory.allocate(:p, :qty, 'b-' || pg_current_xact_id(),
    (ARRAY['fifo', 'fefo', 'lifo'])[:s]);
\endif
\if :act <= 4
SELECT inventory.commit_allocation('b-' || pg_current_xact_id());
\elif :act <= 7
SELECT inventory.release_allocation('b-' || pg_current_xact_id());
\elif :act = 8
SELECT inventory.record_movement(lot_id, 'receipt', 60,
           'r-' || pg_current_xact_id())
FROM inventory.lots WHERE product_id = :p ORDER BY lot_id DESC LIMIT 1;
\endif
END;
-- now and then, settle someone else's older reservation (two clients may
-- pick the same one: the second waits, then finds nothing to do)
\set settle random(1, 10)
\if :settle <= 3
SELECT CASE WHEN :settle = 1
            THEN inventory.release_allocation(a.demand_ref)
            ELSE inventory.commit_allocation(a.demand_ref) END
FROM inventory.allocations a
WHERE a.status = 'reserved'
  AND a.allocation_id >= (SELECT (random() * max(allocation_id))::bigint
                          FROM inventory.allocations)
ORDER BY a.allocation_id LIMIT 1;
\endif
SQL

# a long lock_timeout: under this load waits are normal, errors are not
log_before=$(wc -l <"$INV_CLUSTER_DIR/server.log")
PGOPTIONS="-c inventory_ext.lock_timeout=30000 -c client_min_messages=warning" \
	"$pgbench" -n -c "$clients" -j 2 -T "$seconds" -D pmin="$pmin" \
	-D pmax="$pmax" -f "$work/fifo.sql" "$db" >"$work/fifo.out" 2>&1
rc=$?
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/fifo.out" | tail -1)
txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/fifo.out")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/fifo.out")

# pgbench's built-in TPC-B-like update transaction, same cluster
"$pgbench" -i -q -s "$clients" "$db" >"$work/init.out" 2>&1
"$pgbench" -c "$clients" -j 2 -T "$builtin_seconds" "$db" \
	>"$work/builtin.out" 2>&1
builtin_tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/builtin.out" | tail -1)

echo "# allocation soak: ${txns:-0} transactions, ${tps:-?} tps" \
	"($clients clients, $seconds s); built-in tpcb-like: ${builtin_tps:-?} tps" \
	"($clients clients, $builtin_seconds s)"

check "pgbench ran the allocation script without errors" \
	'[ "$rc" -eq 0 ] && [ "${failed:-0}" -eq 0 ] && [ "${txns:-0}" -gt 0 ]'
if [ "$rc" -ne 0 ]; then
	tail -20 "$work/fifo.out" | sed 's/^/# /'
fi
check "reservations, commits and releases all happened" \
	'[ "$(q "SELECT count(DISTINCT status) FROM inventory.allocations")" -eq 3 ]'
check "no lot allocated beyond its quantity" \
	'[ "$(q "SELECT count(*) FROM inventory.lots
	        WHERE qty_allocated > qty_on_hand OR qty_allocated < 0
	           OR qty_on_hand < 0")" -eq 0 ]'
check "lots.qty_allocated equals the reserved allocations of every lot" \
	'[ "$(q "SELECT count(*) FROM inventory.lots l
	        LEFT JOIN (SELECT lot_id, sum(quantity) AS q
	                   FROM inventory.allocations WHERE status = '\''reserved'\''
	                   GROUP BY lot_id) r USING (lot_id)
	        WHERE l.qty_allocated <> COALESCE(r.q, 0)")" -eq 0 ]'
check "every committed allocation is exactly one ledger shipment" \
	'[ "$(q "SELECT count(*) FROM inventory.allocations a
	        FULL JOIN (SELECT reference, lot_id, quantity
	                   FROM inventory.transactions
	                   WHERE reference LIKE '\''allocation:%'\'') t
	          ON t.reference = '\''allocation:'\'' || a.allocation_id
	        WHERE (a.status = '\''committed'\'' OR t.reference IS NOT NULL)
	          AND (a.allocation_id IS NULL OR t.reference IS NULL
	               OR t.lot_id <> a.lot_id OR t.quantity <> -a.quantity
	               OR a.status <> '\''committed'\'')")" -eq 0 ]'
check "on-hand of every lot equals the sum of its ledger rows" \
	'[ "$(q "SELECT count(*) FROM inventory.lots l
	        LEFT JOIN (SELECT lot_id, sum(quantity) AS q
	                   FROM inventory.transactions GROUP BY lot_id) t
	          USING (lot_id)
	        WHERE l.qty_on_hand <> COALESCE(t.q, 0)")" -eq 0 ]'
check "no lot was created by allocation" \
	'[ "$(q "SELECT count(*) FROM inventory.lots")" -eq 20 ]'
deadlocks=$(tail -n +"$((log_before + 1))" "$INV_CLUSTER_DIR/server.log" |
	grep -c "deadlock detected")
check "zero deadlocks in the server log ($deadlocks)" '[ "$deadlocks" -eq 0 ]'
timeouts=$(tail -n +"$((log_before + 1))" "$INV_CLUSTER_DIR/server.log" |
	grep -c "could not lock")
check "no lock timeouts in the server log ($timeouts)" '[ "$timeouts" -eq 0 ]'
check "pgbench's built-in transaction ran on the same cluster" \
	'[ -n "$builtin_tps" ]'

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
exit 0
