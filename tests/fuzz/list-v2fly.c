/* fuzz-list-v2fly: a line of a v2fly list, on any bytes (list-line.h). */
#define FUZZ_FORMAT LIST_V2FLY
#include "list-line.h"
