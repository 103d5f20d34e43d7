/* rng.c - xoshiro256** seeded by SplitMix64, with stream splitting. */
#include <math.h>

#include "inas/util.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void inas_rng_seed(inas_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

inas_rng inas_rng_split(const inas_rng *r, uint64_t stream) {
    uint64_t x = r->s[0] ^ rotl(r->s[1], 17) ^ rotl(r->s[2], 31) ^ rotl(r->s[3], 47);
    x ^= splitmix64(&stream);
    inas_rng child;
    inas_rng_seed(&child, x);
    return child;
}

uint64_t inas_rng_u64(inas_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float inas_rng_float(inas_rng *r) { return (float)(inas_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double inas_rng_double(inas_rng *r) { return (double)(inas_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

uint64_t inas_rng_below(inas_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = inas_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double inas_rng_normal(inas_rng *r) {
    double u1 = inas_rng_double(r), u2 = inas_rng_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
