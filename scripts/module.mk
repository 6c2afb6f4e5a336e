# scripts/: the supervision wrapper (service directories, units and the
# default envdir are installed by the Makefile's install rule).
SCRIPTS += scripts/dnstap-bgp-run
MANS += scripts/dnstap-bgp-run.8 scripts/dnstap-bgp.8
# The whole pipeline's benchmark (needs root, dnsperf): bench/pipeline.
BENCHES += bench/pipeline
