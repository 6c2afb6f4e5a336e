# tests/pipeline/sync.sh: peer sync under a supervisor, sourced by
# sync-runit.test and sync-s6.test after they set SUP, BGP_PORT, SERVE_PORT
# and PEER_PORT.
#
# The toolkit installed by make install, its four stages and the optional
# sync-serve and sync-pull run from their own service directories, enabled
# by removing their down files, with the installed default options (only
# the port, the interval and the peer changed). A peer instance (a real
# ipcache and sync-serve started by the test) holds other entries:
#   - sync-pull feeds its entries through ipcache's peer FIFO into the store,
#     and bgp-announce announces them to BIRD with the local tag's attributes;
#   - sync-serve answers /fetch from the running ipcache's store and takes
#     PUT /put into the peer FIFO;
#   - sync-pull pushes a new local answer to the peer;
#   - kill -9 of sync-serve, sync-pull and ipcache: restarted, syncing again;
#   - both write their Prometheus textfiles and their logs.
. "$TOP/tests/pipeline/setup.sh"
need curl
logs() { tail -n 5 "$D"/log/*/current "$@" 2>&1 | tr '\n' '|'; }
cache() { "$pipe_lx/ipcache" -l -s "$1" 2> /dev/null | awk '{ print $1, $2, $3 }'; }
has() { cache "$1" | grep -qx "$2"; }
route() { pipe_routes | grep -qx "$1"; }
fetch() { curl -s --max-time 5 "http://127.0.0.1:$SERVE_PORT/fetch"; }
fetched() { fetch | grep -q "\"IP\":\"$1\",\"Domain\":\"$2\""; }
rfc3339() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
now() { date +%s.%6N; }

# The operator's part: the peer, a listening port, a short interval.
e=$pipe_conf/env
sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$SERVE_PORT/" "$e/SYNC_SERVE_OPTS"
printf '%s -i 1 -t 5\n' "$(cat "$e/SYNC_PULL_OPTS")" > "$e/SYNC_PULL_OPTS"
echo "http://127.0.0.1:$PEER_PORT" > "$pipe_conf/sync-pull/SYNC_PEERS"
check "sync services installed down" test -f "$D/usr/share/dnstap-bgp/$SUP/sync-serve/down" \
	-a -f "$D/usr/share/dnstap-bgp/$SUP/sync-pull/down"

# The peer instance: ipcache with its answers and peer pipes, sync-serve.
pipe_peer "$PEER_PORT"
peer_answer "answer $(now) video.demo.test 198.51.100.50 300 video -"
wait_until 10 has "$P/cache" "198.51.100.50 video.demo.test video" || fail "the peer did not learn its entry"

PIPE_ENABLE="sync-serve sync-pull"
pipe_router
pipe_supervise
wait_until 30 sh -c "birdc -s '$D/bird.ctl' show protocols toolkit | grep -q Established" ||
	{ fail "no BGP session: $(logs "$D/bird.log")"; exit 1; }
running() { [ -n "$(pipe_pid sync-serve)" ] && [ -n "$(pipe_pid sync-pull)" ]; }
if wait_until 30 running; then
	pass "sync-serve and sync-pull run under $SUP"
else
	fail "sync services not running: $(logs)"
	exit 1
fi

# Pull: the peer's entry through the peer FIFO, into the store, to BIRD.
check "sync-pull fed the peer's entry into ipcache's store" \
	wait_until 30 has "$D/state/cache" "198.51.100.50 video.demo.test video"
check "the pulled entry is in BIRD with its tag's attributes" \
	wait_until 20 route "198.51.100.50/32 next-hop=127.0.0.3 comm=(65000,100) lcomm=-"
check "sync-serve answers /fetch from the running ipcache's store" \
	wait_until 20 fetched 198.51.100.50 video.demo.test

# The run script is root until it execs the program (and sync-serve is
# restarted until ipcache has made the store): wait for the programs.
users() { for st in sync-serve sync-pull; do
	printf '%s=%s ' "$st" "$(id -nu "$(awk '/^Uid:/ { print $2 }' "/proc/$(pipe_pid "$st")/status")")"; done; }
own_users() { [ "$(users)" = "sync-serve=dnstap-bgp-serve sync-pull=dnstap-bgp-pull " ]; }
check "each runs as its own user" wait_until 20 own_users

# Put: into the peer FIFO, the store, BIRD; an entry off the list refused.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT \
	-d "{\"IP\":\"203.0.113.51\",\"Domain\":\"chat.demo.test\",\"TS\":\"$(rfc3339)\"}" \
	"http://127.0.0.1:$SERVE_PORT/put")
eq "PUT /put accepted" "$code" 200
check "the put entry is in the store" wait_until 20 has "$D/state/cache" "203.0.113.51 chat.demo.test social"
check "the put entry is in BIRD" \
	wait_until 20 route "203.0.113.51/32 next-hop=127.0.0.2 comm=(65000,200) lcomm=(65000,2,1)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT \
	-d "{\"IP\":\"203.0.113.52\",\"Domain\":\"other.demo.test\",\"TS\":\"$(rfc3339)\"}" \
	"http://127.0.0.1:$SERVE_PORT/put")
eq "PUT of a name off the list refused" "$code" 400

# Push: a new local answer (as domain-match writes it) reaches the peer.
echo "answer $(now) video.demo.test 198.51.100.53 300 video -" > "$D/run/matched"
check "sync-pull pushed a new local entry to the peer" \
	wait_until 30 has "$P/cache" "198.51.100.53 video.demo.test video"

# kill -9 of each sync service and of ipcache: restarted, syncing again.
restarted() { p=$(pipe_pid "$1"); [ -n "$p" ] && [ "$p" != "$2" ]; }
n=54
for st in sync-serve sync-pull ipcache; do
	old=$(pipe_pid "$st")
	kill -9 "$old"
	if ! wait_until 20 restarted "$st" "$old"; then
		fail "kill -9 $st: not restarted: $(logs)"
		continue
	fi
	pass "kill -9 $st: restarted"
	peer_answer "answer $(now) video.demo.test 198.51.100.$n 300 video -"
	check "kill -9 $st: a new entry of the peer is pulled again" \
		wait_until 30 has "$D/state/cache" "198.51.100.$n video.demo.test video"
	check "kill -9 $st: sync-serve answers /fetch again" \
		wait_until 30 fetched "198.51.100.$n" video.demo.test
	n=$((n + 1))
done

# Metrics and logs of both.
check "sync-serve's metrics textfile counts its fetches" wait_until 20 \
	grep -q '^dnstap_bgp_sync_serve_fetches_total [1-9]' "$D/run/metrics/dnstap-bgp-sync-serve.prom"
check "sync-pull's metrics textfile counts its pulls" wait_until 20 \
	grep -q '^dnstap_bgp_sync_pull_pulls_total [1-9]' "$D/run/metrics/dnstap-bgp-sync-pull.prom"
check "sync-pull's log is kept" test -f "$D/log/sync-pull/current"
check "sync-serve's log is kept" test -f "$D/log/sync-serve/current"
done_testing
