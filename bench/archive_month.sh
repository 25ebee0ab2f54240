#!/usr/bin/env bash
# Bench: archiving a whole month of the ledger is metadata, so it takes the
# same time whatever the month holds; moving rows in batches does not.
# For each size, a month of that many ledger rows (with the ledger's
# indexes) is made a partition of inventory.transactions, then archived
# with archive_partition (default: row count estimated) and, for
# comparison, with the exact count; last, 100 000 rows of the largest
# month are restored and moved back in batches.
#
#   bench/archive_month.sh [ROWS...]     default: 10000 1000000 10000000
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cd "$INV_TOP"
[ $# -gt 0 ] || set -- 10000 1000000 10000000
inv_build

bench() {
	local psql=(psql -qX -v ON_ERROR_STOP=1 -P pager=off) i=0 n month
	"${psql[@]}" -c "CREATE EXTENSION inventory_ext" \
		-c "SELECT inventory.register_partitioned_table('inventory.transactions', 'created_at', 'UTC', 0)" >/dev/null
	for n in "$@"; do
		month=$(printf '2020-%02d-01' $((i + 1)))
		echo "== month $month: $n rows"
		"${psql[@]}" <<SQL
SET TimeZone = 'UTC';
CREATE TABLE inventory.bench_$i
    (LIKE inventory.transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO inventory.bench_$i
    (txn_id, created_at, org_id, product_id, location_id, lot_id, txn_type,
     quantity, reference)
SELECT 1000000000::bigint * $i + g,
       '$month'::timestamptz + (g % 2419200) * interval '1 second',
       1, 1 + g % 4000, 1 + g % 20, 1 + g % 50000, 'shipment', -1 - g % 5,
       'B$i-' || g
FROM generate_series(1, $n) g;
-- the attach builds the ledger's indexes on the month
ALTER TABLE inventory.transactions ATTACH PARTITION inventory.bench_$i
    FOR VALUES FROM ('$month') TO ('$month'::timestamptz + interval '1 month');
VACUUM ANALYZE inventory.bench_$i;
SELECT pg_size_pretty(pg_total_relation_size('inventory.bench_$i')) AS size;
\timing on
SELECT inventory.archive_partition('inventory.bench_$i') AS rows_estimated;
SELECT inventory.restore_month('inventory.transactions', '$month');
SELECT inventory.archive_partition('inventory.bench_$i', true) AS rows_counted;
\timing off
SQL
		i=$((i + 1))
	done
	month=$(printf '2020-%02d-01' "$i")
	echo "== 100000 rows of month $month moved in batches of 10000"
	"${psql[@]}" <<SQL
SET TimeZone = 'UTC';
SELECT inventory.restore_month('inventory.transactions', '$month') AS restored;
-- rows are spread over the month's first 28 days, second by second
SELECT '$month'::timestamptz + interval '1 second' *
       CASE WHEN $n < 2419200 THEN LEAST(100001, $n + 1)
            ELSE ceil(100000.0 * 2419200 / $n) END AS cut \gset
\timing on
SELECT inventory.archive_before('inventory.transactions', :'cut', 10000,
                                p_now => now()) AS rows_batched;
\timing off
SQL
	"${psql[@]}" -c "SELECT action, relation, rows_moved, rows_exact, size,
	    round(extract(epoch FROM duration) * 1000, 1) AS ms
	    FROM inventory.archive_history ORDER BY run_id"
}

inv_with_cluster bench "$@"
