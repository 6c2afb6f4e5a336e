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
. "$TOP/scripts/demo-setup/lib.sh"
at_exit 'pipe_stop "$(cat "$T/supervisor.pid" 2> /dev/null)" > /dev/null 2>&1'

if ! pipe_install; then
	fail "make install: $(tail -n 5 "$D/install.log" | tr '\n' '|')"
	exit 1
fi
pass "installed and configured"
