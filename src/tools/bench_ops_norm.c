/* bench_ops_norm.c - `inas bench ops` cases of the norm kernel family. */
#include "tools/bench_ops.h"

void bench_ops_family_norm(bench_ops *b) { (void)b; }
