/*
 * fuzz-domain-list: a line of a plain domain list ([!|=]NAME [TAG]), and
 * the format sniffer, on any bytes (list-line.h).
 */
#define FUZZ_FORMAT LIST_PLAIN
#include "list-line.h"
