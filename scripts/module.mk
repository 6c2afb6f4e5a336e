# scripts/: the supervision wrapper (service directories, units and the
# default envdir are installed by the Makefile's install rule).
SCRIPTS += scripts/dnstap-bgp-run scripts/dnstap-bgp-status scripts/dnstap-bgp-check
# Read or sourced by those, installed beside them, not executable.
SCRIPT_LIBS += scripts/dnstap-bgp-conf scripts/dnstap-bgp-status.awk
MANS += scripts/dnstap-bgp-run.8
# The whole pipeline's benchmark (needs root, dnsperf): bench/pipeline.
BENCHES += bench/pipeline
