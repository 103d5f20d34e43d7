/* bench_ops_conv.c - `inas bench ops` cases of the conv kernel family. */
#include "tools/bench_ops.h"

void bench_ops_family_conv(bench_ops *b) { (void)b; }
