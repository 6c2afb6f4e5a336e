# scripts/: the supervision wrapper (service directories, units and the
# default envdir are installed by the Makefile's install rule).
# dnstap-bgp-conf is sourced by the others (run alone it says so).
SCRIPTS += scripts/dnstap-bgp-run scripts/dnstap-bgp-status scripts/dnstap-bgp-check \
	scripts/dnstap-bgp-routes scripts/dnstap-bgp-conf
MANS += scripts/dnstap-bgp-run.8 scripts/dnstap-bgp.8
# dnstap-bgp-records(5) is docs/records.md, made into a page at build time
# (one text: the page cannot drift from the contract).
GEN_MANS += $(O)/man/dnstap-bgp-records.5
$(O)/man/dnstap-bgp-records.5: docs/records.md scripts/md2man scripts/module.mk
	@mkdir -p $(@D)
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct -- docs/records.md 2> /dev/null | grep . || \
		stat -c %Y docs/records.md) scripts/md2man dnstap-bgp-records 5 \
		"the records that the programs of dnstap-bgp pass" < docs/records.md > $@.tmp
	mv $@.tmp $@
# The whole pipeline's benchmark (needs root, dnsperf): bench/pipeline.
BENCHES += bench/pipeline
