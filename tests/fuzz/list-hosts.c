/* fuzz-list-hosts: a line of a hosts list, on any bytes (list-line.h). */
#define FUZZ_FORMAT LIST_HOSTS
#include "list-line.h"
