# dnstap-bgp-status.awk: shows what dnstap-bgp-status gathered. The first
# file holds "key<TAB>value" facts; the others are the stages' Prometheus
# textfiles. Prints one screen of text, or JSON with -v json=1. Exit 1
# when something is down.
#
# The metric names each line reads are in the table below: a stage that
# does not export one (yet) shows "?" (JSON: null).
BEGIN {
	FS = "\t"
	M_FRAMES = "dnstap_bgp_dnstap_read_frames_total"
	M_LIST_ENTRIES = "dnstap_bgp_domain_match_list_entries"
	M_LIST_MTIME = "dnstap_bgp_domain_match_list_mtime_seconds"
	M_ENTRIES = "dnstap_bgp_ipcache_entries"	# {origin="local"|"peer"}
	M_ANNOUNCES = "dnstap_bgp_ipcache_announces_last_minute"
	M_WITHDRAWS = "dnstap_bgp_ipcache_withdraws_last_minute"
	M_PEERS_UP = "dnstap_bgp_bgp_announce_peers_up"
	M_PEER_STATE = "dnstap_bgp_bgp_announce_peer_state"	# {peer=,state=} 1
	M_PEER_SINCE = "dnstap_bgp_bgp_announce_peer_established_since_seconds"
	M_PEER_PREFIXES = "dnstap_bgp_bgp_announce_peer_prefixes"	# {peer=,family=}
	M_LAST_PULL = "dnstap_bgp_sync_pull_last_good_pull_seconds"	# {peer=}
	FSM[1] = "idle"; FSM[2] = "connect"; FSM[3] = "active"
	FSM[4] = "opensent"; FSM[5] = "openconfirm"; FSM[6] = "established"
}
NR == FNR { F[$1] = $2; next }
/^#/ || split($0, w, " ") < 2 { next }
{
	# name{labels} value [timestamp]
	s = $0
	i = index(s, "{")
	j = index(s, " ")
	if (i && i < j) {
		name = substr(s, 1, i - 1)
		k = index(s, "} ")
		labels = substr(s, i + 1, k - i - 1)
		rest = substr(s, k + 2)
	} else {
		name = substr(s, 1, j - 1)
		labels = ""
		rest = substr(s, j + 1)
	}
	split(rest, r, " ")
	n++
	MN[n] = name
	ML[n] = labels
	MV[n] = r[1]
}

# label(LABELS, KEY): the value of KEY="..." in LABELS, or "".
function label(l, key,    i, v) {
	l = "," l
	i = index(l, "," key "=\"")
	if (!i)
		return ""
	v = substr(l, i + length(key) + 3)
	return substr(v, 1, index(v, "\"") - 1)
}
# metric(NAME, K1, V1, K2, V2): the value of the sample NAME whose labels
# have K1="V1" (and K2="V2"), or with no K1 the one without labels; "" if none.
function metric(name, k1, v1, k2, v2,    i) {
	for (i = 1; i <= n; i++) {
		if (MN[i] != name)
			continue
		if (k1 == "" && ML[i] == "")
			return MV[i]
		if (k1 != "" && label(ML[i], k1) == v1 && (k2 == "" || label(ML[i], k2) == v2))
			return MV[i]
	}
	return ""
}
function q(v) { return v == "" ? "?" : v }
function int_or_null(v) { return v == "" ? "null" : v + 0 }
function dur(s) {
	if (s == "")
		return "?"
	s = int(s)
	if (s < 0)
		s = 0
	if (s < 60)
		return s "s"
	if (s < 3600)
		return int(s / 60) "m" sprintf("%02d", s % 60) "s"
	if (s < 86400)
		return int(s / 3600) "h" sprintf("%02d", int(s % 3600 / 60)) "m"
	return int(s / 86400) "d" sprintf("%02d", int(s % 86400 / 3600)) "h"
}
function ago(t) { return t == "" ? "?" : dur(F["now"] - t) " ago" }
function js(s,    i, c, o) {
	o = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"" || c == "\\")
			o = o "\\" c
		else if (c < " ")
			o = o sprintf("\\u%04x", index(CTL, c))
		else
			o = o c
	}
	return "\"" o "\""
}
function jstr(s) { return s == "" ? "null" : js(s) }
function problem(s) { problems[++np] = s }

# Rows of a table, printed with columns as wide as their widest cell.
function row(t, a, b, c, d, e, f,    k) {
	k = ++rows[t]
	cell[t, k, 1] = a; cell[t, k, 2] = b; cell[t, k, 3] = c
	cell[t, k, 4] = d; cell[t, k, 5] = e; cell[t, k, 6] = f
}
function table(t, ncol,    k, c, w, line) {
	for (c = 1; c <= ncol; c++)
		w[c] = 0
	for (k = 1; k <= rows[t]; k++)
		for (c = 1; c <= ncol; c++)
			if (length(cell[t, k, c]) > w[c])
				w[c] = length(cell[t, k, c])
	for (k = 1; k <= rows[t]; k++) {
		line = ""
		for (c = 1; c < ncol; c++)
			line = line sprintf("%-" w[c] "s  ", cell[t, k, c])
		line = line cell[t, k, ncol]
		sub(/ +$/, "", line)
		print line
	}
}

END {
	for (i = 1; i < 32; i++)
		CTL = CTL sprintf("%c", i)
	now = F["now"]

	# Stages, in the order their facts came.
	nst = 0
	while ((getline line < ARGV[1]) > 0) {
		split(line, kv, "\t")
		if (kv[1] ~ /^stage\.[^.]+\.name$/)
			order[++nst] = kv[2]
	}
	for (i = 1; i <= nst; i++) {
		st = order[i]
		k = "stage." st "."
		state = F[k "state"]
		if (state != "up" && state != "off")
			problem(st " is " state (F[k "exit"] == "100" ? " (exit 100: a permanent error, see its log)" : ""))
	}

	# The collector's rate: from the previous run's sample when it is of
	# the same process and at most ten minutes old, else since its start.
	frames = metric(M_FRAMES)
	rate = ""
	window = ""
	if (frames != "") {
		split(F["collector.previous"], prev, " ")
		mtime = F["stage.dnstap-read.metrics_time"]
		if (prev[1] != "" && prev[3] == F["collector.started"] && mtime - prev[1] > 0 && now - prev[1] <= 600 && frames >= prev[2]) {
			rate = (frames - prev[2]) / (mtime - prev[1])
			window = mtime - prev[1]
		} else if (F["collector.started"] != "" && mtime - F["collector.started"] > 0) {
			rate = frames / (mtime - F["collector.started"])
			window = "start"
		}
	}

	list_entries = metric(M_LIST_ENTRIES)
	list_mtime = metric(M_LIST_MTIME)
	if (list_mtime == "")
		list_mtime = F["list.mtime"]
	if (F["list.file"] != "" && F["list.mtime"] == "")
		problem("no domain list at " F["list.file"])

	entries = metric(M_ENTRIES)
	local = metric(M_ENTRIES, "origin", "local")
	peer = metric(M_ENTRIES, "origin", "peer")
	announces = metric(M_ANNOUNCES)
	withdraws = metric(M_WITHDRAWS)

	npeers = split(F["bgp.peers"], peers, " ")
	for (i = 1; i <= npeers; i++) {
		p = peers[i]
		st = ""
		for (j = 1; j <= n; j++)
			if (MN[j] == M_PEER_STATE && label(ML[j], "peer") == p) {
				if (label(ML[j], "state") != "") {
					if (MV[j] + 0 == 1)
						st = label(ML[j], "state")
				} else if (MV[j] + 0 in FSM)
					st = FSM[MV[j] + 0]
			}
		if (st == "" && npeers == 1 && metric(M_PEERS_UP) != "")
			st = metric(M_PEERS_UP) + 0 ? "established" : "down"
		pstate[p] = tolower(st)
		psince[p] = metric(M_PEER_SINCE, "peer", p)
		pv4[p] = metric(M_PEER_PREFIXES, "peer", p, "family", "ipv4")
		pv6[p] = metric(M_PEER_PREFIXES, "peer", p, "family", "ipv6")
		if (pstate[p] != "established")
			problem("BGP peer " p " is " (pstate[p] == "" ? "in an unknown state" : pstate[p]))
	}
	nsync = split(F["sync.peers"], speers, " ")

	if (json) {
		printf "{\"time\":%d,\"host\":%s,\"version\":%s,\"supervisor\":%s,\"ok\":%s,\n", now, js(F["host"]), js(F["version"]), jstr(F["supervisor"] == "?" ? "" : F["supervisor"]), np ? "false" : "true"
		printf "\"problems\":["
		for (i = 1; i <= np; i++)
			printf "%s%s", (i > 1 ? "," : ""), js(problems[i])
		printf "],\n\"stages\":["
		for (i = 1; i <= nst; i++) {
			st = order[i]
			k = "stage." st "."
			printf "%s\n{\"name\":%s,\"state\":%s,\"service\":%s,\"pid\":%s,\"for\":%s,\"restarts\":%s,", (i > 1 ? "," : ""), js(st), js(F[k "state"]), jstr(F[k "service"]), int_or_null(F[k "pid"]), int_or_null(F[k "for"]), int_or_null(F[k "restarts"])
			printf "\"last_exit\":%s,\"last_signal\":%s,\"exited\":%s,", F[k "exit"] == "" || F[k "exit"] == "-" ? "null" : F[k "exit"] + 0, F[k "signal"] == "" || F[k "signal"] == "0" ? "null" : F[k "signal"] + 0, int_or_null(F[k "exited"])
			printf "\"last_error\":%s,\"last_error_time\":%s}", jstr(F[k "error"]), int_or_null(F[k "error_time"])
		}
		printf "],\n\"collector\":{\"frames_total\":%s,\"frames_per_second\":%s,\"over_seconds\":%s},\n", int_or_null(frames), rate == "" ? "null" : sprintf("%.1f", rate), window == "" || window == "start" ? "null" : window + 0
		printf "\"list\":{\"file\":%s,\"entries\":%s,\"mtime\":%s},\n", jstr(F["list.file"]), int_or_null(list_entries), int_or_null(list_mtime)
		printf "\"cache\":{\"entries\":%s,\"local\":%s,\"from_peers\":%s,\"announces_last_minute\":%s,\"withdraws_last_minute\":%s},\n", int_or_null(entries), int_or_null(local), int_or_null(peer), int_or_null(announces), int_or_null(withdraws)
		printf "\"bgp_peers\":["
		for (i = 1; i <= npeers; i++) {
			p = peers[i]
			printf "%s{\"name\":%s,\"address\":%s,\"state\":%s,\"established_since\":%s,\"prefixes\":{\"ipv4\":%s,\"ipv6\":%s}}", (i > 1 ? "," : ""), js(p), jstr(F["bgp." p ".address"]), jstr(pstate[p]), int_or_null(psince[p]), int_or_null(pv4[p]), int_or_null(pv6[p])
		}
		printf "],\n\"sync_peers\":["
		for (i = 1; i <= nsync; i++)
			printf "%s{\"peer\":%s,\"last_good_pull\":%s}", (i > 1 ? "," : ""), js(speers[i]), int_or_null(metric(M_LAST_PULL, "peer", speers[i]))
		printf "]}\n"
		exit np ? 1 : 0
	}

	printf "dnstap-bgp %s on %s, %s: %s\n\n", F["version"], F["host"], F["supervisor"] == "?" ? "no stage started yet" : "under " F["supervisor"], np ? np " problem" (np > 1 ? "s" : "") : "all up"
	row("st", "STAGE", "STATE", "FOR", "RESTARTS", "LAST EXIT", "")
	for (i = 1; i <= nst; i++) {
		st = order[i]
		k = "stage." st "."
		ex = "-"
		if (F[k "exit"] != "" && F[k "exited"] != "")
			ex = (F[k "exit"] == "-" ? "signal " F[k "signal"] : F[k "exit"]) " " ago(F[k "exited"])
		else if (F[k "exit"] != "")
			ex = F[k "exit"]
		row("st", st, F[k "state"], F[k "state"] == "off" || F[k "for"] == "" ? "-" : dur(F[k "for"]), F[k "restarts"] == "" ? "-" : F[k "restarts"], ex, "")
	}
	table("st", 5)
	printed = 0
	for (i = 1; i <= nst; i++) {
		st = order[i]
		k = "stage." st "."
		if (F[k "error"] == "")
			continue
		if (!printed++)
			print "\nLAST WARNING OR ERROR"
		row("err", st, ago(F[k "error_time"]), F[k "error"], "", "", "")
	}
	if (printed)
		table("err", 3)
	print ""
	row("sum", "collector", (rate == "" ? "?" : sprintf("%.1f", rate)) " frames/s" (window == "start" ? " since its start" : window == "" ? "" : " over " dur(window)) ", " q(frames) " frames", "", "", "", "")
	row("sum", "domain list", q(list_entries) " entries, " (F["list.file"] == "" ? "?" : F["list.file"]) (list_mtime == "" ? " (missing)" : ", changed " ago(list_mtime)), "", "", "", "")
	row("sum", "cache", q(entries) " entries: " q(local) " local, " q(peer) " from peers; last minute: " q(announces) " announced, " q(withdraws) " withdrawn", "", "", "", "")
	table("sum", 2)
	if (npeers) {
		print ""
		row("bgp", "BGP PEER", "ADDRESS", "STATE", "FOR", "IPV4", "IPV6")
		for (i = 1; i <= npeers; i++) {
			p = peers[i]
			row("bgp", p, q(F["bgp." p ".address"]), q(pstate[p]), psince[p] == "" ? "?" : pstate[p] == "established" ? dur(now - psince[p]) : "-", q(pv4[p]), q(pv6[p]))
		}
		table("bgp", 6)
	}
	if (nsync) {
		print ""
		row("sync", "SYNC PEER", "LAST GOOD PULL")
		for (i = 1; i <= nsync; i++) {
			t = metric(M_LAST_PULL, "peer", speers[i])
			row("sync", speers[i], t == "" ? "?" : t == 0 ? "never" : ago(t))
		}
		table("sync", 2)
	}
	if (np) {
		print ""
		for (i = 1; i <= np; i++)
			print "problem: " problems[i]
	}
	exit np ? 1 : 0
}
