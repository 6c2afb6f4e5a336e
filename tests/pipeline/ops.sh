# tests/pipeline/ops.sh: the operator's commands and the service set-up
# under a real supervisor, sourced by ops-runit.test and ops-s6.test after
# they set SUP. The toolkit installed by make install runs from its own
# service directories with the installed users (one per network-facing
# stage), the four stages and both sync services, against real unbound,
# nsd and BIRD and a peer instance:
#   - dnstap-bgp status: a golden of its screen (times and rates masked),
#     --json, exit 0 when all is up;
#   - each stage's user, the pipes' owners and modes: the network-facing
#     stages cannot open the pipes of others (issue 11);
#   - a bad setting (exit 100) stops the stage instead of a restart loop,
#     status says it is down and exits 1; fixed and started, all up again;
#   - dnstap-bgp check on the running installation.
. "$TOP/tests/pipeline/setup.sh"
need unbound nsd dig curl python3
now() { date +%s.%6N; }
logs() { tail -n 5 "$D"/log/*/current "$@" 2>&1 | tr '\n' '|'; }
q() { dig +short +time=2 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$@"; }
established() { pipe_birdc show protocols toolkit | grep -q Established; }
nroutes() { [ "$(pipe_routes | wc -l)" -eq "$1" ]; }
db() { "$D/usr/bin/dnstap-bgp" "$@"; }
metric() { awk -v n="$2" '$1 == n { print $2 }' "$D/run/metrics/dnstap-bgp-$1.prom" 2> /dev/null; }

# The installed dispatcher with the test's paths.
e=$pipe_conf/env
sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$SERVE_PORT/" "$e/SYNC_SERVE_OPTS"
printf '%s -i 1 -t 5\n' "$(cat "$e/SYNC_PULL_OPTS")" > "$e/SYNC_PULL_OPTS"
echo "http://127.0.0.1:$PEER_PORT" > "$pipe_conf/sync-pull/SYNC_PEERS"
pipe_peer "$PEER_PORT"
peer_answer "answer $(now) video.demo.test 198.51.100.50 300 video -"

# svc up|down|restart STAGE: the supervisor's command.
svc() {
	case $SUP:$1 in
	runit:*) sv "$1" "$D/service/$2" ;;
	s6:up) s6-svc -u "$D/service/$2" ;;
	s6:down) s6-svc -d "$D/service/$2" ;;
	s6:restart) s6-svc -r "$D/service/$2" ;;
	esac
}
pipe_router
pipe_supervise
wait_until 30 test -S "$D/run/dnstap.sock" || { fail "dnstap-read made no socket: $(logs)"; exit 1; }
# The sync services once ipcache has made its store (before, sync-serve
# exits 111 and is restarted: a line in the golden that would come and go).
wait_until 30 test -f "$D/state/cache/data.mdb" || fail "ipcache made no store: $(logs)"
svc up sync-serve > /dev/null
svc up sync-pull > /dev/null
pipe_resolver
wait_until 30 established || { fail "no BGP session: $(logs "$D/bird.log")"; exit 1; }
wait_until 20 q ns.demo.test A || { fail "unbound does not answer"; exit 1; }
for n in "video.demo.test A" "video.demo.test AAAA" "chat.demo.test A"; do
	# shellcheck disable=SC2086
	q $n > /dev/null
done
# 3 local routes, 1 from the peer.
check "BIRD holds the routes" wait_until 30 nroutes 4
pass "the pipeline is up under $SUP"

# Every stage has written its textfile after those answers (10 s period).
settled() {
	[ "$(metric ipcache dnstap_bgp_ipcache_entries)" = 4 ] &&
		[ "$(metric dnstap-read dnstap_bgp_dnstap_read_frames_total)" -ge 4 ] &&
		[ "$(awk '/^dnstap_bgp_sync_pull_peer_last_pull_timestamp_seconds/ { print ($2 > 0) }' \
			"$D/run/metrics/dnstap-bgp-sync-pull.prom" 2> /dev/null)" = 1 ] &&
		[ -n "$(metric sync-serve dnstap_bgp_sync_serve_fetches_total)" ]
}
check "every stage wrote its metrics" wait_until 40 settled

# status: a golden of the screen with times, rates and this run's paths
# masked (columns squeezed: their widths follow the masked values).
mask() {
	sed -E -e "s|$D|D|g" -e "s|$(uname -n)|HOST|" -e 's/[0-9]+[dhm][0-9]+[smh]|[0-9]+s/T/g' \
		-e 's/[0-9]+\.[0-9]+ frames\/s/R frames\/s/' -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
		-e 's/  +/ /g' -e 's/ +$//'
}
db status > "$T/status" 2> "$T/status.err"
eq "status: exit 0 when all is up" "$?:$(cat "$T/status.err")" "0:"
mask < "$T/status" > "$T/status.masked"
same_file "status: the screen (golden, times masked)" "$T/status.masked" "$TOP/tests/pipeline/status-$SUP.out"
cat "$T/status"
db status --json > "$T/status.json"
eq "status --json: exit 0" "$?" 0
summary() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(j["ok"], " ".join(s["name"] + "=" + s["state"] for s in j["stages"]),
	" ".join(p["name"] + "=" + str(p["state"]) for p in j["bgp_peers"]),
	j["cache"]["entries"], j["list"]["entries"], j["collector"]["frames_total"] >= 4,
	[p["peer"] for p in j["sync_peers"]] == ["http://127.0.0.1:'"$PEER_PORT"'"])' "$1"
}
eq "status --json: valid, the same facts" "$(summary "$T/status.json" 2>&1)" \
	"True dnstap-read=up dns-hold=off domain-match=up ipcache=up fan-out=up bgp-announce=up nft-set=off route-sync=off sync-serve=up sync-pull=up bird=established 4 2 True True"

# routes: what bgp-announce announces, from its control socket (the
# installed BGP_ANNOUNCE_OPTS gives it -S in the run directory).
sq() { sed -E 's/  +/ /g; s/ +$//'; }
db routes > "$T/routes" 2>&1
eq "routes: exit 0" "$?" 0
eq "routes: each route with its tag, name, next hop, attributes and peers" "$(sq < "$T/routes")" \
"PREFIX TAG NAME NEXT HOP ATTRIBUTES PEERS
198.51.100.10/32 video video.demo.test 127.0.0.3 comm=65000:100 bird
198.51.100.50/32 video video.demo.test 127.0.0.3 comm=65000:100 bird
203.0.113.20/32 social chat.demo.test 127.0.0.2 comm=65000:200 lcomm=65000:2:1 bird
2001:db8:100::10/128 video video.demo.test 2001:db8:ffff::2 comm=65000:100 bird"
eq "routes social: by tag" "$(db routes social | sq | cut -d' ' -f1)" "PREFIX
203.0.113.20/32"
eq "routes demo.test: by name, the names under it" "$(db routes demo.test | tail -n +2 | wc -l)" 4
eq "routes 2001:db8:100::10: by address" "$(db routes 2001:db8:100::10 | sq | tail -n +2 | cut -d' ' -f1)" "2001:db8:100::10/128"
db routes other.example > /dev/null 2>&1
eq "routes: nothing matches: exit 1" "$?" 1

# Each stage as its user; the pipes on stdin and stdout are root's (opened
# by the run script before it drops privileges), the peer pipe ipcache's
# and writable only by the sync users (issue 11, defence in depth).
users() { for st in dnstap-read domain-match ipcache fan-out bgp-announce sync-serve sync-pull; do
	printf '%s=%s ' "$st" "$(id -nu "$(awk '/^Uid:/ { print $2 }' "/proc/$(pipe_pid "$st")/status")")"; done; }
want_users="dnstap-read=dnstap-bgp domain-match=dnstap-bgp ipcache=dnstap-bgp \
fan-out=dnstap-bgp bgp-announce=dnstap-bgp-announce sync-serve=dnstap-bgp-serve sync-pull=dnstap-bgp-pull "
users_ok() { [ "$(users)" = "$want_users" ]; }
wait_until 20 users_ok
eq "each stage runs as its user" "$(users)" "$want_users"
eq "the pipes' owners and modes" "$(cd "$D/run" && stat -c '%n %U:%G %a' answers matched routes routes.bgp-announce ack.bgp-announce ack peer | tr '\n' ' ')" \
	"answers root:root 600 matched root:root 600 routes root:root 600 routes.bgp-announce dnstap-bgp:dnstap-bgp 600 ack.bgp-announce dnstap-bgp-announce:dnstap-bgp 660 ack dnstap-bgp:dnstap-bgp 660 peer dnstap-bgp:dnstap-bgp-sync 620 "
eq "the run and metrics directories: root's, sticky, the main group's" \
	"$(stat -c '%U:%G %a' "$D/run" "$D/run/metrics" | tr '\n' ' ')" "root:dnstap-bgp 1775 root:dnstap-bgp 1775 "
eq "the store: nothing for others, read by the sync group" \
	"$(cd "$D/state/cache" && stat -c '%n %U:%G %A' . data.mdb lock.mdb | tr '\n' ' ')" \
	". dnstap-bgp:dnstap-bgp-sync drwxr-s--- data.mdb dnstap-bgp:dnstap-bgp-sync -rw-r----- lock.mdb dnstap-bgp:dnstap-bgp-sync -rw-rw---- "
# as USER PIPE: USER opens PIPE for writing (the open alone: nothing is written).
as() { timeout 5 setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups sh -c 'exec 3>> "$1"' sh "$D/run/$2" 2> /dev/null; }
for u in dnstap-bgp-serve dnstap-bgp-pull dnstap-bgp-announce dnstap-bgp; do
	for f in answers matched routes routes.bgp-announce; do
		# fan-out (dnstap-bgp) writes bgp-announce's pipe by name.
		[ "$u:$f" != dnstap-bgp:routes.bgp-announce ] || continue
		as "$u" "$f" && fail "$u can open the $f pipe"
	done
done
pass "no stage's user can open the pipes of the pipeline by name, but fan-out its sinks'"
check "sync-serve's user can write the peer pipe" as dnstap-bgp-serve peer
check "sync-pull's user can write the peer pipe" as dnstap-bgp-pull peer
if as dnstap-bgp-announce peer; then fail "bgp-announce's user can write the peer pipe"; else pass "bgp-announce's user cannot write the peer pipe"; fi
check "sync-serve (another user) reads the store: /fetch" \
	sh -c "curl -s --max-time 5 http://127.0.0.1:$SERVE_PORT/fetch | grep -q 198.51.100.10"

# check on the running installation (its unbound runs as root): no
# problem; a misspelt setting is one.
eq "check: the running installation has no problem" "$(db check -r root 2>&1; echo "rc=$?")" "$pipe_conf: no problem found
rc=0"
echo 60 > "$pipe_conf/bgp-announce/GRACEFULL_RESTART"
eq "check: a misspelt setting" "$(db check -r root 2>&1; echo "rc=$?")" \
	"$pipe_conf/bgp-announce/GRACEFULL_RESTART: unknown setting (did you mean GRACEFUL_RESTART?)
rc=100"
rm "$pipe_conf/bgp-announce/GRACEFULL_RESTART"

# A bad setting (exit 100): the stage stops instead of restarting every
# second, its log says so, status says it is down and exits 1.
rec() { sed -n "s/^$2 //p" "$D/run/stages/$1"; }
starts=$(rec bgp-announce starts)
echo 2 > "$pipe_conf/bgp-announce/HOLD_TIME"
svc restart bgp-announce > "$T/restart" 2>&1
stopped() { [ "$(rec bgp-announce exit)" = 100 ] && [ -z "$(pipe_pid bgp-announce)" ]; }
if wait_until 20 stopped; then
	pass "a bad setting: bgp-announce exits 100 and is not running"
else
	fail "a bad setting: bgp-announce exits 100 and is not running: restart said '$(tr '\n' '|' < "$T/restart")', pid '$(pipe_pid bgp-announce)', record '$(tr '\n' '|' < "$D/run/stages/bgp-announce")', log $(logs)"
fi
sleep 3
eq "a bad setting: started once, not again" "$(rec bgp-announce starts)" "$((starts + 1))"
check "a bad setting: the log says it is stopped and how to start it" \
	grep -q "dnstap-bgp-run: info: bgp-announce exited 100, a permanent error (the lines above say why): stopped, not restarted; fix it, then: " "$D/log/bgp-announce/current"
db status > "$T/down" 2>&1
eq "status: exit 1 when a stage is down" "$?" 1
check "status: bgp-announce down, exit 100, its error line" sh -c "grep -q '^bgp-announce  *down  .*  100 ' '$T/down' &&
	grep -q '^bgp-announce  .* ago  *bgp-announce: fatal: bad configuration: PEER_bird_HOLD_TIME' '$T/down' &&
	grep -qx 'problem: bgp-announce is down (exit 100: a permanent error, see its log)' '$T/down'"
cat "$T/down"
db routes > /dev/null 2> "$T/err"
eq "routes with bgp-announce down: exit 111, why" "$?:$(cat "$T/err")" \
	"111:dnstap-bgp routes: fatal: no control socket at $D/run/bgp-announce.sock: bgp-announce is not running (see dnstap-bgp status)"
db status --json > "$T/down.json"
eq "status --json: exit 1, ok false" "$?:$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ok"])' "$T/down.json")" "1:False"
rm "$pipe_conf/bgp-announce/HOLD_TIME"
svc up bgp-announce > /dev/null
check "fixed and started: the session is back" wait_until 30 established
allup() { db status > /dev/null 2>&1; }
check "fixed and started: status exits 0 again" wait_until 30 allup

done_testing
