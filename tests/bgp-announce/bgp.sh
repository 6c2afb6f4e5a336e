# tests/bgp-announce/bgp.sh: helpers for the bgp-announce tests, sourced
# after tests/lib.sh. BIRD runs in the foreground with its own control
# socket under $T; routes are read back with birdc.

# Each script uses fixed ports, addresses and namespace names: the same
# script run from two checkouts at once would steal the other's sessions,
# so it waits for the other to finish instead.
exec 9> "/tmp/dnstap-bgp-bgpa-$(basename "$0").lock"
if ! flock -w 300 9; then
	fail "$(basename "$0"): another run holds its lock"
	exit 1
fi

# A write into bgp-announce's input after it died must end the script
# through its EXIT trap (which stops what it started, and with them this
# lock), not kill it silently.
trap 'exit 141' PIPE

# bird_start NAME: runs bird on $T/NAME.conf, waits for its control socket.
bird_start() {
	spawn "$1" bird -f -c "$T/$1.conf" -s "$T/$1.ctl" -P "$T/$1.birdpid"
	if ! wait_until 30 birdc -s "$T/$1.ctl" show status; then
		fail "bird $1 did not start: $(tail -5 "$T/$1.log")"
		exit 1
	fi
}

# birdc_ NAME ARGS...
birdc_() {
	_b=$1
	shift
	birdc -s "$T/$_b.ctl" "$@"
}

# bird_established NAME PROTOCOL
bird_established() {
	birdc_ "$1" show protocols "$2" | grep -q Established
}

# bird_route NAME TABLE PREFIX: the route's block from "show route all".
bird_route() {
	birdc_ "$1" show route all table "$2" "$3" | awk -v p="$3" '
		$1 == p { on = 1; print; next }
		/^[^ \t]/ { on = 0 }
		on { sub(/^[ \t]+/, ""); print }'
}

# bird_count NAME TABLE: number of routes in the table.
bird_count() {
	birdc_ "$1" show route count table "$2" | awk '/routes/ { print $1 }'
}

# route_has NAME TABLE PREFIX TEXT: the route's block contains TEXT.
route_has() {
	bird_route "$1" "$2" "$3" | grep -qF -- "$4"
}

# route_gone NAME TABLE PREFIX
route_gone() {
	! birdc_ "$1" show route table "$2" "$3" | grep -q "^$3 "
}

# announce_start NAME [ARGS...]: runs bgp-announce with stdin from a fifo
# kept open on fd 3 (closing fd 3 is end of input).
announce_start() {
	_a=$1
	shift
	rm -f "$T/$_a.in"
	mkfifo "$T/$_a.in"
	spawn "$_a" sh -c 'f=$1; shift; exec "$0" "$@" < "$f"' \
	    "$BIN/bgp-announce" "$T/$_a.in" "$@"
	exec 3> "$T/$_a.in"
}

# free_port: a TCP port that no socket uses now, on any address, picked at
# random below the kernel's ephemeral range (so that no outgoing connection
# takes it before the daemon binds it) and outside the fixed ports the other
# tests use (25000-26999).
free_port() {
	python3 -c '
import random, socket
while True:
    p = random.choice([*range(10000, 25000), *range(27000, 32000)])
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", p))
    except OSError:
        continue
    print(p)
    break'
}

# ctl SOCKET REQUEST: the control socket's answer to REQUEST, as sent.
ctl() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
PY
}

# ctl_has SOCKET REQUEST LINE: the answer has LINE.
ctl_has() { ctl "$1" "$2" | grep -qxF -- "$3"; }

# listening ADDR PORT: something listens on ADDR:PORT (TCP).
listening() { ss -Htln "sport = :$2" | grep -qF " $1:$2 "; }

# peers_listening ADDR FIRST LAST: waits until ports FIRST..LAST listen on
# ADDR (scripted peers start slowly on a loaded machine).
peers_listening() {
	_p=$2
	while [ "$_p" -le "$3" ]; do
		wait_until 30 listening "$1" "$_p" || return 1
		_p=$((_p + 1))
	done
}

# ack_wait FIFO N SECS: reads the acknowledgement FIFO until "ack M" with
# M >= N, at most SECS seconds; every line read is appended to $T/acks.log.
ack_wait() {
	python3 - "$@" >> "$T/acks.log" <<'PY'
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
want, end = int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
buf = b""
while time.monotonic() < end:
    select.select([fd], [], [], max(0, end - time.monotonic()))
    try:
        buf += os.read(fd, 4096)
    except BlockingIOError:
        continue
    found = False
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        print(line.decode(), flush=True)
        f = line.split()
        if len(f) == 2 and f[0] == b"ack" and int(f[1]) >= want:
            found = True
    if found:
        sys.exit(0)
sys.exit(1)
PY
}
