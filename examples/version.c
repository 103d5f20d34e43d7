/* version.c - the smallest program against the installed library: prints the
 * inas version and how it reaches OpenCL. */
#include <stdio.h>

#include <inas/inas.h>

int main(void) {
    printf("inas %s (%s)\n", inas_version(), inas_build_info());
    return 0;
}
