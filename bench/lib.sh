# bench/lib.sh: helpers of bench/run and its rows.  Source it; it sources
# bin/common.sh (inv_need_packages, inv_build, inv_with_cluster).
# shellcheck source=bin/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../bin/common.sh"
BENCH_DIR=$INV_TOP/bench
# pg_partman for rows 1 and 2.  pgbench ships in postgresql-15 on Debian
# 12 (postgresql-contrib-15 is only a virtual name for it there), which
# inv_build installs; bench/run checks that the binary is there.
BENCH_PACKAGES="postgresql-15 postgresql-15-partman"

# bench_need_partman: pg_partman must be in the installation PG_CONFIG
# names.  Debian's package installs it into Debian's PostgreSQL; when
# PG_CONFIG points at another root (a copy of it), copy its files there.
bench_need_partman() {
	local share lib deb=/usr/share/postgresql/15/extension
	share=$("$PG_CONFIG" --sharedir)/extension
	lib=$("$PG_CONFIG" --pkglibdir)
	[ -e "$share/pg_partman.control" ] && return 0
	if [ ! -e "$deb/pg_partman.control" ]; then
		echo "pg_partman is not installed (package postgresql-15-partman)" >&2
		return 1
	fi
	cp "$deb"/pg_partman.control "$deb"/pg_partman--*.sql "$share"/
	cp /usr/lib/postgresql/15/lib/pg_partman_bgw.so "$lib"/ 2>/dev/null || true
}

# q DB SQL...: run SQL in DB, print unaligned tuples only
q() {
	local db=$1; shift
	psql -qAtX -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# sq TEXT: TEXT as a dollar-quoted SQL literal
sq() { printf '$bq$%s$bq$' "$1"; }

# ms DB SQL: wall time of SQL measured inside the server, in ms
ms() { q "$1" -c "SELECT round(bench.elapsed_ms($(sq "$2"))::numeric, 3)"; }

# landed DB NAME...: true when every named inventory function exists
landed() {
	local db=$1 n; shift
	for n in "$@"; do
		[ "$(q "$db" -c "SELECT bench.landed('$n')")" = t ] || return 1
	done
}

# Results: one line per measurement, one per row description, and one per
# status note, read back by bench/report.sql.
# describe ROW "measure" unit "anchor" "ours" ["floor" [lower|higher]]
# (the last: which way is better, lower by default)
describe() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" \
		"${7:-lower}" >>"$BENCH_WORK/rows.tsv"
}
# rec ROW VARIANT RUN VALUE   (VARIANT: anchor, ours or floor)
rec() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_WORK/runs.tsv"
	printf '  row %-3s %-6s run %s: %s\n' "$1" "$2" "$3" "$4" >&2
}
# note ROW TEXT: shown in the table's note column
note() {
	printf '%s\t%s\n' "$1" "$2" >>"$BENCH_WORK/notes.tsv"
}

# p99 FILE...: 99th percentile of pgbench per-transaction logs, in ms
# (third field: latency in microseconds)
p99() {
	cat "$@" | awk '{print $3}' | sort -n |
		awk '{v[NR]=$1} END {if (NR == 0) {print "NaN"; exit}
			i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1;
			printf "%.3f\n", v[i] / 1000}'
}

# bench_pgbench TAG DB ARGS...: runs pgbench with per-transaction logs,
# prints "tps p99_ms"; returns non-zero (pgbench's tail on stderr) when
# pgbench failed or some transactions failed
bench_pgbench() {
	local tag=$1 db=$2 dir out rc tps failed; shift 2
	dir=$BENCH_WORK/pgbench.$tag
	rm -rf "$dir"; mkdir -p "$dir"
	rc=0
	out=$(cd "$dir" && pgbench -n -l --log-prefix="$dir/log" "$@" "$db" 2>&1) || rc=$?
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
	failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
	if [ $rc -ne 0 ] || [ -z "$tps" ] || [ "${failed:-0}" != 0 ]; then
		{ echo "$out" | grep -iE 'error|abort' | sort | uniq -c | sort -rn | head -5
		  echo "$out" | tail -3; } >&2
		return 1
	fi
	echo "$tps $(p99 "$dir"/log*)"
}
