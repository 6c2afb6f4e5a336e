# tests/dns-hold/chain.sh: the whole path from a client's query to BIRD,
# sourced after tests/lib.sh and tests/dns-hold/peers.sh by route.test and
# bench/dns-hold-route:
#
#   client -> dns-hold -> unbound -> nsd
#             dns-hold > answers > domain-match > matched > ipcache > routes
#             > fan-out > routes.bgp > bgp-announce -> BIRD
#             bgp-announce > ack.bgp > fan-out > ack > dns-hold
#
# joined by named pipes that every stage opens read-write, as
# dnstap-bgp-run does. BIRD logs every route it adds with microseconds.
# Addresses 127.X.Y.1 (BIRD) and .2 (bgp-announce), X.Y from the pid.

CHAIN_NET=127.$((100 + $$ % 100)).$(($$ / 100 % 250))
ROUTEFIRST="python3 $TOP/tests/dns-hold/routefirst.py"

# chain_bird: BIRD listening for bgp-announce, importing IPv4 and IPv6.
chain_bird() {
	BGP_PORT=$(free_port)
	cat > "$T/bird.conf" <<EOF
router id $CHAIN_NET.1;
timeformat log "%F %T.%6f";
log "$T/bird.routes" all;
protocol device { }
protocol bgp toolkit {
	local $CHAIN_NET.1 port $BGP_PORT as 65000;
	neighbor $CHAIN_NET.2 as 65000;
	multihop;
	passive on;
	connect delay time 1;
	debug { states, routes };
	ipv4 { import all; export none; };
	ipv6 { import all; export none; extended next hop on; };
}
EOF
	spawn bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
	wait_until 30 birdc -s "$T/bird.ctl" show status
}

chain_established() { birdc -s "$T/bird.ctl" show protocols toolkit | grep -q Established; }

# chain_stage NAME: the stage's command line (run by spawn or a run script).
chain_stage() {
	case $1 in
	domain-match) echo "exec $BIN/domain-match -c -d $T/list.cdb 0<> $T/answers 1<> $T/matched" ;;
	ipcache) echo "exec $BIN/ipcache -s $T/store -d $T/list.cdb -p $T/peer -a 10.0.0.0/8 -a 2001:db8::/32 0<> $T/matched 1<> $T/routes" ;;
	fan-out) echo "exec $BIN/fan-out -A $T/ack $T/routes.bgp:$T/ack.bgp 0<> $T/routes > /dev/null" ;;
	bgp-announce)
		echo "PEERS=bird PEER_bird_ADDRESS=$CHAIN_NET.1 PEER_bird_PORT=$BGP_PORT SOURCE=$CHAIN_NET.2" \
		    "ROUTER_ID=$CHAIN_NET.2 LOCAL_AS=65000 REMOTE_AS=65000 NEXT_HOP=$CHAIN_NET.2" \
		    "NEXT_HOP6=2001:db8:ffff::2 exec $BIN/bgp-announce -A $T/ack.bgp ${CHAIN_SETTLE:+-D $CHAIN_SETTLE} 0<> $T/routes.bgp > /dev/null"
		;;
	dns-hold) echo "exec $BIN/dns-hold -l 127.0.0.1:$DH_PORT -s 127.0.0.1:$UB_PORT -d $T/list.cdb -c -a $T/ack -M $T/dns-hold.prom ${CHAIN_HOLD_OPTS:-} 1<> $T/answers" ;;
	esac
}

# chain_fifos: the pipes between the stages.
chain_fifos() {
	mkdir -p "$T/store"
	for f in answers matched routes peer routes.bgp ack.bgp ack; do
		[ -p "$T/$f" ] || mkfifo "$T/$f"
	done
}

# chain_up: every stage, each under spawn; waits until BGP is established
# and dns-hold waits for the pipeline's acknowledgements.
chain_up() {
	chain_fifos
	DH_PORT=$(free_port)
	for s in domain-match ipcache fan-out bgp-announce dns-hold; do
		spawn "$s" sh -c "$(chain_stage "$s")"
	done
	wait_until 30 chain_established || return 1
	wait_until 30 grep -q "$T/ack: acknowledging" "$T/dns-hold.log"
}

# chain_names PREFIX N SLOT: a zone fragment of N new names
# PREFIXi.example.test and the queries for them on $T/PREFIX.queries
# ("NAME TYPE"): in turn an A name, an AAAA name, a CNAME chain of two
# links to an A, and a name with 8 A addresses; addresses unique
# (10.SLOT.0.0/16, 2001:db8:SLOT::/48). The names to list go to
# $T/PREFIX.list: the question's, for a chain the link's in the middle
# (matched through the chain: -c).
chain_names() {
	_p=$1
	_slot=$3
	: > "$T/$_p.queries"
	: > "$T/$_p.list"
	_i=0
	_a=0
	while [ "$_i" -lt "$2" ]; do
		_n=$_p$_i
		if [ $((_i % 4)) -eq 2 ]; then
			echo "$_n.hop.example.test" >> "$T/$_p.list"
		else
			echo "$_n.example.test" >> "$T/$_p.list"
		fi
		case $((_i % 4)) in
		0)
			echo "$_n A 10.$_slot.$((_a / 250)).$((_a % 250 + 1))"
			_a=$((_a + 1))
			echo "$_n.example.test A" >> "$T/$_p.queries"
			;;
		1)
			echo "$_n AAAA 2001:db8:$_slot::$(printf %x $((_i + 1)))"
			echo "$_n.example.test AAAA" >> "$T/$_p.queries"
			;;
		2)
			echo "$_n CNAME $_n.hop"
			echo "$_n.hop CNAME $_n.end"
			echo "$_n.end A 10.$_slot.$((_a / 250)).$((_a % 250 + 1))"
			_a=$((_a + 1))
			echo "$_n.example.test A" >> "$T/$_p.queries"
			;;
		3)
			_k=0
			while [ "$_k" -lt 8 ]; do
				echo "$_n A 10.$_slot.$((_a / 250)).$((_a % 250 + 1))"
				_a=$((_a + 1))
				_k=$((_k + 1))
			done
			echo "$_n.example.test A" >> "$T/$_p.queries"
			;;
		esac
		_i=$((_i + 1))
	done
}
