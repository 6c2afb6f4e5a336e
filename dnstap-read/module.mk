# dnstap-read: DNSTap (Frame Streams) in, answer records out.
#
# The protobuf-c code for dnstap-read/dnstap.proto is generated at build
# time into $(O)/gen/dnstap-read (never committed) and compiled without our
# warning flags: it is protoc-c's code, not ours.
PROGS += dnstap-read
MANS += dnstap-read/dnstap-read.8
DTR_GEN := $(O)/gen/dnstap-read
DTR_PB := $(DTR_GEN)/dnstap.pb-c.o
DTR_CORE := dnstap-read/frame.c
dnstap-read_SRCS := dnstap-read/dnstap-read.c dnstap-read/stream.c $(DTR_CORE)
dnstap-read_LIBS := $(FSTRM_LIBS) $(PROTOBUF_LIBS)
dnstap-read_CFLAGS := -I$(DTR_GEN) $(FSTRM_CFLAGS) $(PROTOBUF_CFLAGS)

$(DTR_GEN)/dnstap.pb-c.c: dnstap-read/dnstap.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=dnstap-read --c_out=$(@D) $<
$(DTR_GEN)/dnstap.pb-c.h: $(DTR_GEN)/dnstap.pb-c.c
$(DTR_PB): $(DTR_GEN)/dnstap.pb-c.c
	$(CC) $(CPPFLAGS) -std=c11 $(CFLAGS) $(SAN_CFLAGS) $(PROTOBUF_CFLAGS) -c -o $@ $<
$(O)/dnstap-read/frame.o: $(DTR_GEN)/dnstap.pb-c.h

$(O)/bin/dnstap-read: $(DTR_PB)

# Unit tests of frame -> records (the DNS parser's are in tests/unit).
UNITS += dnstap-frame
unit-dnstap-frame_SRCS := tests/dnstap-read/frame_test.c $(DTR_CORE)
unit-dnstap-frame_LIBS := $(PROTOBUF_LIBS)
$(O)/tests/unit-dnstap-frame: $(DTR_PB)
$(O)/tests/dnstap-read/frame_test.o: $(DTR_GEN)/dnstap.pb-c.h
$(O)/tests/dnstap-read/frame_test.o: CPPFLAGS += -I$(DTR_GEN)

FUZZERS += dnstap-frame dnstap-stream
fuzz-dnstap-frame_SRCS := tests/fuzz/dnstap-frame.c $(DTR_CORE)
fuzz-dnstap-frame_LIBS := $(PROTOBUF_LIBS)
$(O)/fuzz/fuzz-dnstap-frame: $(DTR_PB)
fuzz-dnstap-stream_SRCS := tests/fuzz/dnstap-stream.c dnstap-read/stream.c $(DTR_CORE)
fuzz-dnstap-stream_LIBS := $(FSTRM_LIBS) $(PROTOBUF_LIBS)
$(O)/fuzz/fuzz-dnstap-stream: $(DTR_PB)

BENCHES += bench/dnstap-read
