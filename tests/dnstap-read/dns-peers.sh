# tests/dnstap-read/dns-peers.sh: sourced by the dnstap-read tests (after
# tests/lib.sh) to run the real DNS servers on loopback.
#
# nsd serves the test zone example.test on 127.0.0.1; resolvers stub both
# that zone and "." to it and send from 127.0.0.1 only, so no query ever
# leaves the machine. With DTR_IN="ip netns exec NS" the servers and dig
# run inside the network namespace NS.
DTR_IN=${DTR_IN:-}

# The zone: a plain name, a name with several A and AAAA, a CNAME chain of
# two links to it, a label with a dot inside, an AAAA-only name.
dtr_zone() {
	cat <<'EOF'
$ORIGIN example.test.
$TTL 300
@	SOA ns.example.test. admin.example.test. 1 3600 600 86400 300
@	NS ns
ns	A 127.0.0.1
www	A 192.0.2.1
multi	60 A 192.0.2.10
multi	60 A 192.0.2.11
multi	60 A 192.0.2.12
multi	60 AAAA 2001:db8::10
multi	60 AAAA 2001:db8::11
alias	CNAME mid
mid	CNAME multi
we\.ird	A 192.0.2.7
v6	AAAA 2001:db8::6
EOF
}

# nsd_start PORT: nsd for example.test on 127.0.0.1@PORT.
nsd_start() {
	mkdir -p "$T/nsd"
	dtr_zone > "$T/nsd/example.test.zone"
	cat > "$T/nsd/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$1
	port: $1
	zonesdir: "$T/nsd"
	database: ""
	zonelistfile: "$T/nsd/zone.list"
	xfrdfile: "$T/nsd/xfrd.state"
	xfrdir: "$T/nsd"
	pidfile: "$T/nsd/nsd.pid"
	logfile: "$T/nsd/nsd.log"
	username: ""
	chroot: ""
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: example.test.zone
EOF
	spawn nsd $DTR_IN nsd -d -c "$T/nsd/nsd.conf"
	wait_until 10 $DTR_IN dig +time=1 +tries=1 -p "$1" @127.0.0.1 ns.example.test A +short
}

# unbound_start PORT NSD_PORT DNSTAP_LINES: unbound on 127.0.0.1@PORT with
# the given dnstap: lines (socket path or ip, bidirectional...).
unbound_start() {
	mkdir -p "$T/unbound"
	cat > "$T/unbound/unbound.conf" <<EOF
server:
	interface: 127.0.0.1@$1
	port: $1
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$T/unbound"
	pidfile: "$T/unbound/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	outgoing-interface: 127.0.0.1
	do-not-query-localhost: no
	module-config: "iterator"
	num-threads: 1
	local-zone: "test." nodefault
	qname-minimisation: no
remote-control:
	control-enable: no
stub-zone:
	name: "example.test."
	stub-addr: 127.0.0.1@$2
stub-zone:
	name: "."
	stub-addr: 127.0.0.1@$2
dnstap:
	dnstap-enable: yes
	dnstap-send-identity: no
	dnstap-send-version: no
	dnstap-log-client-response-messages: yes
	dnstap-log-resolver-response-messages: yes
$3
EOF
	spawn unbound $DTR_IN unbound -d -c "$T/unbound/unbound.conf"
	wait_until 10 $DTR_IN dig +time=1 +tries=1 -p "$1" @127.0.0.1 ns.example.test A +short
}

# ask PORT NAME TYPE: one query through the resolver.
ask() {
	$DTR_IN dig +time=2 +tries=2 -p "$1" @127.0.0.1 "$2" "$3" > /dev/null
}

# The records the test zone must produce (TIME and TTL cut off, sorted).
dtr_expected() {
	cat <<'EOF'
answer alias.example.test 192.0.2.10 - mid.example.test,multi.example.test
answer alias.example.test 192.0.2.11 - mid.example.test,multi.example.test
answer alias.example.test 192.0.2.12 - mid.example.test,multi.example.test
answer alias.example.test 2001:db8::10 - mid.example.test,multi.example.test
answer alias.example.test 2001:db8::11 - mid.example.test,multi.example.test
answer multi.example.test 192.0.2.10 - -
answer multi.example.test 192.0.2.11 - -
answer multi.example.test 192.0.2.12 - -
answer multi.example.test 2001:db8::10 - -
answer multi.example.test 2001:db8::11 - -
answer v6.example.test 2001:db8::6 - -
answer we\046ird.example.test 192.0.2.7 - -
answer www.example.test 192.0.2.1 - -
EOF
}

# The queries that produce dtr_expected, with mixed case.
dtr_queries() {
	for q in "www.example.test A" "WWW.Example.TEST A" "multi.example.test A" \
	    "multi.example.test AAAA" "alias.example.test A" \
	    "ALIAS.example.test AAAA" "v6.example.test AAAA" \
	    'we\.ird.example.test A' "nxdomain.example.test A"; do
		# shellcheck disable=SC2086
		ask "$1" $q
	done
}

# records FILE: the records of FILE without TIME and TTL, unique, sorted.
records() {
	awk '$3 != "ns.example.test" { print $1, $3, $4, $6, $7 }' "$1" | sort -u
}
