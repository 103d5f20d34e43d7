/* bench_ops_dwconv.c - `inas bench ops` cases of the dwconv kernel family. */
#include "tools/bench_ops.h"

void bench_ops_family_dwconv(bench_ops *b) { (void)b; }
