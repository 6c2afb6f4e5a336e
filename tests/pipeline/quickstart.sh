# tests/pipeline/quickstart.sh: run by quickstart.test as PID 1 of new
# mount, network and PID namespaces. It lays overlays on /etc, /usr, /var
# and /run, runs make install PREFIX=/usr SYSCONFDIR=/etc as the install
# step says (or, with QUICKSTART_FROM=package, as tests/deb/package.test
# runs it, uses the Debian package installed below the overlays), then the
# quick start's blocks from the installed guide
# (/usr/share/doc/dnstap-bgp/operations.md), in order:
#   ```sh quickstart           run as written (sh -e)
#   ```sh quickstart-runit     run as written (sh -e)
#   ```sh quickstart-wait      run as written until it exits 0 (30 s at most)
#   ```sh quickstart-site      the operator's own values: this test's instead
#   ```sh quickstart-packages  the packages named must be installed
# with the operator's parts in between: a router (BIRD on 127.0.0.1:179),
# nsd serving the demo's zone, the list edited to hold its names, unbound
# (as its user unbound, with Debian's include of unbound.conf.d) restarted
# after the start. Then it asks unbound for listed names and checks the
# routes in BIRD, dnstap-bgp status and check, and a stage's restart.
. "$TOP/tests/lib.sh"

for d in etc usr var run; do
	mkdir -p "$T/ov/$d/up" "$T/ov/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/up,workdir=$T/ov/$d/work" "/$d" ||
		{ fail "unable to lay an overlay on /$d"; exit 1; }
done
ip link set lo up
ip addr add 127.0.0.2/8 dev lo 2> /dev/null
chmod 755 "$T"

# What the package made: the quick start's steps for users and
# directories must find them and leave them as they are (the resolver's
# user joining the group dnstap-bgp is the quick start's own step).
made() {
	for u in dnstap-bgp dnstap-bgp-announce dnstap-bgp-serve dnstap-bgp-pull dnstap-bgp-hold; do
		echo "$(getent passwd "$u") $(id -Gn "$u")"
	done
	getent group dnstap-bgp-sync
	stat -c '%n %U:%G %a' /var/lib/dnstap-bgp /var/log/dnstap-bgp
}
case ${QUICKSTART_FROM:-source} in
source)
	if ! make -s -C "$TOP" install O="$BUILD" PREFIX=/usr SYSCONFDIR=/etc > "$T/install.log" 2>&1; then
		fail "make install PREFIX=/usr SYSCONFDIR=/etc: $(tail -n 5 "$T/install.log" | tr '\n' '|')"
		exit 1
	fi
	;;
package)
	if ! dpkg-query -W -f '${Status}' dnstap-bgp 2> /dev/null | grep -q 'install ok installed'; then
		fail "QUICKSTART_FROM=package: the package dnstap-bgp is not installed"
		exit 1
	fi
	made > "$T/made.before" 2>&1
	;;
*) fail "QUICKSTART_FROM=$QUICKSTART_FROM: source or package"; exit 1 ;;
esac
# The package's copy is compressed (Debian compresses documentation).
guide=/usr/share/doc/dnstap-bgp/operations.md
[ "${QUICKSTART_FROM:-source}" = source ] || guide=$guide.gz
check "the guide is installed" test -f "$guide"
check "the examples are installed" test -f /usr/share/doc/dnstap-bgp/examples/unbound.conf

# The blocks, one file each: $T/blocks/NN.KIND.
mkdir -p "$T/blocks"
zcat -f "$guide" | awk -v dir="$T/blocks" '
	in_block && /^```/ { in_block = 0; close(f); next }
	in_block { print > f; next }
	/^```sh quickstart/ { n++; f = sprintf("%s/%02d.%s", dir, n, $2); in_block = 1; printf "" > f }
'
nblocks=$(ls "$T/blocks" | wc -l)
check "the quick start has its blocks ($nblocks)" test "$nblocks" -ge 8

# The operator's parts.
zone() {
	mkdir -p "$T/nsd"
	cp "$TOP/scripts/demo-setup/demo.test.zone" "$T/nsd/demo.test.zone"
	cat > "$T/nsd/nsd.conf" << EOF
server:
	ip-address: 127.0.0.1@5353
	port: 5353
	username: ""
	chroot: ""
	zonesdir: "$T/nsd"
	database: ""
	zonelistfile: "$T/nsd/zone.list"
	pidfile: ""
	xfrdfile: "$T/nsd/xfrd"
	logfile: "$T/nsd/nsd.log"
	server-count: 1
remote-control:
	control-enable: no
zone:
	name: demo.test
	zonefile: demo.test.zone
EOF
	spawn nsd nsd -d -c "$T/nsd/nsd.conf"
}
router() {
	cat > "$T/bird.conf" << EOF
log "$T/bird.log" all;
router id 127.0.0.1;
protocol device { }
protocol bgp dnstap_bgp {
	local 127.0.0.1 as 65000;
	neighbor 127.0.0.2 as 65000;
	multihop;
	passive on;
	graceful restart on;
	ipv4 { import all; export none; };
	ipv6 { import all; export none; extended next hop on; };
}
EOF
	spawn bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
}
# unbound as Debian runs it (as its user, including unbound.conf.d), on
# 127.0.0.1:53, resolving demo.test from nsd.
resolver() {
	cat > /etc/unbound/test.conf << EOF
server:
	interface: 127.0.0.1
	do-daemonize: no
	username: "unbound"
	chroot: ""
	pidfile: ""
	use-syslog: no
	logfile: ""
	do-ip6: no
	do-not-query-localhost: no
	module-config: "iterator"
	local-zone: "." refuse
	local-zone: "test." nodefault
	local-zone: "demo.test." transparent
stub-zone:
	name: "demo.test."
	stub-addr: 127.0.0.1@5353
include-toplevel: "/etc/unbound/unbound.conf.d/dnstap-bgp.conf"
EOF
	spawn unbound unbound -d -c /etc/unbound/test.conf
}
site() {
	b=/etc/dnstap-bgp/bgp-announce
	rm -f "$b"/PEER_*
	echo r1 > "$b/PEERS"
	echo 127.0.0.1 > "$b/PEER_r1_ADDRESS"
	echo 65000 > "$b/LOCAL_AS"
	echo 65000 > "$b/REMOTE_AS"
	echo 127.0.0.2 > "$b/ROUTER_ID"
	echo 127.0.0.2 > "$b/SOURCE"
	echo 127.0.0.2 > "$b/NEXT_HOP"
	echo 2001:db8:ffff::2 > "$b/NEXT_HOP6"
	# demo.test answers from the documentation ranges, which ipcache
	# refuses by default.
	echo '-s $DNSTAP_BGP_STATEDIR/cache -d $DNSTAP_BGP_STATEDIR/domains.cdb -p $DNSTAP_BGP_RUNDIR/peer -a 198.51.100.0/24 -a 203.0.113.0/24 -a 2001:db8::/32' \
		> /etc/dnstap-bgp/env/IPCACHE_OPTS
}
established() { birdc -s "$T/bird.ctl" show protocols dnstap_bgp | grep -q Established; }
routes() { birdc -s "$T/bird.ctl" show route | awk '/^[0-9a-f:.]+\/[0-9]+ / { print $1 }' | sort | tr '\n' ' '; }

zone
router
ok=1
for f in "$T"/blocks/*; do
	kind=${f##*.}
	name="block ${f##*/}: $(head -n 1 "$f")"
	case $kind in
	quickstart-packages)
		for p in $(sed 's/.*--no-install-recommends//' "$f"); do
			dpkg-query -W -f '${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' ||
				{ fail "$name: package $p is not installed (scripts/deps)"; ok=; }
		done
		continue ;;
	quickstart-site) site; pass "$name: this test's router"; continue ;;
	esac
	# The operator edits the list before compiling it.
	if grep -q 'domain-update' "$f"; then
		printf '# the demo zone\nvideo.demo.test\nchat.demo.test\n' > /etc/dnstap-bgp/domains.list
	fi
	if [ "$kind" = quickstart-wait ]; then
		resolver
		wait_until 20 dig +short +time=1 +tries=1 @127.0.0.1 ns.demo.test A ||
			fail "unbound does not answer: $(tail -n 5 "$T/unbound.log" | tr '\n' '|')"
		if wait_until 40 sh -e "$f"; then
			pass "$name: exits 0 (everything up)"
		else
			sh -e "$f" > "$T/last" 2>&1
			fail "$name: $(tr '\n' '|' < "$T/last")"
			ok=
		fi
		continue
	fi
	if (cd / && sh -e "$f") > "$T/block.out" 2>&1; then
		pass "$name"
	else
		fail "$name: exit $?: $(tail -n 8 "$T/block.out" | tr '\n' '|')"
		ok=
		break
	fi
done
[ -n "$ok" ] || { sh -c 'tail -n 3 /var/log/dnstap-bgp/*/current' 2>&1 | sed 's/^/    /'; exit 1; }
if [ -f "$T/made.before" ]; then
	made > "$T/made.after" 2>&1
	same_file "the quick start kept the package's users, groups and directories" "$T/made.after" "$T/made.before"
fi

check "the session is established" wait_until 30 established
for q in "video.demo.test A" "video.demo.test AAAA" "clip.video.demo.test A" "chat.demo.test A" "chat.demo.test AAAA" "other.demo.test A"; do
	# shellcheck disable=SC2086
	dig +short +time=2 +tries=2 @127.0.0.1 $q > /dev/null
done
want="198.51.100.10/32 198.51.100.11/32 2001:db8:100::10/128 2001:db8:200::20/128 203.0.113.20/32 "
has_routes() { [ "$(routes)" = "$want" ]; }
if wait_until 30 has_routes; then
	pass "BIRD holds the routes of the listed names"
else
	fail "BIRD holds '$(routes)', want '$want': $(sh -c 'tail -n 3 /var/log/dnstap-bgp/*/current' 2>&1 | tr '\n' '|')"
fi
users=$(for s in dnstap-read domain-match ipcache fan-out bgp-announce; do
	p=$(sv status "/etc/service/$s" | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p')
	printf '%s=%s ' "$s" "$(ps -o user= -p "$p")"; done)
eq "each stage as its user" "$users" "dnstap-read=dnstap-bgp domain-match=dnstap-bgp ipcache=dnstap-bgp fan-out=dnstap-bgp bgp-announce=dnstap-bgp-announce "
check "unbound runs as unbound and reached the socket" sh -c "ps -o user= -C unbound | grep -qx unbound"
entries() { grep -q '^dnstap_bgp_ipcache_entries 5$' /run/dnstap-bgp/metrics/dnstap-bgp-ipcache.prom; }
check "ipcache's textfile counts the five entries" wait_until 30 entries
dnstap-bgp status > "$T/status" 2>&1
eq "dnstap-bgp status: exit 0" "$?" 0
check "dnstap-bgp status: the five stages up under runit" sh -c "grep -c '^\(dnstap-read\|domain-match\|ipcache\|fan-out\|bgp-announce\)  *up ' '$T/status' | grep -qx 5"
check "dnstap-bgp status: the peer established" grep -q '^r1  *127\.0\.0\.1  *established' "$T/status"
eq "dnstap-bgp check after the start" "$(dnstap-bgp check 2>&1)" "/etc/dnstap-bgp: no problem found"
eq "dnstap-bgp routes: the five, to r1" "$(dnstap-bgp routes | awk 'NR > 1 { print $1, $NF }' | tr '\n' ' ')" \
	"198.51.100.10/32 r1 198.51.100.11/32 r1 203.0.113.20/32 r1 2001:db8:100::10/128 r1 2001:db8:200::20/128 r1 "
old=$(sv status /etc/service/ipcache | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
kill -9 "$old"
restarted() { p=$(sv status /etc/service/ipcache | sed -n 's/^run: .*(pid \([0-9]*\)).*/\1/p'); [ -n "$p" ] && [ "$p" != "$old" ]; }
check "runsvdir restarts a killed stage" wait_until 20 restarted
check "the routes stay" has_routes
cat "$T/status"
done_testing
