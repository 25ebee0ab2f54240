# bench/rows_partitions.sh: rows 1 and 2 (partition creation and idle
# maintenance), in their own database bench_part where pg_partman and
# inventory_ext sit side by side.  Sourced by bench/run.

PDB=bench_part

# part_parent NAME: an empty parent of the ledger's shape with the
# ledger's four indexes (primary key, product, lot, partial demand)
part_parent() { q $PDB -c "$(part_parent_sql "$1")"; }
part_parent_sql() {
	echo "
CREATE TABLE $1 (LIKE inventory.transactions INCLUDING DEFAULTS
                 INCLUDING IDENTITY INCLUDING CONSTRAINTS,
                 PRIMARY KEY (txn_id, created_at))
    PARTITION BY RANGE (created_at);
CREATE INDEX ON $1 (product_id, location_id, created_at);
CREATE INDEX ON $1 (lot_id);
CREATE INDEX ON $1 (demand_ref) WHERE demand_ref IS NOT NULL;"
}

# part_count NAME: partitions of NAME (pg_partman's default one excluded)
part_count() {
	q $PDB -c "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = '$1'::regclass
		AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'"
}

# partman_create NAME START PREMAKE: pg_partman's create_parent, v4 or v5
partman_create_sql() {
	[ -n "${PARTMAN_MAJOR:-}" ] || PARTMAN_MAJOR=$(q $PDB -c "SELECT split_part(extversion, '.', 1) FROM pg_extension WHERE extname = 'pg_partman'")
	if [ "$PARTMAN_MAJOR" -ge 5 ]; then
		echo "SELECT partman.create_parent(p_parent_table := '$1', p_control := 'created_at', p_interval := '1 month', p_premake := $3, p_start_partition := '$2')"
	else
		echo "SELECT partman.create_parent(p_parent_table := '$1', p_control := 'created_at', p_type := 'native', p_interval := 'monthly', p_premake := $3, p_start_partition := '$2', p_jobmon := false)"
	fi
}

ours_create_sql() {
	echo "SELECT inventory.register_partitioned_table('$1'::regclass, 'created_at', 'UTC', $3);
	      SELECT inventory.create_partitions('$1'::regclass, date '$2', (date '$2' + interval '$4 months')::date)"
}

part_drop() {
	if landed $PDB unregister_partitioned_table; then
		q $PDB -c "SELECT inventory.unregister_partitioned_table('$1'::regclass)
			WHERE EXISTS (SELECT 1 FROM inventory.partition_policies
			              WHERE parent = '$1'::regclass)" >/dev/null 2>&1 || true
	fi
	q $PDB -c "DROP TABLE IF EXISTS $1 CASCADE;
		DELETE FROM partman.part_config WHERE parent_table = '$1';" \
		-c "DO \$\$ DECLARE t regclass; BEGIN
		    FOR t IN SELECT c.oid::regclass FROM pg_class c
		        JOIN pg_namespace n ON n.oid = c.relnamespace
		        WHERE n.nspname = 'partman' AND c.relname LIKE 'template_%'
		    LOOP EXECUTE format('DROP TABLE %s', t); END LOOP; END \$\$" >/dev/null
}

bench_part_setup() {
	q postgres -c "CREATE DATABASE $PDB" >/dev/null
	q $PDB -c "CREATE EXTENSION inventory_ext; CREATE SCHEMA partman;
		CREATE EXTENSION pg_partman SCHEMA partman;
		CREATE SCHEMA bench1; CREATE SCHEMA bench2;" -f "$BENCH_DIR/helpers.sql" >/dev/null
	[ -z "${BENCH_EXTRA_SQL:-}" ] || q $PDB -f "$BENCH_EXTRA_SQL" >/dev/null
}

# Row 1: 36 monthly partitions.  pg_partman makes the months from its
# start partition to premake ahead of now (32 back + this one + 3 ahead =
# 36); ours and the floor make the same 36 months.
row1() {
	local start r v t sql ms n ours=1 order
	bench_part_setup
	describe 1 "create 36 monthly partitions, 4 indexes" ms \
		"pg_partman create_parent" "register + create_partitions" "CREATE TABLE PARTITION OF"
	landed $PDB register_partitioned_table create_partitions || {
		ours=0; note 1 "ours not landed (register_partitioned_table, create_partitions)"; }
	start=$(q $PDB -c "SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '32 months')::date")
	for r in $(seq 1 "$RUNS"); do
		# alternate, and swap who goes first on every run
		if [ $((r % 2)) -eq 1 ]; then order="anchor ours floor"; else order="floor ours anchor"; fi
		for v in $order; do
			[ $v = ours ] && [ $ours = 0 ] && continue
			t=bench1.t_${v}_$r
			part_parent $t
			case $v in
			anchor) sql=$(partman_create_sql $t "$start" 3) ;;
			ours) sql=$(ours_create_sql $t "$start" 3 35) ;;
			floor) sql=$(q $PDB -c "SELECT string_agg(format(
				'CREATE TABLE %s PARTITION OF $t FOR VALUES FROM (%L) TO (%L)',
				'${t}_p' || to_char(m, 'YYYYMM'), m AT TIME ZONE 'UTC',
				(m + interval '1 month') AT TIME ZONE 'UTC'), '; ')
				FROM generate_series(timestamp '$start', timestamp '$start' + interval '35 months',
				                     interval '1 month') m") ;;
			esac
			if ms=$(ms $PDB "$sql"); then
				rec 1 $v "$r" "$ms"
				n=$(part_count $t)
				[ "$n" = 36 ] || note 1 "$v made $n partitions, not 36"
			else
				note 1 "$v failed: see the log"
			fi
			part_drop $t
		done
	done
}

# Row 2: maintenance with nothing to do, over 1 and 100 tables, each
# with 4 monthly partitions (this month and 3 ahead) already there.
row2() {
	local i r v t ours=1 start sql ms row
	describe 2a "maintenance, nothing to do, 1 table" ms \
		"pg_partman run_maintenance" "run_maintenance"
	describe 2b "maintenance, nothing to do, 100 tables" ms \
		"pg_partman run_maintenance" "run_maintenance"
	landed $PDB register_partitioned_table create_partitions run_maintenance || {
		ours=0; note 2a "ours not landed (run_maintenance)"; note 2b "ours not landed (run_maintenance)"; }
	start=$(q $PDB -c "SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date")
	# table 1 of each, then 2a; then the other 99 in one session, then 2b
	row2_tables 1 1 >"$BENCH_WORK/row2.sql"
	q $PDB -f "$BENCH_WORK/row2.sql" >/dev/null
	row2_measure 2a
	row2_tables 2 100 >"$BENCH_WORK/row2.sql"
	q $PDB -f "$BENCH_WORK/row2.sql" >/dev/null
	row2_measure 2b
}

# row2_tables FROM TO: the SQL that makes tables FROM..TO, pg_partman's
# bench2.a_NNN and (when landed) ours bench2.o_NNN, each with 4 months
row2_tables() {
	local i t
	for i in $(seq "$1" "$2"); do
		t=$(printf 'bench2.a_%03d' "$i")
		part_parent_sql $t
		echo "$(partman_create_sql $t "$start" 3);"
		if [ $ours = 1 ]; then
			t=$(printf 'bench2.o_%03d' "$i")
			part_parent_sql $t
			echo "$(ours_create_sql $t "$start" 3 3);"
		fi
	done
}

row2_measure() {
	local row=$1 r v sql ms
	# a first untimed run of each, so the timed ones find nothing to do
	q $PDB -c "SELECT partman.run_maintenance(p_jobmon := false)" >/dev/null
	[ $ours = 1 ] && q $PDB -c "SELECT count(*) FROM inventory.run_maintenance()" >/dev/null
	for r in $(seq 1 "$RUNS"); do
		for v in $( [ $((r % 2)) -eq 1 ] && echo anchor ours || echo ours anchor); do
			[ $v = ours ] && [ $ours = 0 ] && continue
			if [ $v = anchor ]; then
				sql="SELECT partman.run_maintenance(p_jobmon := false)"
			else
				sql="SELECT count(*) FROM inventory.run_maintenance()"
			fi
			if ms=$(ms $PDB "$sql"); then rec $row $v "$r" "$ms"; else note $row "$v failed"; fi
		done
	done
}
