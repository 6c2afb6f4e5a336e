# bash completion for dnstap-bgp: the dispatcher's commands and programs,
# each program's options (read from its own -h, so they never fall behind
# it), the peers' tags for "routes", the stages for dnstap-bgp-run.
# Installed as .../bash-completion/completions/dnstap-bgp, and under the
# programs' names for an operator who puts the libexec directory in PATH
# (not dnstap-read: BIND has a tool of that name).

_dnstap_bgp_libexec=@LIBEXECDIR@
_dnstap_bgp_confdir=@CONFDIR@

# _dnstap_bgp_opts PROGRAM: "-X" per option of PROGRAM's usage, and in
# _dnstap_bgp_args those that take an argument.
_dnstap_bgp_opts() {
	local usage
	usage=$("$_dnstap_bgp_libexec/$1" -h 2>&1 < /dev/null)
	_dnstap_bgp_args=$(printf '%s\n' "$usage" | grep -o -- '-[A-Za-z0-9] [A-Z][^] |]*' | cut -c1-2 | sort -u)
	printf '%s\n' "$usage" | grep -o -- '-[A-Za-z0-9-][A-Za-z0-9-]*' |
		awk '/^--/ { print; next } { for (i = 2; i <= length($0); i++) print "-" substr($0, i, 1) }' | sort -u
}

# _dnstap_bgp_program PROGRAM CUR PREV: COMPREPLY for PROGRAM's arguments.
_dnstap_bgp_program() {
	local p=$1 cur=$2 prev=$3 opts
	case $p in
	status) opts="-c --json -h -V"; _dnstap_bgp_args=-c ;;
	check) opts="-c -r -l -h -V"; _dnstap_bgp_args="-c -r" ;;
	routes)
		opts="-c -h -V"
		_dnstap_bgp_args=-c
		if [[ $cur != -* && $prev != -c ]]; then
			local tags=
			[[ -r $_dnstap_bgp_confdir/bgp-announce/TAGS ]] && tags=$(head -n 1 "$_dnstap_bgp_confdir/bgp-announce/TAGS" | tr ',' ' ')
			COMPREPLY=($(compgen -W "$tags" -- "$cur"))
			return
		fi ;;
	dnstap-bgp-run)
		opts=$(_dnstap_bgp_opts "$p")
		_dnstap_bgp_args=-c
		if [[ $cur != -* && $prev != -c ]]; then
			COMPREPLY=($(compgen -W "runit s6 systemd dnstap-read domain-match ipcache bgp-announce sync-serve sync-pull" -- "$cur"))
			return
		fi ;;
	*) opts=$(_dnstap_bgp_opts "$p") ;;
	esac
	if [[ $prev == -? ]] && printf '%s\n' $_dnstap_bgp_args | grep -qx -- "$prev"; then
		case $prev in
		-r) COMPREPLY=($(compgen -u -- "$cur")) ;;
		*) COMPREPLY=($(compgen -f -- "$cur")) ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

_dnstap_bgp() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $COMP_CWORD -eq 1 ]]; then
		local progs p
		progs="status routes check migrate"
		for p in "$_dnstap_bgp_libexec"/*; do
			[[ -f $p && -x $p ]] || continue
			p=${p##*/}
			case $p in dnstap-bgp-status | dnstap-bgp-check | dnstap-bgp-routes | dnstap-bgp-migrate | dnstap-bgp-conf) continue ;; esac
			progs="$progs $p"
		done
		COMPREPLY=($(compgen -W "$progs -h -V" -- "$cur"))
		return
	fi
	local p=${COMP_WORDS[1]}
	case $p in
	migrate) p=dnstap-bgp-migrate ;;
	status | routes | check) ;;
	*) [[ -x $_dnstap_bgp_libexec/$p && $p != */* ]] || return ;;
	esac
	_dnstap_bgp_program "$p" "$cur" "$prev"
}
complete -F _dnstap_bgp dnstap-bgp

_dnstap_bgp_direct() {
	_dnstap_bgp_program "${COMP_WORDS[0]##*/}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}
complete -F _dnstap_bgp_direct domain-match domain-compile domain-update ipcache bgp-announce sync-serve sync-pull dnstap-bgp-run
