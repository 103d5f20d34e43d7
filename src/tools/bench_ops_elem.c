/* bench_ops_elem.c - `inas bench ops` cases of the elem kernel family. */
#include "tools/bench_ops.h"

void bench_ops_family_elem(bench_ops *b) { (void)b; }
