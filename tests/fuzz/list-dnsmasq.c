/* fuzz-list-dnsmasq: a line of a dnsmasq list, on any bytes (list-line.h). */
#define FUZZ_FORMAT LIST_DNSMASQ
#include "list-line.h"
