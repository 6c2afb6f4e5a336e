# tests/sync/lock.sh: sourced after tests/lib.sh by the sync scripts that
# use fixed ports. The same script run from two checkouts at once would
# take the other's ports (and its peers would pull and push into the other
# run's instances), so it waits for the other run to finish instead.
exec 9> "${TMPDIR:-/tmp}/dnstap-bgp-sync-$(basename "$0").lock"
if ! flock -w 300 9; then
	fail "$(basename "$0"): another run holds its lock"
	exit 1
fi
