/* cmd_devices.c - `inas devices`: list OpenCL platforms and devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inas/runtime.h"
#include "tools/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: inas devices [--select SELECTOR]\n\n"
            "Lists every OpenCL platform and device as YAML: type, compute units, memory,\n"
            "OpenCL C version and fp16 support. With --select (or INAS_DEVICE set), also\n"
            "prints which device that selector picks.\n\n"
            "Selectors: 'cpu', 'gpu', 'accelerator', an index 'N', a name fragment 'pocl',\n"
            "'NAME:N', or key=value terms joined by commas: platform=, device=, type=, index=.\n");
}

static void mib(uint64_t bytes, char *buf, size_t len) { snprintf(buf, len, "%.0f MiB", (double)bytes / 1048576.0); }

int cmd_devices(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return INAS_EXIT_OK;
    }
    const char *select = getenv("INAS_DEVICE");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--select") == 0 && i + 1 < argc) select = argv[++i];
        else if (strncmp(argv[i], "--select=", 9) == 0) select = argv[i] + 9;
        else return cli_usage_error("devices", "unexpected argument '%s'", argv[i]);
    }
    inas_error err;
    inas_error_clear(&err);
    inas_device_info *list = NULL;
    size_t n = 0;
    if (inas_devices_list(&list, &n, &err) != INAS_OK) return cli_fail("devices", "%s", err.message);
    printf("devices:\n");
    int last_platform = -1;
    for (size_t i = 0; i < n; i++) {
        const inas_device_info *d = &list[i];
        if (d->platform_index != last_platform) last_platform = d->platform_index;
        char gm[32], lm[32], ma[32];
        mib(d->global_mem, gm, sizeof gm);
        mib(d->max_alloc, ma, sizeof ma);
        snprintf(lm, sizeof lm, "%llu KiB", (unsigned long long)(d->local_mem / 1024));
        printf("  - index: %d\n"
               "    platform: \"%s\"\n"
               "    name: \"%s\"\n"
               "    vendor: \"%s\"\n"
               "    type: %s\n"
               "    compute_units: %u\n"
               "    clock_mhz: %u\n"
               "    global_memory: %s\n"
               "    max_allocation: %s\n"
               "    local_memory: %s\n"
               "    max_work_group: %zu\n"
               "    version: \"%s\"\n"
               "    opencl_c: \"%s\"\n"
               "    driver: \"%s\"\n"
               "    fp16: %s\n",
               d->index, d->platform, d->name, d->vendor, inas_device_type_name(d->type), d->compute_units,
               d->clock_mhz, gm, ma, lm, d->max_work_group, d->version, d->opencl_c, d->driver,
               d->fp16 ? "true" : "false");
    }
    free(list);
    if (select) {
        inas_device_info pick;
        if (inas_device_select(select, &pick, &err) != INAS_OK) return cli_fail("devices", "%s", err.message);
        printf("selected: {index: %d, selector: \"%s\", name: \"%s\"}\n", pick.index, select, pick.name);
    }
    return INAS_EXIT_OK;
}
