#!/usr/bin/env bash
# Remote archive on a second server: two throwaway clusters, the primary
# (ledger) and the archive server, on loopback ports.  A month moves to the
# archive server through postgres_fdw, verified there by count and
# checksum before it is removed locally; a remote copy that does not match
# (a remote trigger changes a row, or the remote month already holds other
# rows) is refused and nothing is removed; a remote copy left by a run
# that died between the remote and the local commit is recognised and the
# rerun completes.  Restoring from the archive server takes two calls:
# copy back and verify, then delete the remote copy.  postgres_fdw ships with Debian's postgresql-15.
set -u
. "$INV_TOP/bin/common.sh"

# the archive server: runs remote_suite with its address in ARCH_*
archive_server() {
	export ARCH_HOST=127.0.0.1 ARCH_PORT=$PGPORT ARCH_SOCK=$PGHOST
	export PGHOST=$PRIMARY_HOST PGPORT=$PRIMARY_PORT
	remote_suite
}

remote_suite() {
	local db=remotetest n=0 jan feb stock
	q() { psql -qtAX -d "$db" -v ON_ERROR_STOP=1 -c "$1"; }
	qa() { PGHOST=$ARCH_SOCK PGPORT=$ARCH_PORT psql -qtAX -d archive -v ON_ERROR_STOP=1 -c "$1"; }
	check() {
		n=$((n + 1))
		if [ "$2" = "$3" ]; then
			echo "ok $n - $1"
		else
			echo "not ok $n - $1"
			echo "#   got:      $2"
			echo "#   expected: $3"
		fi
	}
	# count and checksum of one month, the same expression on both servers
	month_sql() {
		echo "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD';
		SELECT count(*) || ' ' || COALESCE(sum(hashtextextended(ROW(t.txn_id,
		    t.created_at, t.org_id, t.product_id, t.location_id, t.lot_id,
		    t.txn_type, t.quantity, t.unit_cost, t.reference, t.demand_ref,
		    t.note)::text, 0)), 0)
		FROM $1 t WHERE t.created_at >= '$2' AND t.created_at < '$2'::timestamptz + interval '1 month'"
	}

	PGHOST=$ARCH_SOCK PGPORT=$ARCH_PORT psql -qX -c "CREATE DATABASE archive" >/dev/null
	qa "
	CREATE SCHEMA archive;
	CREATE TABLE archive.transactions (
	    txn_id bigint NOT NULL, created_at timestamptz NOT NULL,
	    org_id bigint NOT NULL, product_id bigint NOT NULL,
	    location_id bigint NOT NULL, lot_id bigint NOT NULL,
	    txn_type text NOT NULL, quantity numeric(18,4) NOT NULL,
	    unit_cost numeric(18,4), reference text NOT NULL,
	    demand_ref text, note text,
	    PRIMARY KEY (txn_id, created_at));
	CREATE FUNCTION archive.tamper() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN
	    NEW.note := 'changed on the way';
	    RETURN NEW;
	END \$\$;" >/dev/null

	psql -qX -c "CREATE DATABASE $db" >/dev/null
	q "CREATE EXTENSION inventory_ext" >/dev/null
	q "CREATE EXTENSION postgres_fdw" >/dev/null
	q "CREATE SERVER archive_server FOREIGN DATA WRAPPER postgres_fdw
	   OPTIONS (host '$ARCH_HOST', port '$ARCH_PORT', dbname 'archive');
	   CREATE USER MAPPING FOR CURRENT_USER SERVER archive_server
	   OPTIONS (user 'postgres');" >/dev/null
	psql -qX -d "$db" -v ON_ERROR_STOP=1 \
		-f "$INV_TOP/test/shell/archive_ledger.sql" >/dev/null
	q "
	SET TimeZone = 'UTC';
	SELECT inventory.receive(p.product_id, l.location_id, 1000000, 'PO-0',
	                         '2024-01-01 00:05+00', p_unit_cost => 1.25)
	FROM inventory.products p, inventory.locations l;
	SELECT count(inventory.record_movement(1, 'shipment', 1 + g % 3, 'M-' || g,
	           '2024-01-01 00:10+00'::timestamptz + g * interval '37 minutes',
	           p_note => CASE WHEN g % 7 = 0 THEN 'note ' || g END))
	FROM generate_series(0, 3400) g;" >/dev/null

	jan=$(q "$(month_sql inventory.transactions 2024-01-01)")
	feb=$(q "$(month_sql inventory.transactions 2024-02-01)")
	stock=$(q "SELECT qty_on_hand FROM inventory.lots")
	echo "# January on the primary: $jan"

	# a whole month to the archive server
	check "archive_partition_remote returns January's rows" \
		"$(q "SELECT inventory.archive_partition_remote('inventory.transactions_p202401', 'archive_server', 'archive.transactions')" 2>/dev/null)" \
		"${jan%% *}"
	check "January on the archive server: same count and checksum" \
		"$(qa "$(month_sql archive.transactions 2024-01-01)")" "$jan"
	check "January left the primary" \
		"$(q "SELECT count(*) FROM inventory.transactions WHERE created_at < '2024-02-01' AND created_at >= '2024-01-01'"), $(q "SELECT to_regclass('inventory.transactions_p202401') IS NULL")" \
		"0, t"
	check "no foreign table left behind" \
		"$(q "SELECT count(*) FROM pg_foreign_table")" "0"
	check "the run is recorded" \
		"$(q "SELECT action || ' ' || relation || ' ' || rows_moved || ' ' || outcome FROM inventory.archive_history")" \
		"remote inventory.transactions_p202401 ${jan%% *} ok"

	# a remote copy that does not match: nothing is removed
	qa "CREATE TRIGGER tamper BEFORE INSERT ON archive.transactions
	    FOR EACH ROW EXECUTE FUNCTION archive.tamper()" >/dev/null
	check "a changed remote copy is refused with XX001" \
		"$(q "SELECT inventory.archive_partition_remote('inventory.transactions_p202402', 'archive_server', 'archive.transactions')" 2>&1 | grep -o 'ERROR: .*does not match; nothing was removed')" \
		'ERROR:  remote copy of "inventory.transactions_p202402" does not match; nothing was removed'
	check "February is still on the primary, unchanged" \
		"$(q "$(month_sql inventory.transactions 2024-02-01)")" "$feb"
	check "the archive server holds nothing of February" \
		"$(qa "SELECT count(*) FROM archive.transactions WHERE created_at >= '2024-02-01'")" "0"
	qa "DROP TRIGGER tamper ON archive.transactions" >/dev/null

	# the remote month already holds other rows: refused
	qa "INSERT INTO archive.transactions VALUES (999999, '2024-02-15 00:00+00',
	    1, 1, 1, 1, 'receipt', 1, NULL, 'STRAY', NULL, NULL)" >/dev/null
	check "other rows in the remote month are refused" \
		"$(q "SELECT inventory.archive_partition_remote('inventory.transactions_p202402', 'archive_server', 'archive.transactions')" 2>&1 | grep -o 'already holds other rows')" \
		"already holds other rows"
	check "February is still on the primary after the refusal" \
		"$(q "$(month_sql inventory.transactions 2024-02-01)")" "$feb"
	qa "DELETE FROM archive.transactions WHERE reference = 'STRAY'" >/dev/null

	# a run that died after the remote commit: the copy is there already
	q "CREATE FOREIGN TABLE public.remote_archive (
	       txn_id bigint, created_at timestamptz, org_id bigint,
	       product_id bigint, location_id bigint, lot_id bigint,
	       txn_type text, quantity numeric(18,4), unit_cost numeric(18,4),
	       reference text, demand_ref text, note text)
	   SERVER archive_server
	   OPTIONS (schema_name 'archive', table_name 'transactions');
	   INSERT INTO public.remote_archive SELECT * FROM inventory.transactions_p202402;
	   DROP FOREIGN TABLE public.remote_archive;" >/dev/null
	check "a rerun finds the identical remote copy and completes" \
		"$(q "SELECT inventory.archive_partition_remote('inventory.transactions_p202402', 'archive_server', 'archive.transactions')" 2>&1 | grep -o 'already copied by an earlier run')" \
		"already copied by an earlier run"
	check "February on the archive server: once, same count and checksum" \
		"$(qa "$(month_sql archive.transactions 2024-02-01)")" "$feb"
	check "February left the primary" \
		"$(q "SELECT count(*) FROM inventory.transactions WHERE created_at < '2024-03-01'")" "0"
	check "every row exists once: primary plus archive server" \
		"$(( $(q "SELECT count(*) FROM inventory.transactions") + $(qa "SELECT count(*) FROM archive.transactions") ))" \
		"3402"
	check "stock is unchanged by remote archival" \
		"$(q "SELECT qty_on_hand FROM inventory.lots")" "$stock"

	# restore from the archive server, in two calls
	check "restore_month_remote copies January back" \
		"$(q "SELECT inventory.restore_month_remote('inventory.transactions', '2024-01-01', 'archive_server', 'archive.transactions')" 2>/dev/null)" \
		"${jan%% *}"
	check "January is hot again: same count and checksum" \
		"$(q "$(month_sql inventory.transactions 2024-01-01)")" "$jan"
	check "the first call keeps the remote copy" \
		"$(qa "$(month_sql archive.transactions 2024-01-01)")" "$jan"
	check "the second call deletes the remote copy" \
		"$(q "SELECT inventory.restore_month_remote('inventory.transactions', '2024-01-01', 'archive_server', 'archive.transactions')" 2>/dev/null), $(qa "SELECT count(*) FROM archive.transactions WHERE created_at < '2024-02-01'")" \
		"-${jan%% *}, 0"
	check "January restored into a partition of the ledger" \
		"$(q "SELECT count(*) FROM inventory.list_partition_ranges('inventory.transactions') WHERE lower_at = '2024-01-01 00:00+00'")" "1"
	q "SELECT inventory.restore_month_remote('inventory.transactions', '2024-02-01', 'archive_server', 'archive.transactions')" >/dev/null 2>&1
	qa "INSERT INTO archive.transactions VALUES (999998, '2024-02-16 00:00+00',
	    1, 1, 1, 1, 'receipt', 1, NULL, 'STRAY-2', NULL, NULL)" >/dev/null
	check "a remote copy that differs from the restored month is not deleted" \
		"$(q "SELECT inventory.restore_month_remote('inventory.transactions', '2024-02-01', 'archive_server', 'archive.transactions')" 2>&1 | grep -o 'differ between')" \
		"differ between"
	qa "DELETE FROM archive.transactions WHERE reference = 'STRAY-2'" >/dev/null
	q "SELECT inventory.restore_month_remote('inventory.transactions', '2024-02-01', 'archive_server', 'archive.transactions')" >/dev/null 2>&1
	check "after restoring both months: all rows hot, none remote, stock unchanged" \
		"$(q "SELECT count(*) FROM inventory.transactions"), $(qa "SELECT count(*) FROM archive.transactions"), $(q "SELECT qty_on_hand FROM inventory.lots")" \
		"3402, 0, $stock"
	check "restored months are the same rows" \
		"$(q "$(month_sql inventory.transactions 2024-01-01)"), $(q "$(month_sql inventory.transactions 2024-02-01)")" \
		"$jan, $feb"
}

primary() {
	export PRIMARY_HOST=$PGHOST PRIMARY_PORT=$PGPORT
	INV_PGCONF="listen_addresses = '127.0.0.1'" inv_with_cluster archive_server
}

inv_with_cluster primary
