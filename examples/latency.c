/* latency.c - predicts an architecture's latency on a device from that
 * device's latency lookup table (LUT, written by `inas lut probe`): the sum of
 * the LUT entries of the architecture's blocks plus the per-network overhead.
 * Needs no OpenCL device.
 *
 *   latency LUT ARCH.yaml [SPACE.yaml] [RESOLUTION]
 *
 * SPACE.yaml is the space the LUT was probed on (default: the built-in
 * space); RESOLUTION defaults to the LUT's probe resolution. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inas/arch.h>
#include <inas/lut.h>
#include <inas/space.h>

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5 || (argc == 5 && atoi(argv[4]) <= 0)) {
        fprintf(stderr, "usage: %s LUT ARCH.yaml [SPACE.yaml] [RESOLUTION]\n", argv[0]);
        return 2;
    }
    const char *lut_path = argv[1], *arch_path = argv[2];
    inas_error err;
    inas_space space;
    inas_arch arch;
    inas_lut lut;
    inas_lut_init(&lut);

    /* 1. The space (it defines the blocks), the LUT and the architecture. */
    if (argc >= 4) {
        if (inas_space_load(argv[3], &space, &err) != INAS_OK) goto fail;
    } else {
        inas_space_default(&space);
    }
    if (inas_lut_load(lut_path, &lut, &err) != INAS_OK) goto fail;
    if (lut.space_hash != inas_lut_space_hash(&space)) {
        fprintf(stderr, "latency: %s was probed on another search space: pass that space's YAML\n", lut_path);
        inas_lut_free(&lut);
        return 1;
    }
    if (inas_arch_load(arch_path, &space, &arch, &err) != INAS_OK) goto fail;

    /* 2. The resolution: given, else the one the LUT was probed at. */
    int resolution = argc == 5 ? atoi(argv[4]) : arch.resolution;
    const char *r = strstr(lut.settings, "resolution=");
    if (argc < 5 && r) resolution = atoi(r + strlen("resolution="));

    /* 3. The prediction: every block must be in the LUT. */
    double ms = 0;
    if (inas_lut_predict(&lut, &arch, &space, resolution, &ms, &err) != INAS_OK) goto fail;
    const inas_lut_entry *overhead = inas_lut_find(&lut, "overhead");
    printf("target: %s\ndevice: %s\nresolution: %d\npredicted_ms: %.3f\noverhead_ms: %.3f\n", lut.target,
           lut.device, resolution, ms, overhead ? overhead->ms : 0.0);
    inas_lut_free(&lut);
    return 0;
fail:
    fprintf(stderr, "latency: %s\n", err.message);
    inas_lut_free(&lut);
    return 1;
}
