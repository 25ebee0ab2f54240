# bench/report.sh WORKDIR CSV: the table of medians and ratios from the
# measurements bench/run collected (rows.tsv, runs.tsv, notes.tsv in
# WORKDIR), on stdout and as CSV.  Environment: BENCH_CORES,
# BENCH_PGVERSION, BENCH_PARTMAN, MODE, SCALE, SEED, RUNS, LEDGER_ROWS,
# BENCH_SECONDS.
set -euo pipefail
W=$1
CSV=$2

# medians: ROW VARIANT MEDIAN N, from the runs sorted by value
sort -t "$(printf '\t')" -k1,1 -k2,2 -k4,4g "$W/runs.tsv" | awk -F '\t' '
	function flush() { if (n) { m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
		printf "%s\t%s\t%s\t%d\n", key1, key2, m, n } n = 0 }
	{ if ($1 != key1 || $2 != key2) { flush(); key1 = $1; key2 = $2 } v[++n] = $4 }
	END { flush() }' >"$W/medians.tsv"

awk -F '\t' -v csv="$CSV" -v cores="${BENCH_CORES:-}" -v pgv="${BENCH_PGVERSION:-}" \
	-v partman="${BENCH_PARTMAN:-}" -v mode="${MODE:-}" -v scale="${SCALE:-}" \
	-v seed="${SEED:-}" -v runs="${RUNS:-}" -v ledger="${LEDGER_ROWS:-}" \
	-v secs="${BENCH_SECONDS:-}" -v when="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
	function fmt(x) { return (x == "") ? "" : (x >= 100 ? sprintf("%.0f", x) : sprintf("%.2f", x)) }
	function q(s) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
	FILENAME == ARGV[1] { med[$1, $2] = $3; cnt[$1, $2] = $4; next }
	FILENAME == ARGV[2] { notes[$1] = (notes[$1] == "" ? "" : notes[$1] "; ") $2; next }
	{ ids[++nr] = $1; measure[$1] = $2; unit[$1] = $3; alab[$1] = $4;
	  olab[$1] = $5; flab[$1] = $6; better[$1] = $7 }
	END {
		print "row,measure,unit,better,anchor,anchor_median,ours,ours_median,ratio_ours_to_anchor,floor,floor_median,runs,note,cores,postgresql,pg_partman,mode,scale,seed,ledger_rows,date" > csv
		printf "inventory_ext bench: %s (scale %s, seed %s, %s ledger rows), %s runs per variant, medians\n", mode, scale, seed, ledger, runs
		printf "PostgreSQL %s, pg_partman %s, %s cores, %s, %s s\n\n", pgv, partman, cores, when, secs
		printf "%-4s %-56s %-6s %12s %12s %11s %10s %4s\n", "row", "measure", "unit", "anchor", "ours", "ours/anchor", "floor", "runs"
		for (i = 1; i <= nr; i++) {
			id = ids[i]
			a = med[id, "anchor"]; o = med[id, "ours"]; f = med[id, "floor"]
			# runs behind the medians: the fewer of anchor and ours
			n = cnt[id, "ours"] + 0; na = cnt[id, "anchor"] + 0
			if (n == 0 || (na > 0 && na < n)) n = na
			if (o == "" && notes[id] ~ /not landed/) { os = "not landed"; ratio = "" }
			else if (o == "") { os = "failed"; ratio = "" }
			else { os = fmt(o); ratio = (a != "" && a + 0 != 0) ? sprintf("%.3f", o / a) : "" }
			printf "%-4s %-56s %-6s %12s %12s %11s %10s %4s\n", id, substr(measure[id], 1, 56), unit[id],
				(a == "" ? "-" : fmt(a)), os, (ratio == "" ? "-" : ratio "x"), (f == "" ? "-" : fmt(f)), n
			printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", id, q(measure[id]),
				unit[id], better[id], q(alab[id]), a, q(olab[id]), (o == "" ? os : o), ratio,
				q(flab[id]), f, n, q(notes[id]), cores, q(pgv), partman, mode, scale, seed, ledger, when > csv
		}
		printf "\nanchor / ours / floor of each row (%s is better):\n", "lower unless marked ^"
		for (i = 1; i <= nr; i++) {
			id = ids[i]
			printf "  %-3s%s anchor: %s; ours: %s%s\n", id, (better[id] == "higher" ? "^" : " "),
				alab[id], olab[id], (flab[id] == "" ? "" : "; floor: " flab[id])
			if (notes[id] != "") printf "       note: %s\n", notes[id]
		}
		printf "\nwritten to %s\n", csv
	}' "$W/medians.tsv" "$W/notes.tsv" <(sort -t "$(printf '\t')" -k1,1V "$W/rows.tsv")
