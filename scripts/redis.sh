# shellcheck shell=bash
# Sourced by scripts/test.sh: makes sure a Redis server answers at
# ZOO_REDIS_ADDR (default 127.0.0.1:6379) and exports that address. When none
# answers, it starts redis-server on a free loopback port for the duration of
# the tests, installing Debian's redis-server package first if it is missing
# and we run as root. Redis tests never skip: if no server can be had, the
# test command fails here, saying why.

redis_ping() { # host port
	local reply
	# bash's /dev/tcp needs no client binary.
	exec 9<>"/dev/tcp/$1/$2" 2>/dev/null || return 1
	printf 'PING\r\n' >&9
	IFS= read -r -t 2 reply <&9 || reply=
	exec 9<&- 9>&-
	[[ $reply == +PONG* ]]
}

free_port() {
	local port
	for port in $(seq 26379 26479); do
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

ensure_redis() {
	local addr=${ZOO_REDIS_ADDR:-127.0.0.1:6379}
	local host=${addr%:*} port=${addr##*:}
	if redis_ping "$host" "$port"; then
		export ZOO_REDIS_ADDR=$addr
		return 0
	fi
	echo "test: no Redis answers at $addr; starting one" >&2
	if ! command -v redis-server >/dev/null 2>&1; then
		if [[ $(id -u) -ne 0 ]]; then
			echo "test: redis-server is not installed and we are not root: install Debian's redis-server package or set ZOO_REDIS_ADDR" >&2
			return 1
		fi
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
	fi
	port=$(free_port) || { echo "test: no free loopback port for Redis" >&2; return 1; }
	ZOO_REDIS_DIR=$(mktemp -d)
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$ZOO_REDIS_DIR" --daemonize yes --pidfile "$ZOO_REDIS_DIR/redis.pid" \
		--logfile "$ZOO_REDIS_DIR/redis.log" >/dev/null
	trap stop_redis EXIT
	for _ in $(seq 50); do
		redis_ping 127.0.0.1 "$port" && break
		sleep 0.1
	done
	redis_ping 127.0.0.1 "$port" || { echo "test: redis-server did not start:" >&2; cat "$ZOO_REDIS_DIR/redis.log" >&2; return 1; }
	export ZOO_REDIS_ADDR=127.0.0.1:$port
}

stop_redis() {
	if [[ -n ${ZOO_REDIS_DIR:-} && -f $ZOO_REDIS_DIR/redis.pid ]]; then
		kill "$(cat "$ZOO_REDIS_DIR/redis.pid")" 2>/dev/null || true
		rm -rf "$ZOO_REDIS_DIR"
	fi
}
