# tests/pipeline/scenario.sh: the end-to-end scenario, sourced by runit.test
# and s6.test after they set SUP, DNS_PORT, NSD_PORT and BGP_PORT.
#
# dig -> unbound -> dnstap-read -> domain-match -> ipcache -> bgp-announce
# -> BIRD, with the toolkit installed by make install and run from its own
# service directories under a real supervisor, configured like the demo
# (scripts/demo-setup). Daemons are started once for the whole script:
#   1. BIRD holds exactly the routes the queries and lists call for (IPv4,
#      IPv6, a CNAME chain, each tag's next hop and communities).
#   2. kill -9 of each stage in turn while queries flow: restarted, BIRD
#      holds the expected set again within 5 s, the cache keeps every entry,
#      BIRD never removes a route (graceful restart; its route log says so).
#   3. the cron script rebuilds the list: a removed name is withdrawn, a new
#      one announced on its next answer.
#   4. everything stopped (BIRD and the resolver too), the toolkit started
#      again without any DNS traffic: BIRD gets the routes from the store.
. "$TOP/tests/pipeline/setup.sh"
need unbound nsd dig

established() { pipe_birdc show protocols toolkit | grep -q Established; }
q() { dig +short +time=2 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$@"; }
# The routes of each name on the list, as pipe_routes prints them.
r_video='198.51.100.10/32 next-hop=127.0.0.3 comm=(65000,100) lcomm=-
198.51.100.11/32 next-hop=127.0.0.3 comm=(65000,100) lcomm=-
2001:db8:100::10/128 next-hop=2001:db8:ffff::2 comm=(65000,100) lcomm=-'
r_chat='2001:db8:200::20/128 next-hop=2001:db8:ffff::2 comm=(65000,200) lcomm=(65000,2,1)
203.0.113.20/32 next-hop=127.0.0.2 comm=(65000,200) lcomm=(65000,2,1)'
r_other='203.0.113.99/32 next-hop=127.0.0.2 comm=(65000,200) lcomm=(65000,2,1)'
want() { printf '%s\n' "$@" | sort; }
table_is() { [ "$(pipe_routes)" = "$1" ]; }
# ipcache's entries without their times: address, name, tag.
cache() { "$pipe_lx/ipcache" -l -s "$D/state/cache" | awk '{ print $1, $2, $3 }' | sort; }

# Without these there is nothing to test: stop at the first one missing.
logs() { tail -n 5 "$D"/log/*/current "$@" 2>&1 | tr '\n' '|'; }
pipe_router
pipe_supervise
wait_until 30 test -S "$D/run/dnstap.sock" || { fail "dnstap-read made no socket: $(logs)"; exit 1; }
pipe_resolver
wait_until 30 established || { fail "no BGP session: $(logs "$D/bird.log")"; exit 1; }
wait_until 20 q ns.demo.test A || { fail "unbound does not answer: $(logs "$T/unbound.log")"; exit 1; }
pass "the pipeline is up: DNSTap socket, BGP session, resolver"
# Each stage's user (the run script is root until it execs the program).
users() { for st in dnstap-read domain-match ipcache fan-out bgp-announce; do
	printf '%s=%s ' "$st" "$(id -nu "$(awk '/^Uid:/ { print $2 }' "/proc/$(pipe_pid "$st")/status")")"; done; }
want_users="dnstap-read=dnstap-bgp domain-match=dnstap-bgp ipcache=dnstap-bgp fan-out=dnstap-bgp bgp-announce=dnstap-bgp-announce "
users_ok() { [ "$(users)" = "$want_users" ]; }
wait_until 20 users_ok
eq "each stage runs as its user" "$(users)" "$want_users"
check "the loggers keep each stage's log" grep -q 'established' "$D/log/bgp-announce/current"
if [ -n "${PIPE_NETNS:-}" ]; then
	n=$(ip netns pids "$PIPE_NETNS" | grep -cx -e "$(pipe_pid dnstap-read)" -e "$(pipe_pid bgp-announce)")
	eq "dnstap-read and bgp-announce run in namespace $PIPE_NETNS" "$n" 2
fi

# 1. The routes the queries call for. other.demo.test is not listed.
exp=$(want "$r_video" "$r_chat")
for n in "video.demo.test A" "video.demo.test AAAA" "clip.video.demo.test A" \
    "chat.demo.test A" "chat.demo.test AAAA" "other.demo.test A"; do
	# shellcheck disable=SC2086
	q $n > /dev/null
done
if wait_until 20 table_is "$exp"; then
	pass "BIRD holds exactly the expected routes"
else
	same_file "BIRD holds exactly the expected routes" "$(pipe_routes > "$T/got"; echo "$T/got")" "$(echo "$exp" > "$T/want"; echo "$T/want")"
fi
wait_until 10 sh -c "[ \"\$($pipe_lx/ipcache -l -s $D/state/cache | wc -l)\" -eq 5 ]"
cache > "$T/cache.before"
eq "the store holds the five entries" "$(wc -l < "$T/cache.before")" 5

# 2. kill -9 of each stage in turn while queries flow.
spawn queries sh -c "while :; do for n in video.demo.test clip.video.demo.test chat.demo.test; do
	dig +short +time=1 +tries=1 -p $DNS_PORT @127.0.0.1 \$n A; done; sleep 0.2; done"
mark=$(wc -l < "$D/bird.log")
restarted() { p=$(pipe_pid "$1"); [ -n "$p" ] && [ "$p" != "$2" ]; }
# resent LINE: the prefixes BIRD received on the last session that came up
# after line LINE of its log (routes kept stale by graceful restart do not
# count: only those the new bgp-announce sent).
resent() { tail -n +"$1" "$D/bird.log" | awk '/State changed to up/ { up = 1; delete seen; next }
	up && / > [a-z]+ .*\/[0-9]+ / { for (i = 1; i <= NF; i++) if ($i ~ /\/[0-9]+$/) seen[$i] = 1 }
	END { for (p in seen) print p }' | sort; }
prefixes=$(echo "$exp" | cut -d' ' -f1 | sort)
resent_all() { [ "$(resent "$1")" = "$prefixes" ]; }
for st in dnstap-read domain-match ipcache fan-out bgp-announce; do
	old=$(pipe_pid "$st")
	if [ -z "$old" ]; then
		fail "$st is not running: $(tail -n 5 "$D/log/$st/current" | tr '\n' '|')"
		continue
	fi
	kmark=$(($(wc -l < "$D/bird.log") + 1))
	kill -9 "$old"
	if ! wait_until 20 restarted "$st" "$old"; then
		fail "kill -9 $st: not restarted"
		continue
	fi
	pass "kill -9 $st: restarted"
	if wait_until 5 table_is "$exp"; then
		pass "kill -9 $st: BIRD holds the expected set within 5 s"
	else
		fail "kill -9 $st: BIRD holds $(pipe_routes | tr '\n' '|')"
	fi
	if [ "$st" = bgp-announce ]; then
		bmark=$kmark
		check "kill -9 bgp-announce: the new session carried the whole set within 5 s" \
			wait_until 5 resent_all "$bmark"
	fi
	# Let the restarted stage settle (ipcache's start-up replay consumed)
	# so that the next kill tests its own recovery, not this one's.
	sleep 1
done
wait_until 30 established || fail "no BGP session after the restarts"
# A new session's routes replace the stale ones only after End-of-RIB.
sleep 2
check "BIRD holds the expected set after the restarts" table_is "$exp"
cache > "$T/cache.after"
same_file "the cache lost nothing" "$T/cache.after" "$T/cache.before"
removed=$(tail -n +"$((mark + 1))" "$D/bird.log" | grep -i 'removed' | head -n 5)
eq "BIRD never removed a route during the restarts" "$removed" ""
# The new bgp-announce got every route from ipcache's replay (not only kept
# stale by graceful restart): BIRD saw each again on the new session.
wait_until 30 resent_all "${bmark:-1}"
eq "the new session carried the whole set again" "$(resent "${bmark:-1}")" "$prefixes"
kill "$(pid_of queries)"

# 3. The cron script rebuilds the list: chat.demo.test leaves it,
# other.demo.test joins it (announced on its next answer).
printf 'other.demo.test\n' > "$D/lists/social.list"
if [ ! -x "$pipe_lx/domain-update" ]; then
	fail "domain-update is not installed: rebuilding with domain-compile"
	pipe_compile
elif "$pipe_lx/domain-update" -o "$D/state/domains.cdb" \
    video="$D/lists/video.list" social="$D/lists/social.list" > "$T/update.log" 2>&1; then
	pass "domain-update rebuilt the list"
else
	fail "domain-update: $(tail -n 3 "$T/update.log" | tr '\n' '|')"
fi
exp=$(want "$r_video")
wait_until 30 table_is "$exp" && pass "the removed name's routes are withdrawn" ||
	fail "after the list change BIRD holds $(pipe_routes | tr '\n' '|')"
# ipcache has the new list (it withdrew); domain-match reloads on its own
# clock: the next answer is the first after both have it.
wait_until 30 grep -q 'reloaded .*file replaced' "$D/log/domain-match/current" ||
	fail "domain-match did not reload the list: $(logs)"
q other.demo.test A > /dev/null
exp=$(want "$r_video" "$r_other")
wait_until 20 table_is "$exp" && pass "the new name is announced on its next answer" ||
	fail "after other.demo.test's answer BIRD holds $(pipe_routes | tr '\n' '|')"

# Metrics an operator scrapes (each stage's textfile, written every 10 s):
# frames, records, matches, cache entries, announces, withdraws, peers up,
# errors. Counters start again with each process: the values are what the
# restarted stages saw, the list change's withdraws included.
metric() { awk -v n="dnstap_bgp_$(echo "$1" | tr - _)_$2" '$1 == n { print $2 }' \
	"$D/run/metrics/dnstap-bgp-$1.prom" 2> /dev/null; }
at_least() { v=$(metric "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
for m in "dnstap-read frames_total 1" "dnstap-read records_total 1" \
    "domain-match matched_total 1" "ipcache announces_total 1" "ipcache withdraws_total 2" \
    "bgp-announce prefixes_announced_total 1" "bgp-announce prefixes_withdrawn_total 2" \
    "bgp-announce peers_up 1"; do
	# shellcheck disable=SC2086
	check "metric $m or more" wait_until 30 at_least $m
done
entries_are() { [ "$(metric ipcache entries)" = "$1" ]; }
wait_until 30 entries_are 4
eq "metric ipcache entries" "$(metric ipcache entries)" 4
for e in 'dnstap-read errors_total{kind="dns"}' "domain-match malformed_total" \
    "ipcache malformed_total" "bgp-announce errors_total"; do
	# shellcheck disable=SC2086
	eq "metric $e: present, zero" "$(metric $e)" 0
done

# 4. Stop everything; start BIRD and the toolkit again, no resolver.
pipe_stop "$(pid_of supervisor)"
for d in unbound nsd bird; do kill "$(pid_of "$d")"; done
wait_until 10 sh -c "! kill -0 $(pid_of bird) 2> /dev/null"
check "everything stopped" sh -c "! pgrep -f '$D/[rsl]'"
pipe_router
wait_until 20 test -S "$D/bird.ctl"
eq "the new BIRD starts empty" "$(pipe_routes)" ""
pipe_supervise
if wait_until 30 table_is "$exp"; then
	pass "routes restored from the store without DNS traffic"
else
	fail "after the restart BIRD holds $(pipe_routes | tr '\n' '|')"
fi

# The restarted stages write their textfiles again: the store's entries.
rm -f "$D/run/metrics/dnstap-bgp-ipcache.prom"
check "metric ipcache entries after the restart" wait_until 30 entries_are 4
done_testing
