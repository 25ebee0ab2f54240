# Shared by bin/test, bin/demo and bench/run: install what is missing,
# build, and run a command against a throwaway cluster.  Source it.

INV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# postgresql-15-partman: the anchor of bench rows 1 and 2.  pgbench comes
# with postgresql-15 (on Debian 12 postgresql-contrib-15 is a virtual
# package it provides; dpkg-query never reports a virtual name installed,
# so listing it would run apt-get on every call).
INV_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron
postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl make gcc
postgresql-15-partman"

# inv_need_packages PKG...: apt-get install whatever is not installed yet
inv_need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# quiet unless it fails (debconf chatters on stderr)
	local log
	log=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } \
		>"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		return 1
	fi
	rm -f "$log"
}

# PG_CONFIG may point at another installation; the default is Debian's 15.
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

inv_build() {
	# shellcheck disable=SC2086
	inv_need_packages $INV_PACKAGES
	make -C "$INV_TOP" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	make -C "$INV_TOP" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# inv_with_cluster CMD...: start a throwaway cluster with pg_cron
# preloaded (cron.database_name = inventory_cron, created up front), run
# CMD with PGHOST/PGPORT/PGUSER set, then stop the cluster and delete it.
# Extra postgresql.conf lines may be given in INV_PGCONF.
inv_with_cluster() {
	local bindir dir port rc
	bindir=$("$PG_CONFIG" --bindir)
	dir=$(mktemp -d /tmp/inventory_ext.XXXXXX)
	chmod 755 "$dir"
	port=$(( 20000 + RANDOM % 20000 ))
	local as=()
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		as=(runuser -u postgres --)
	fi
	"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
		--no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2; rm -rf "$dir"; return 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
fsync = off
max_connections = 60
max_locks_per_transaction = 256
shared_buffers = 512MB
max_wal_size = 4GB
timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
cron.database_name = 'inventory_cron'
${INV_PGCONF:-}
CONF
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		start >/dev/null || { cat "$dir/server.log" >&2; rm -rf "$dir"; return 1; }
	"$bindir/psql" -qX -c "CREATE DATABASE inventory_cron" >/dev/null
	# pg_cron's launcher connects to inventory_cron, so preload it only now
	echo "shared_preload_libraries = 'pg_cron'" >>"$dir/data/postgresql.conf"
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		restart >/dev/null || { cat "$dir/server.log" >&2; rm -rf "$dir"; return 1; }
	export INV_CLUSTER_DIR=$dir INV_BINDIR=$bindir INV_TOP PG_CONFIG
	export PATH="$bindir:$PATH"
	rc=0
	"$@" || rc=$?
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
	if [ -n "${INV_KEEP_LOG:-}" ]; then
		cp "$dir/server.log" "$INV_KEEP_LOG" 2>/dev/null
	fi
	rm -rf "$dir"
	return $rc
}
