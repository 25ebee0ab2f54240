#!/usr/bin/env bash
# bench/run end to end on a tiny data set in a cluster of its own: every
# row of issue 8 prints a number, or "not landed" for ours when its
# capability is not installed.  No timing is asserted: speed is what the
# bench reports, not what a test checks.
set -u
bindir=$("$PG_CONFIG" --bindir)
if [ ! -e "$("$PG_CONFIG" --sharedir)/extension/pg_partman.control" ] &&
	[ ! -e /usr/share/postgresql/15/extension/pg_partman.control ]; then
	echo "ok 1 # SKIP pg_partman (postgresql-15-partman) not installed"
	exit 0
fi
if [ ! -x "$bindir/pgbench" ]; then
	echo "ok 1 # SKIP pgbench not found in $bindir"
	exit 0
fi
res=$(mktemp -d /tmp/inventory_bench_test.XXXXXX)
trap 'rm -rf "$res"' EXIT
out=$(env -u PGHOST -u PGPORT -u PGDATABASE BENCH_RESULTS="$res" \
	BENCH_SCALE=0.002 BENCH_DURATION=1 BENCH_CLIENTS=4 \
	"$INV_TOP/bench/run" --quick --seed 3 2>&1)
rc=$?
csv=$res/latest.csv
n=0
bad=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; bad=1; fi
}
line() { grep -E "^$1 " <<<"$out"; }

check "bench/run exits 0" '[ $rc -eq 0 ]'
check "writes the CSV" '[ -s "$csv" ]'
check "the CSV carries cores and PostgreSQL version" \
	'head -1 "$csv" | grep -q "cores,postgresql" && grep -q "PostgreSQL 15\." <<<"$out"'
for row in 1 2a 2b 3a 3b 4 5a 5b 6 7a 7b 8; do
	# row, measure, unit, anchor, ours, ratio, floor, runs
	check "row $row: ours is a number, or not landed" \
		"line $row | grep -qE ' ([0-9.]+ +[0-9.]+x|not landed +-) +([0-9.]+|-) +[0-9]+\$'"
	check "row $row: a number from at least 3 runs, or not landed" \
		"line $row | grep -qE '(not landed.* [0-9]+|[0-9.]+x +([0-9.]+|-) +([3-9]|[1-9][0-9]+))\$'"
done
check "no row failed" '! grep -qE "(^| )failed( |$)" <<<"$out"'
if [ $rc -ne 0 ] || [ $bad -ne 0 ]; then
	grep -vE '^  row ' <<<"$out" | tail -45 | sed 's/^/# /'
fi
