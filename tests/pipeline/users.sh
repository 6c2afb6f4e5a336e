# tests/pipeline/users.sh: sourced by the tests that run the toolkit as the
# users of its installed configuration.

# pipe_users: the users and the group the installed configuration names
# (docs/operations.md), made when missing; kept afterwards (other tests
# running at the same time use them too).
pipe_users() {
	getent group dnstap-bgp-sync > /dev/null || groupadd --system dnstap-bgp-sync 2> /dev/null ||
		getent group dnstap-bgp-sync > /dev/null || return 1
	for u in dnstap-bgp dnstap-bgp-announce dnstap-bgp-serve dnstap-bgp-pull dnstap-bgp-hold; do
		g=--gid=dnstap-bgp
		[ "$u" != dnstap-bgp ] || g=--user-group
		getent passwd "$u" > /dev/null || useradd --system "$g" --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin "$u" 2> /dev/null ||
			getent passwd "$u" > /dev/null || return 1
	done
	for u in dnstap-bgp dnstap-bgp-serve dnstap-bgp-pull; do
		id -Gn "$u" | grep -qw dnstap-bgp-sync || usermod -a -G dnstap-bgp-sync "$u" || return 1
	done
}
