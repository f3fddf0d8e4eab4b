/* start.S: exitbench's entry is the common S-mode one; the boot hart runs exitbench_main. */
#define S_START_MAIN exitbench_main
#include "s-start.S"
