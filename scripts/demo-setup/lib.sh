# scripts/demo-setup/lib.sh: the demo's set-up, shared with the end-to-end tests
# (tests/pipeline/) so that what the demo shows is what the tests check.
# Sourced; the caller sets TOP, D (its directory, created), SUP (runit or
# s6), the ports (pipe_ports picks free ones), optionally PIPE_ENABLE (optional
# services to run, see pipe_supervise), BUILD (the build
# directory to install from) and PIPE_NETNS (an existing network namespace
# for BIRD and the toolkit; the resolver stays outside and reaches
# dnstap-read through its socket file), and defines start NAME CMD... (runs
# a background daemon that the caller stops at exit). PIPE_ZONE_EXTRA names
# a file of more records for the zone demo.test (the benchmark's names).
#
# Everything lives under $D; the daemons listen on 127.0.0.1 (BIRD) and the
# toolkit speaks BGP from 127.0.0.2. Nothing leaves loopback.

pipe_tmpl=$TOP/scripts/demo-setup

# pipe_ports: DNS_PORT, NSD_PORT, BGP_PORT, SERVE_PORT, PEER_PORT and
# HOLD_PORT (dns-hold's, see pipe_hold) that are not set yet get ports that no socket uses on this machine now (TCP or
# UDP, 20000-59999 at random): the demo and the tests can run side by side
# with others.
pipe_ports() {
	for pipe_v in DNS_PORT NSD_PORT BGP_PORT SERVE_PORT PEER_PORT HOLD_PORT; do
		eval "[ -z \"\${$pipe_v:-}\" ]" || continue
		while :; do
			pipe_p=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
			case " ${pipe_taken:-} " in *" $pipe_p "*) continue ;; esac
			ss -Hantu "( sport = :$pipe_p )" | grep -q . || break
		done
		pipe_taken="${pipe_taken:-} $pipe_p"
		eval "$pipe_v=$pipe_p"
	done
}

# pipe_put DIR NAME VALUE: one envdir file.
pipe_put() {
	mkdir -p "$1"
	printf '%s\n' "$3" > "$1/$2"
}

# pipe_install: make install into $D/usr (configuration in $D/etc), then the
# demo's settings: everything under $D (metrics in $D/run/metrics), run as
# nobody unless PIPE_USERS=own, two tags.
pipe_install() {
	chmod 755 "$D"
	make -s -C "$TOP" install ${BUILD:+O="$BUILD"} PREFIX="$D/usr" SYSCONFDIR="$D/etc" > "$D/install.log" 2>&1 ||
		return 1
	pipe_lx=$D/usr/libexec/dnstap-bgp
	pipe_conf=$D/etc/dnstap-bgp
	e=$pipe_conf/env
	pipe_put "$e" DNSTAP_BGP_RUNDIR "$D/run"
	pipe_put "$e" DNSTAP_BGP_STATEDIR "$D/state"
	pipe_put "$e" DNSTAP_BGP_LOGDIR "$D/log"
	pipe_put "$e" DNSTAP_BGP_NETNS "${PIPE_NETNS:-}"
	pipe_put "$e" DNSTAP_READ_OPTS '-l $DNSTAP_BGP_RUNDIR/dnstap.sock'
	# demo.test answers from the documentation ranges, which ipcache
	# refuses by default: allow them here.
	pipe_put "$e" IPCACHE_OPTS '-s $DNSTAP_BGP_STATEDIR/cache -d $DNSTAP_BGP_STATEDIR/domains.cdb -p $DNSTAP_BGP_RUNDIR/peer -a 198.51.100.0/24 -a 203.0.113.0/24 -a 2001:db8::/32'
	b=$pipe_conf/bgp-announce
	rm -f "$b"/*
	# The users: the installed ones (PIPE_USERS=own: they must exist,
	# see pipe_users in tests/pipeline/setup.sh), or nobody for all.
	if [ "${PIPE_USERS:-}" = own ]; then
		pipe_put "$e" DNSTAP_BGP_USER dnstap-bgp
		pipe_put "$b" DNSTAP_BGP_USER dnstap-bgp-announce
	else
		pipe_put "$e" DNSTAP_BGP_USER nobody
		pipe_put "$e" DNSTAP_BGP_SYNC_GROUP none
		for s in bgp-announce sync-serve sync-pull dns-hold; do pipe_put "$pipe_conf/$s" DNSTAP_BGP_USER nobody; done
	fi
	pipe_put "$b" PEERS bird
	pipe_put "$b" PEER_bird_ADDRESS 127.0.0.1
	pipe_put "$b" PEER_bird_PORT "$BGP_PORT"
	pipe_put "$b" LOCAL_AS 65000
	pipe_put "$b" REMOTE_AS 65000
	pipe_put "$b" SOURCE 127.0.0.2
	pipe_put "$b" ROUTER_ID 127.0.0.2
	pipe_put "$b" NEXT_HOP 127.0.0.2
	pipe_put "$b" NEXT_HOP6 2001:db8:ffff::2
	pipe_put "$b" TAGS "video social"
	pipe_put "$b" TAG_video_NEXT_HOP 127.0.0.3
	pipe_put "$b" TAG_video_COMMUNITIES "65000:100"
	pipe_put "$b" TAG_social_COMMUNITIES "65000:200"
	pipe_put "$b" TAG_social_LARGE_COMMUNITIES "65000:2:1"
	mkdir -p "$D/lists" "$D/state"
	cp "$pipe_tmpl/video.list" "$pipe_tmpl/social.list" "$D/lists/"
	pipe_compile
}

# pipe_compile: the lists into the cdb that domain-match and ipcache map.
pipe_compile() {
	"$pipe_lx/domain-compile" -o "$D/state/domains.cdb" \
	    video="$D/lists/video.list" social="$D/lists/social.list"
}

pipe_subst() {
	sed -e "s|@DIR@|$D|g" -e "s|@DNS_PORT@|$DNS_PORT|g" -e "s|@NSD_PORT@|$NSD_PORT|g" \
	    -e "s|@BGP_PORT@|$BGP_PORT|g" -e "s|@DNSTAP_SOCKET@|$D/run/dnstap.sock|g" \
	    "$pipe_tmpl/$1" > "$D/$1"
}

# pipe_router: BIRD on 127.0.0.1:$BGP_PORT.
pipe_router() {
	pipe_subst bird.conf
	start bird ${PIPE_NETNS:+ip netns exec "$PIPE_NETNS"} bird -f -c "$D/bird.conf" -s "$D/bird.ctl" -P "$D/bird.pid"
}

# pipe_resolver: nsd serving demo.test, unbound resolving it with DNSTap.
pipe_resolver() {
	pipe_subst nsd.conf
	pipe_subst unbound.conf
	cat "$pipe_tmpl/demo.test.zone" ${PIPE_ZONE_EXTRA:+"$PIPE_ZONE_EXTRA"} > "$D/demo.test.zone"
	start nsd nsd -d -c "$D/nsd.conf"
	start unbound unbound -d -c "$D/unbound.conf"
}

# pipe_hold [OPTION...]: dns-hold, the second collector, in front of
# unbound: it listens on 127.0.0.1:$HOLD_PORT, asks unbound, holds the
# answers of listed names until fan-out acknowledges their routes, and
# writes its records into the pipe dnstap-read writes too. Its options
# (DNS_HOLD_OPTS) with these OPTIONs added; its service enabled (call
# before pipe_supervise).
pipe_hold() {
	pipe_put "$pipe_conf/env" DNS_HOLD_OPTS "-l 127.0.0.1:$HOLD_PORT -s 127.0.0.1:$DNS_PORT -d \$DNSTAP_BGP_STATEDIR/domains.cdb${1:+ $*}"
	PIPE_ENABLE="${PIPE_ENABLE:-} dns-hold"
}

# pipe_holding: dns-hold has the pipeline's acknowledgements (a live sink:
# it holds listed answers from now on).
pipe_holding() { grep -q ': acknowledging' "$D/log/dns-hold/current" 2> /dev/null; }

pipe_birdc() { birdc -s "$D/bird.ctl" "$@"; }

# pipe_added PREFIX: when BIRD first added the route PREFIX (its log, with
# microseconds: debug { routes } in bird.conf), in microseconds since the
# epoch; nothing while it has not.
pipe_added() {
	pipe_t=$(awk -v p="$1" '$3 == "<TRACE>" && $5 == ">" && $6 == "added" {
		for (i = 7; i <= NF && i <= 8; i++) if ($i == p) { print $1 " " $2; exit } }' "$D/bird.log")
	[ -n "$pipe_t" ] && date -d "$pipe_t" +%s%6N
}

# pipe_routes: BIRD's table, one sorted line per route:
#   PREFIX next-hop=ADDR comm=(a,b)... lcomm=(a,b,c)...
pipe_routes() {
	pipe_birdc show route all | awk '
	function out() { if (p != "") print p " next-hop=" nh " comm=" c " lcomm=" l }
	/^[0-9a-f:.]+\/[0-9]+ / { out(); p = $1; nh = "-"; c = "-"; l = "-"; next }
	/^[ \t]+BGP\.next_hop:/ { nh = $2; for (i = 3; i <= NF; i++) nh = nh "," $i; next }
	/^[ \t]+BGP\.community:/ { c = ""; for (i = 2; i <= NF; i++) c = c $i; next }
	/^[ \t]+BGP\.large_community:/ { l = ""; for (i = 2; i <= NF; i++) l = l $i; next }
	END { out() }' | sort
}

# pipe_supervise: the four services (and their loggers) under $SUP, and
# those named in PIPE_ENABLE (sync-serve, sync-pull: installed down) too.
pipe_supervise() {
	mkdir -p "$D/service"
	cp -R "$D/usr/share/dnstap-bgp/$SUP/." "$D/service/"
	for s in ${PIPE_ENABLE:-}; do rm -f "$D/service/$s/down"; done
	case $SUP in
	runit) start supervisor runsvdir -P "$D/service" ;;
	s6) start supervisor s6-svscan "$D/service" ;;
	esac
}

# pipe_pid STAGE: the pid of the running stage, or nothing.
pipe_pid() {
	case $SUP in
	runit) sv status "$D/service/$1" 2> /dev/null | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p' ;;
	s6) s6-svstat -o pid "$D/service/$1" 2> /dev/null | grep -v '^-1$' ;;
	esac
}

# pipe_alive PID: the process exists and is not a zombie.
pipe_alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2> /dev/null; }

# pipe_stop: every stage down, then the supervisor gone (its pid in $1),
# and its per-service supervisors (runsv, s6-supervise) too: they finish on
# their own clock and write under $D until they do.
pipe_stop() {
	pipe_kids=
	[ -z "${1:-}" ] || pipe_kids=$(pgrep -P "$1" | tr '\n' ' ')
	case $SUP in
	runit)
		sv -w 10 force-stop "$D"/service/* > /dev/null 2>&1
		sv exit "$D"/service/* "$D"/service/*/log > /dev/null 2>&1
		;;
	s6)
		s6-svc -wD -T 10000 -d "$D"/service/* > /dev/null 2>&1
		s6-svscanctl -t "$D/service" > /dev/null 2>&1
		;;
	esac
	[ -z "${1:-}" ] || kill "$1" 2> /dev/null
	for p in ${1:-} $pipe_kids; do
		n=150
		while pipe_alive "$p" && [ "$n" -gt 0 ]; do
			sleep 0.1
			n=$((n - 1))
		done
	done
	:
}
