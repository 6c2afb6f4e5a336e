# tests/pipeline/setup.sh: the start shared by scenario.sh and sync.sh: the
# supervisor's tools, the directory $D (and the namespace PIPE_NETNS when
# set), the demo's set-up functions, the toolkit installed into $D.
. "$TOP/tests/lib.sh"
need make bird birdc
case $SUP in
runit) need runsvdir sv svlogd chpst ;;
s6) need s6-svscan s6-svc s6-svstat s6-svscanctl s6-log s6-setuidgid ;;
esac

[ -z "${PIPE_NETNS:-}" ] || netns "$PIPE_NETNS" || { fail "unable to create namespace $PIPE_NETNS"; exit 1; }
D=$T/d
mkdir -p "$D"
chmod 755 "$T" # the toolkit runs as nobody
start() { spawn "$@"; }

. "$TOP/tests/pipeline/users.sh"
PIPE_USERS=own

# pipe_peer PORT: a peer instance (a real ipcache and sync-serve on PORT,
# in $T/peer) that the toolkit under test pulls from; peer_answer LINE
# feeds its ipcache an answer record.
pipe_peer() {
	P=$T/peer
	mkdir -p "$P"
	mkfifo "$P/in"
	spawn peer-ipcache sh -c "exec '$pipe_lx/ipcache' -a 198.51.100.0/24 -a 203.0.113.0/24 -a 2001:db8::/32 \
		-s '$P/cache' -p '$P/peer' -d '$D/state/domains.cdb' < '$P/in' > /dev/null"
	spawn peer-hold sh -c "exec sleep 1000 > '$P/in'"
	wait_until 20 test -p "$P/peer" -a -f "$P/cache/data.mdb" || fail "the peer's ipcache did not start"
	spawn peer-serve "$pipe_lx/sync-serve" -s "$P/cache" -d "$D/state/domains.cdb" -p "$P/peer" \
		-l "127.0.0.1:$1"
}
peer_answer() { echo "$*" > "$T/peer/in"; }
pipe_users || { fail "unable to create the toolkit's users"; exit 1; }
. "$TOP/scripts/demo-setup/lib.sh"
at_exit 'pipe_stop "$(cat "$T/supervisor.pid" 2> /dev/null)" > /dev/null 2>&1'

pipe_ports
if ! pipe_install; then
	fail "make install: $(tail -n 5 "$D/install.log" | tr '\n' '|')"
	exit 1
fi
pass "installed and configured"
