#!/usr/bin/env bash
# The main job end to end: bin/demo on the real December 2010 file, in a
# cluster of its own, must succeed and print the figures of every step.
set -u
data="$INV_TOP/../shared/data/online_retail_uci_2010-12.csv"
if [ ! -r "$data" ]; then
	echo "ok 1 # SKIP real data not found at $data"
	exit 0
fi

out=$(env -u PGHOST -u PGPORT -u PGDATABASE "$INV_TOP/bin/demo" "$data" 2>&1)
rc=$?
n=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
has() { grep -qE -- "$1" <<<"$out"; }

check "bin/demo exits 0" '[ $rc -eq 0 ]'
check "December 2010 staged, as of the day after it ends" \
	'has "rows staged: 42481, as of: 2010-12-24"'
check "every row loaded, none rejected" \
	'has "^ +42481 \| +42481 \| +0 \| +0 \| +2762 \| +24 \| +4510"'
check "no lot below zero" 'has "^ +4510 \| +[0-9.]+ \| +0$"'
check "reorder: 85123A over 2010-12-01..23 per line, trading day, calendar day" \
	'has "^ 85123A \| 2010-12-01 \| 2010-12-23 \| +235 \| +20 \| +16\.5 \| +193\.6 \| +168\.3$"'
check "reorder: analyze_reorder reports the calendar-day figure" \
	'has "^ 85123A \| +[0-9.]+ \| +168\.3 \|"'
check "summary: view and incremental summary agree on all 2762 products" \
	'has "^ +2762 \| +0$"'
check "schedule: four jobs scheduled, then removed" \
	'has "^ inventory_ext:rollup_check \| 30 3 \* \* \* +\| t +\|" && has "^ +jobs_removed $"'
check "no step failed" '! has "(ERROR|FATAL):"'
for step in "$INV_TOP"/demo/[0-9][0-9]_*.sql; do
	title=$(grep -m1 -oE "^\\\\echo '== .* =='" "$step" | sed "s/^\\\\echo '//; s/'$//")
	[ -n "$title" ] || continue
	check "step $(basename "$step") printed its report" "has \"^$title\$\""
done
if [ $rc -ne 0 ]; then
	echo "$out" | tail -40 | sed 's/^/# /'
fi
