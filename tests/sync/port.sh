# tests/sync/port.sh: sourced after tests/lib.sh by the sync scripts that
# take free ports instead of fixed ones.

# free_port: a TCP port free on 127.0.0.1 now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve NAME ARGS...: sync-serve ARGS on 127.0.0.1 and a free port ($PORT),
# spawned as NAME; 0 once it listens. A port that another test took between
# the probe and the bind is tried again with another.
serve() {
	_sn=$1
	shift
	for _try in 1 2 3 4 5; do
		PORT=$(free_port)
		spawn "$_sn" "$BIN/sync-serve" -l "127.0.0.1:$PORT" "$@"
		_end=$(($(date +%s) + 30))
		while [ "$(date +%s)" -lt "$_end" ]; do
			grep -q 'info: listening on' "$T/$_sn.log" && return 0
			kill -0 "$(pid_of "$_sn")" 2> /dev/null || break
			sleep 0.1
		done
		grep -q 'unable to listen' "$T/$_sn.log" || return 1
	done
	return 1
}
