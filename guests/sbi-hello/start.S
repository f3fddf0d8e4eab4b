/* start.S: sbi-hello's entry is the common S-mode one; the boot hart runs main. */
#define S_START_MAIN main
#include "s-start.S"
