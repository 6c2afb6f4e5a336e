# fan-out: ipcache's stream to any number of sinks.
PROGS += fan-out
fan-out_SRCS := fan-out/fan-out.c
MANS += fan-out/fan-out.8
