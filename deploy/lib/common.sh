# shellcheck shell=bash disable=SC2034
# Shared helpers for deploy/run-local, deploy/run-cluster and tests/bench/http.
# Sourced, never executed. Everything here runs as root on Debian 12.
#
# PostgreSQL refuses to run as root, so the clusters these scripts create are
# owned by the `postgres` system user and every server-side command goes
# through `runuser -u postgres --`. The cluster listens on a unix socket only
# (listen_addresses = ''), in a directory that only postgres (and root) can open.

: "${SLOTD_PGBIN:=${SLOTD_TEST_PGBIN:-/usr/lib/postgresql/15/bin}}"

slotd__log() { printf '%s: %s\n' "${SLOTD__PROG:-${0##*/}}" "$*" >&2; }
slotd__die() { slotd__log "error: $*"; exit 1; }

# slotd_need_pkgs PKG...: install the Debian packages that are missing.
# apt-get update runs only when something has to be installed.
slotd_need_pkgs() {
	local missing=() p
	for p in "$@"; do
		if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]]; then
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	[[ $EUID -eq 0 ]] || slotd__die "missing packages (${missing[*]}); run as root to install them"
	slotd__log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Packages needed to build slotd and to run a PostgreSQL 15 next to it.
# (Debian 12 ships btree_gist and citext inside postgresql-15 itself; there is
# no postgresql-contrib-15 package there.)
SLOTD_BUILD_PKGS=(meson ninja-build pkg-config gcc libc6-dev libuv1-dev node-llhttp libpq-dev
	libmbedtls-dev libjansson-dev libargon2-dev libical-dev)
SLOTD_PG_PKGS=(postgresql-15 postgresql-client-15)

# slotd_release_bin ROOT: make the release build (unless $SLOTD_BIN names a
# binary) and set SLOTD_BIN to the binary's absolute path.
slotd_release_bin() {
	local root=$1
	if [[ -n "${SLOTD_BIN:-}" ]]; then
		[[ -x "$SLOTD_BIN" ]] || slotd__die "SLOTD_BIN=$SLOTD_BIN is not an executable"
		SLOTD_BIN=$(readlink -f "$SLOTD_BIN")
		return 0
	fi
	local bdir=${SLOTD_BUILD_DIR:-$root/build/release}
	[[ -f "$root/meson.build" ]] || slotd__die "$root/meson.build not found"
	if [[ ! -f "$bdir/build.ninja" ]]; then
		slotd__log "configuring release build in $bdir"
		local wipe=()
		# a half-configured directory (an earlier setup failed) needs --wipe
		[[ -f "$bdir/meson-private/coredata.dat" ]] && wipe=(--wipe)
		(cd "$root" && meson setup "${wipe[@]}" "$bdir" -Dbuildtype=release) >&2
	fi
	slotd__log "building $bdir"
	meson compile -C "$bdir" >&2
	SLOTD_BIN=$bdir/slotd
	[[ -x "$SLOTD_BIN" ]] || slotd__die "build produced no $SLOTD_BIN"
}

# slotd__traversable DIR: make sure user postgres can reach DIR (search
# permission on every ancestor). The repo may live under /root (mode 700):
# there we grant postgres search-only access with an ACL (package acl), or
# o+x when ACLs are not supported by the file system.
slotd__traversable() {
	local dir=$1 d path="" parts
	runuser -u postgres -- test -x "$dir" && return 0
	IFS=/ read -r -a parts <<<"${dir#/}"
	for d in "${parts[@]}"; do
		[[ -n "$d" ]] || continue
		path+=/$d
		if ! runuser -u postgres -- test -x "$path"; then
			slotd_need_pkgs acl
			if setfacl -m u:postgres:x "$path" 2>/dev/null; then
				slotd__log "granted user postgres search access to $path (ACL)"
			else
				chmod o+x "$path"
				slotd__log "granted search access (o+x) to $path so that user postgres can reach its cluster"
			fi
		fi
	done
	runuser -u postgres -- test -x "$dir" || slotd__die "user postgres cannot reach $dir"
}

# slotd_pg_init STATE_DIR: create (first run) or reuse a cluster in
# STATE_DIR/pgdata. Sets PGDATA, PGSOCKDIR, PGPORT_LOCAL, PGLOG.
slotd_pg_init() {
	local state=$1
	[[ -x "$SLOTD_PGBIN/initdb" ]] || slotd_need_pkgs "${SLOTD_PG_PKGS[@]}"
	[[ -x "$SLOTD_PGBIN/initdb" ]] || slotd__die "no PostgreSQL binaries in $SLOTD_PGBIN"
	id -u postgres >/dev/null 2>&1 || slotd__die "no user postgres (install postgresql-15)"

	mkdir -p "$state"
	state=$(cd "$state" && pwd -P)
	chmod 0755 "$state"
	slotd__traversable "$state"
	PGDATA=$state/pgdata
	PGLOG=$state/postgresql.log
	PGPORT_LOCAL=${SLOTD_PGPORT:-5432}
	PGSOCKDIR=$state/run
	# A unix socket path must fit in sun_path (108 bytes with the NUL).
	if ((${#PGSOCKDIR} + 20 > 107)); then
		PGSOCKDIR=/tmp/slotd-pg-$(printf '%s' "$state" | md5sum | cut -c1-12)
	fi
	mkdir -p "$PGSOCKDIR"
	chown postgres: "$PGSOCKDIR"
	chmod 0700 "$PGSOCKDIR"
	touch "$PGLOG"
	chown postgres: "$PGLOG"

	if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
		slotd__log "creating PostgreSQL cluster in $PGDATA"
		rm -rf "$PGDATA"
		install -d -m 0700 -o postgres -g postgres "$PGDATA"
		(cd / && runuser -u postgres -- "$SLOTD_PGBIN/initdb" -D "$PGDATA" -U postgres \
			--auth=trust -E UTF8 --no-locale --no-instructions) >/dev/null
		echo "include_if_exists = 'slotd.conf'" >>"$PGDATA/postgresql.conf"
	fi
	# Written on every start: the socket directory may move with the repo.
	local sq=${PGSOCKDIR//\'/\'\'}
	cat >"$PGDATA/slotd.conf" <<-CONF
		# written by deploy/lib/common.sh on every start
		listen_addresses = ''
		unix_socket_directories = '$sq'
		port = $PGPORT_LOCAL
		max_connections = ${SLOTD_PG_MAX_CONNECTIONS:-200}
		fsync = ${SLOTD_PG_FSYNC:-on}
		logging_collector = off
	CONF
	chown postgres: "$PGDATA/slotd.conf"
}

# slotd__pg_clear_stale: after an unclean stop postmaster.pid may name a PID
# that now belongs to an unrelated process. PostgreSQL itself only ignores it
# when the PID is dead (or not postgres's), so check that the process really is
# this cluster's postmaster (its cwd is PGDATA); if it is, it was orphaned by a
# killed script: stop it; otherwise remove the stale file.
slotd__pg_clear_stale() {
	local pidfile=$PGDATA/postmaster.pid pid
	[[ -f "$pidfile" ]] || return 0
	pid=$(head -n1 "$pidfile" 2>/dev/null || true)
	if [[ "$pid" =~ ^[0-9]+$ ]] && [[ -d /proc/$pid ]] &&
		[[ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" == "$(readlink -f "$PGDATA")" ]]; then
		slotd__log "a postmaster (pid $pid) from an earlier run is still running: stopping it"
		(cd / && runuser -u postgres -- "$SLOTD_PGBIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 30) >/dev/null ||
			kill -KILL "$pid" 2>/dev/null || true
	fi
	if [[ -f "$pidfile" ]]; then
		slotd__log "removing stale $pidfile (pid ${pid:-?} is not this cluster's postmaster)"
		rm -f "$pidfile"
	fi
	rm -f "$PGSOCKDIR/.s.PGSQL.$PGPORT_LOCAL" "$PGSOCKDIR/.s.PGSQL.$PGPORT_LOCAL.lock"
}

# slotd_pg_start: start the cluster in its own session (so a terminal's Ctrl-C
# reaches only the script, which then stops slotd before PostgreSQL). fd 9 (the
# callers' lock file) is not passed on: an orphaned postmaster must not hold it.
slotd_pg_start() {
	slotd__pg_clear_stale
	slotd__log "starting PostgreSQL (socket $PGSOCKDIR, log $PGLOG)"
	if ! (cd / && runuser -u postgres -- setsid -w "$SLOTD_PGBIN/pg_ctl" start -D "$PGDATA" \
		-l "$PGLOG" -w -t 60 -s) 9>&-; then
		tail -n 20 "$PGLOG" >&2
		slotd__die "PostgreSQL did not start"
	fi
	SLOTD__PG_STARTED=1
}

# slotd_pg_stop: fast shutdown (no-op if not started by us).
slotd_pg_stop() {
	[[ "${SLOTD__PG_STARTED:-0}" == 1 ]] || return 0
	SLOTD__PG_STARTED=0
	slotd__log "stopping PostgreSQL"
	(cd / && runuser -u postgres -- "$SLOTD_PGBIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 -s) ||
		(cd / && runuser -u postgres -- "$SLOTD_PGBIN/pg_ctl" stop -D "$PGDATA" -m immediate -w -s) || true
}

# slotd_pg_psql SQL...: run SQL as superuser postgres in database postgres.
slotd_pg_psql() {
	"$SLOTD_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCKDIR" -p "$PGPORT_LOCAL" \
		-U postgres -d postgres -At "$@"
}

# slotd_pg_createdb DB ROLE: create login ROLE and database DB owned by it
# (if missing), and set SLOTD_PG_URL to a conninfo for it over the socket.
# ROLE is not a superuser: btree_gist and citext are trusted extensions, which
# a database owner may create.
slotd_pg_createdb() {
	local db=$1 role=$2
	if [[ "$(slotd_pg_psql -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != 1 ]]; then
		slotd_pg_psql -c "CREATE ROLE \"$role\" LOGIN"
	fi
	if [[ "$(slotd_pg_psql -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
		slotd__log "creating database $db"
		slotd_pg_psql -c "CREATE DATABASE \"$db\" OWNER \"$role\""
	fi
	SLOTD_PG_URL="host=$PGSOCKDIR port=$PGPORT_LOCAL dbname=$db user=$role"
}

# slotd_wait_http URL TIMEOUT_S [PID]: wait until URL answers 200; give up
# early if process PID (the server) has exited.
slotd_wait_http() {
	local url=$1 deadline=$((SECONDS + $2)) pid=${3:-}
	while ((SECONDS < deadline)); do
		curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
		if [[ -n "$pid" ]] && { ! kill -0 "$pid" 2>/dev/null || slotd__is_zombie "$pid"; }; then
			return 1
		fi
		sleep 0.2
	done
	return 1
}

# slotd_stop_pid PID NAME TIMEOUT_S [already-signalled]: SIGTERM (exactly once:
# a second one could land after slotd has restored the default action), wait,
# then SIGKILL. Sets SLOTD_STOP_RC to the exit status when PID is our child (else 0).
slotd_stop_pid() {
	local pid=$1 name=$2 t=$3 deadline
	SLOTD_STOP_RC=0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || SLOTD_STOP_RC=$?; return 0; }
	[[ -n "${4:-}" ]] || kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + t))
	while kill -0 "$pid" 2>/dev/null && ! slotd__is_zombie "$pid" && ((SECONDS < deadline)); do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null && ! slotd__is_zombie "$pid"; then
		slotd__log "$name (pid $pid) did not stop within ${t}s: killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || SLOTD_STOP_RC=$?
}

# slotd_exe_of PID: the executable PID runs (" (deleted)" stripped: a rebuild
# replaces the file under a running process), empty if none.
slotd_exe_of() {
	local exe
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 0
	printf '%s\n' "${exe% (deleted)}"
}

slotd__is_zombie() {
	[[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]]
}
