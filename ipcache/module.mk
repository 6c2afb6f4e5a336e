# ipcache: the address cache (stdin answers + peer FIFO -> announce/withdraw).
UNITS += ipcache-store
unit-ipcache-store_SRCS := tests/ipcache/store_test.c
unit-ipcache-store_LIBS := $(LMDB_LIBS)
