# tests/pipeline/kernel.sh: sourced by kernel-runit.test and kernel-s6.test
# after they set SUP (free ports: pipe_ports).
#
# The whole pipeline into the kernel, under runit or s6: dig -> unbound ->
# dnstap-read -> domain-match -> ipcache -> fan-out -> bgp-announce, nft-set
# and route-sync, installed by make install and run from the service
# directories, the toolkit in a namespace this test creates (its own
# nftables ruleset and routing tables). nft-set and route-sync run as
# the main user (dnstap-bgp) with CAP_NET_ADMIN only. The set and table 100 equal ipcache's
# cache (ipcache -l):
#   1. after the queries;
#   2. after kill -9 of nft-set and of route-sync (nothing flushed, then
#      converged) and of fan-out;
#   3. after a list change (the removed name's addresses withdrawn);
#   4. after expiry (queries stopped: everything goes).
PIPE_NETNS=kp$$
PIPE_ENABLE="nft-set route-sync"
. "$TOP/tests/pipeline/setup.sh"
need unbound nsd dig nft ip
[ -z "${DEBUG:-}" ] || at_exit "ls -la $D/run $D"

pipe_put "$pipe_conf/env" IPCACHE_OPTS '-s $DNSTAP_BGP_STATEDIR/cache -d $DNSTAP_BGP_STATEDIR/domains.cdb -p $DNSTAP_BGP_RUNDIR/peer -a 198.51.100.0/24 -a 203.0.113.0/24 -a 2001:db8::/32 -L 15 -g 0'
pipe_put "$pipe_conf/route-sync" TYPE blackhole
q() { dig +short +time=2 +tries=2 -p "$DNS_PORT" @127.0.0.1 "$@"; }
logs() { tail -n 5 "$D"/log/*/current "$@" 2>&1 | tr '\n' '|'; }
nsx() { ip netns exec "$PIPE_NETNS" "$@"; }
# The cache's addresses, the set's elements of ours, table 100's routes of
# ours: one sorted line each.
cached() { "$pipe_lx/ipcache" -l -s "$D/state/cache" | awk '{ print $1 }' | sort -u; }
in_set() { for s in addr4 addr6; do nsx nft -j list set inet dnstap_bgp $s; echo; done |
	python3 -c 'import json, sys
for line in sys.stdin:
    if not line.strip(): continue
    for o in json.loads(line).get("nftables", []):
        for e in o.get("set", {}).get("elem", []):
            if isinstance(e, dict) and e["elem"].get("comment") == "dnstap-bgp": print(e["elem"]["val"])' | sort; }
in_table() { { ip -n "$PIPE_NETNS" route show table 100 proto 247; ip -n "$PIPE_NETNS" -6 route show table 100 proto 247; } |
	awk '{ print $2 }' | sort; }
equal() { c=$(cached); [ -n "$c" ] || return 1; [ "$(in_set)" = "$c" ] && [ "$(in_table)" = "$c" ]; }
empty_all() { [ -z "$(cached)" ] && [ -z "$(in_set)" ] && [ -z "$(in_table)" ]; }
# same WHAT: the set and the table equal the cache, within 20 s.
same() {
	if wait_until 20 equal; then
		pass "$1: the set and table 100 equal the cache"
	else
		fail "$1: cache $(cached | tr '\n' ' '), set $(in_set | tr '\n' ' '), table $(in_table | tr '\n' ' ')"
	fi
}

pipe_router
pipe_supervise
wait_until 30 test -S "$D/run/dnstap.sock" || { fail "dnstap-read made no socket: $(logs)"; exit 1; }
pipe_resolver
wait_until 20 q ns.demo.test A || { fail "unbound does not answer: $(logs "$T/unbound.log")"; exit 1; }
# The run script is root until it execs the program: wait for that.
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$(pipe_pid "$1")/status" 2> /dev/null; }
for st in nft-set route-sync; do
	wait_until 20 sh -c "[ \"\$(awk '/^Uid:/ { print \$2 }' /proc/$(pipe_pid $st)/status)\" != 0 ]"
	p=$(pipe_pid $st)
	eq "$st runs as the main user" "$(uid_of $st)" "$(id -u dnstap-bgp)"
	eq "$st has CAP_NET_ADMIN only" "$(awk '/^CapEff:/ { print $2 }' "/proc/$p/status" 2> /dev/null)" 0000000000001000
done

# 1. Queries, kept fresh once a second.
spawn queries sh -c "while :; do for n in video.demo.test clip.video.demo.test chat.demo.test; do
	for t in A AAAA; do dig +short +time=1 +tries=1 -p $DNS_PORT @127.0.0.1 \$n \$t; done; done; sleep 1; done"
wait_until 20 sh -c "[ \$($pipe_lx/ipcache -l -s $D/state/cache | wc -l) -ge 5 ]" ||
	fail "the cache did not fill: $(logs)"
same "after the queries"
eq "the five addresses" "$(cached | tr '\n' ' ')" "198.51.100.10 198.51.100.11 2001:db8:100::10 2001:db8:200::20 203.0.113.20 "

# 2. kill -9 of each kernel sink, and of fan-out.
for st in nft-set route-sync fan-out; do
	before_set=$(in_set) before_table=$(in_table)
	old=$(pipe_pid $st)
	kill -9 "$old"
	eq "kill -9 $st: the set is not flushed" "$(in_set)" "$before_set"
	eq "kill -9 $st: the table is not flushed" "$(in_table)" "$before_table"
	restarted() { p=$(pipe_pid "$st"); [ -n "$p" ] && [ "$p" != "$old" ]; }
	wait_until 20 restarted || fail "kill -9 $st: not restarted"
	same "kill -9 $st, restarted"
done
check "the restarted nft-set was sent the set by fan-out" grep -q 'routes.nft-set: sent the set' "$D/log/fan-out/current"

# 3. chat.demo.test leaves the list: withdrawn everywhere.
printf 'other.demo.test\n' > "$D/lists/social.list"
pipe_compile
wait_until 30 sh -c "! $pipe_lx/ipcache -l -s $D/state/cache | grep -q chat.demo.test" ||
	fail "ipcache did not drop chat.demo.test: $(logs)"
same "after the list change"
eq "chat's addresses are gone" "$(in_set | grep -c -e 203.0.113.20 -e 2001:db8:200::20)" 0

# 4. Queries stop: everything expires.
kill "$(pid_of queries)"
if wait_until 60 empty_all; then
	pass "after expiry: the cache, the set and the table are empty"
else
	fail "after expiry: cache $(cached | tr '\n' ' '), set $(in_set | tr '\n' ' '), table $(in_table | tr '\n' ' ')"
fi
check "nft-set's metrics file" test -s "$D/run/metrics/dnstap-bgp-nft-set.prom"
done_testing
