/* fuzz-list-adblock: a line of a adblock list, on any bytes (list-line.h). */
#define FUZZ_FORMAT LIST_ADBLOCK
#include "list-line.h"
