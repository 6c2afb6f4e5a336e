# tests/lib.sh: sourced by every tests/*/*.test script.
#
# Results are lines "pass: NAME" / "fail: NAME: why" on stdout (tests/run
# counts them). Everything a test starts goes through spawn, and everything
# it creates under $T (a fresh directory), so the EXIT trap cleans up all.
# Network: loopback and namespaces the test creates, nothing else.
set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILD:=$TOP/build}"
: "${BIN:=$BUILD/bin}"
export TOP BUILD BIN

T=$(mktemp -d "${TMPDIR:-/tmp}/dnstap-bgp-test.XXXXXX")
_pids=
_netns=
_cleanup_hooks=
_failed=0

pass() { echo "pass: $*"; }
fail() { echo "fail: $*"; _failed=$((_failed + 1)); }
# skip NAME: why: counted apart, never as a pass.
skip() { echo "skip: $*"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
	_name=$1
	shift
	if "$@" > "$T/.check.out" 2>&1; then
		pass "$_name"
	else
		fail "$_name: $* -> $(tail -c 600 "$T/.check.out" | tr '\n' '|')"
	fi
}

# eq NAME GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$(printf %s "$2" | head -c 800 | tr '\n' '|')', want '$(printf %s "$3" | head -c 800 | tr '\n' '|')'"
	fi
}

# same_file NAME GOT_FILE WANT_FILE: a unified diff on failure.
same_file() {
	if diff -u "$3" "$2" > "$T/.diff" 2>&1; then
		pass "$1"
	else
		fail "$1: $(head -c 1500 "$T/.diff" | tr '\n' '|')"
	fi
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; 0 once it succeeds.
wait_until() {
	_end=$(( $(date +%s) + $1 ))
	shift
	while ! "$@" > /dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

# spawn NAME CMD...: runs CMD in the background, logs to $T/NAME.log,
# remembers the pid in $T/NAME.pid and for cleanup.
spawn() {
	_n=$1
	shift
	"$@" > "$T/$_n.log" 2>&1 &
	echo $! > "$T/$_n.pid"
	_pids="$_pids $!"
}

pid_of() { cat "$T/$1.pid"; }

# netns NAME: creates a namespace with lo up, deleted at exit.
netns() {
	ip netns del "$1" 2>/dev/null
	ip netns add "$1" && ip -n "$1" link set lo up && _netns="$_netns $1"
}

at_exit() { _cleanup_hooks="$_cleanup_hooks
$*"; }

# need CMD...: a missing tool is a failure (scripts/deps installs them all).
need() {
	for _c in "$@"; do
		if ! command -v "$_c" > /dev/null 2>&1; then
			fail "need $_c: not installed (run scripts/deps)"
			exit 1
		fi
	done
}

# other_user_bin PROG...: copies of the programs in $T/bin, which another
# user can run, and BIN pointing there. A test that runs a program as
# nobody calls it: the checkout may sit under a directory only root enters
# (/root, a mktemp -d), where nobody cannot reach $BIN.
other_user_bin() {
	mkdir -p "$T/bin" || exit 111
	for _p in "$@"; do
		cp "$BIN/$_p" "$T/bin/$_p" || exit 111
	done
	chmod 755 "$T" "$T/bin" "$T"/bin/*
	BIN=$T/bin
}

_cleanup() {
	eval "$_cleanup_hooks"
	for _p in $_pids; do kill "$_p" 2>/dev/null; done
	sleep 0.2
	for _p in $_pids; do kill -9 "$_p" 2>/dev/null; done
	for _ns in $_netns; do ip netns pids "$_ns" 2>/dev/null | xargs -r kill -9; ip netns del "$_ns" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# done_testing: the script's exit status.
done_testing() { [ "$_failed" -eq 0 ]; }
