# tests/dns-hold/peers.sh: sourced by the dns-hold tests (after
# tests/lib.sh). Real nsd serving example.test and real unbound resolving
# through it, on loopback ports that were free, and dns-hold in front.
#
# Nothing leaves the machine: unbound stubs example.test and "." to nsd and
# sends from 127.0.0.1 only.
DNSQ="python3 $TOP/tests/dns-hold/dnsq.py"
. "$TOP/tests/dnstap-read/dns-peers.sh"

free_port() { $DNSQ port; }

# The zone: plain, several A and AAAA, a CNAME chain, an odd label, 8
# addresses, a TXT set just over 512 bytes (truncation) and one of 63 KB
# (the largest answers TCP carries). It replaces dnstap-read's zone for
# nsd_start.
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
listed	A 198.51.100.1
listed	AAAA 2001:db8:1::1
other	A 198.51.100.2
chain	CNAME c1.listed
c1.listed	CNAME c2
c2	A 198.51.100.3
EOF
	i=1
	while [ $i -le 8 ]; do
		echo "eight	A 203.0.113.$i"
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 5 ]; do
		printf 'big	TXT "%03d%0147d"\n' $i 0
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 240 ]; do
		printf 'huge	TXT "%03d%0247d"\n' $i 0
		i=$((i + 1))
	done
}

# nsd_up: nsd for example.test (the zone above) on 127.0.0.1@$NSD_PORT, started
# by dnstap-read's helper with the zone above.
nsd_up() {
	NSD_PORT=$(free_port)
	nsd_start "$NSD_PORT"
}

# unbound_up NAME [EXTRA SERVER LINES]: unbound on 127.0.0.1@$UB_PORT
# (the port of the last one started), resolving through nsd.
unbound_up() {
	UB_PORT=$(free_port)
	mkdir -p "$T/$1"
	cat > "$T/$1/unbound.conf" <<EOF
server:
	interface: 127.0.0.1@$UB_PORT
	port: $UB_PORT
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$T/$1"
	pidfile: "$T/$1/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	outgoing-interface: 127.0.0.1
	do-not-query-localhost: no
	module-config: "iterator"
	num-threads: 1
	local-zone: "test." nodefault
	qname-minimisation: no
	nsid: "ascii_dnsholdtest"
${2:-}
remote-control:
	control-enable: no
stub-zone:
	name: "example.test."
	stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
	name: "."
	stub-addr: 127.0.0.1@$NSD_PORT
EOF
	spawn "$1" unbound -d -c "$T/$1/unbound.conf"
	wait_until 10 dig +time=1 +tries=1 -p "$UB_PORT" @127.0.0.1 ns.example.test A +short
}

# hold_up NAME ARGS...: dns-hold on 127.0.0.1:$DH_PORT with ARGS, records
# into $T/NAME.out, diagnostics into $T/NAME.log, metrics into
# $T/NAME.prom; waits until it listens.
hold_up() {
	_h=$1
	shift
	DH_PORT=$(free_port)
	spawn "$_h" sh -c "exec \"\$0\" -l 127.0.0.1:$DH_PORT -M \"$T/$_h.prom\" \"\$@\" > \"$T/$_h.out\"" \
		"$BIN/dns-hold" "$@"
	wait_until 10 grep -q 'info: listening on' "$T/$_h.log"
}

# dh_dig ARGS...: dig at dns-hold, short timeouts.
dh_dig() {
	dig +time=3 +tries=1 -p "$DH_PORT" @127.0.0.1 "$@"
}

# dh_stat NAME METRIC: SIGUSR1 to dns-hold NAME (it writes its -M file, then
# its stats lines), then the value of dnstap_bgp_dns_hold_METRIC, labels
# included ('held_total', 'released_total{why="ack"}').
dh_stat() {
	_n=$(grep -c 'stats:' "$T/$1.log")
	kill -USR1 "$(pid_of "$1")"
	wait_until 5 sh -c "[ \$(grep -c 'stats:' '$T/$1.log') -gt $_n ]"
	awk -v m="dnstap_bgp_dns_hold_$2" '$1 == m { print $2 }' "$T/$1.prom"
}

# The records of FILE without TIME (and marks), sorted.
records() {
	awk '$1 == "answer" && $3 != "ns.example.test" { print $1, $3, $4, $5, $6, $7 }' "$1" | sort
}
