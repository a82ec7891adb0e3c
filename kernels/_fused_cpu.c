/*
 * Fused curve application on the CPU (lowlight.kernels, issue 3).
 *
 * One pass over an H x W x 3 uint8 RGB frame: bilinear upsampling of the
 * curve maps (align_corners=True), `iterations` curve steps
 * x <- x + a * (x - x*x), clamping and rounding to uint8, with no
 * full-resolution float intermediate.  Loaded with ctypes by
 * kernels/fused_cpu.py (plain C ABI, no CPython API); see that module for the
 * design notes.
 *
 * Layout of the work:
 *   - per-column bilinear taps (j0, j1, fx) are computed once per call;
 *   - rows are split over OpenMP threads in blocks (dynamic schedule);
 *   - each thread keeps two "map rows" in a small cache: a map row r,
 *     strength-scaled and clamped, horizontally interpolated to the frame
 *     width and interleaved as R,G,B per pixel (k x W*3 floats, k = number of
 *     maps).  Consecutive output rows share map rows, so each is built about
 *     once per block of rows;
 *   - the per-row kernel is then a straight, vectorisable loop over the W*3
 *     bytes of the row: vertical lerp of the two cached rows, the curve
 *     steps, rounding.  It is compiled for AVX2+FMA and for the baseline
 *     ISA and picked by the CPU's features at run time, so the binary
 *     stays portable.
 *
 * Denormals: with alpha = -1 the curve squares x each step, so dark pixels
 * underflow into subnormals (slow in microcode).  Each thread sets
 * flush-to-zero / denormals-are-zero for the call and restores its previous
 * MXCSR before returning (x86 only).  Subnormal values round to 0 anyway.
 */

#include "_cpu_common.h"

#define LL_ABI_VERSION 1

LL_EXPORT int lowlight_fused_abi_version(void) { return LL_ABI_VERSION; }

LL_EXPORT int lowlight_fused_openmp_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* ---- per-row kernels ---------------------------------------------------- */

/* One map for all iterations: alpha = r0 + fy * (r1 - r0), computed once. */
LL_INLINE void row_single(const uint8_t *restrict in, uint8_t *restrict out,
                          const float *restrict r0, const float *restrict r1,
                          float fy, ptrdiff_t n, int iters) {
    const float inv = 1.0f / 255.0f;
    for (ptrdiff_t i = 0; i < n; i++) {
        float a = r0[i] + fy * (r1[i] - r0[i]);
        float x = (float)in[i] * inv;
        for (int t = 0; t < iters; t++) x = x + a * (x - x * x);
        out[i] = to_u8(x);
    }
}

/* One map per iteration; rows of the cache are k = iters blocks of `ms` floats. */
LL_INLINE void row_multi(const uint8_t *restrict in, uint8_t *restrict out,
                         const float *restrict r0, const float *restrict r1,
                         float fy, ptrdiff_t n, ptrdiff_t ms, int iters, int lerp) {
    const float inv = 1.0f / 255.0f;
    for (ptrdiff_t i = 0; i < n; i++) {
        float x = (float)in[i] * inv;
        for (int t = 0; t < iters; t++) {
            float a = r0[t * ms + i];
            if (lerp) a = a + fy * (r1[t * ms + i] - a);
            x = x + a * (x - x * x);
        }
        out[i] = to_u8(x);
    }
}

/* Dispatch with compile-time iteration counts for the common case (8), so the
 * step loop unrolls and the pixel loop vectorises. */
LL_INLINE void row_kernel_impl(const uint8_t *restrict in, uint8_t *restrict out,
                               const float *restrict r0, const float *restrict r1,
                               float fy, ptrdiff_t n, ptrdiff_t ms, int k, int iters) {
    if (k == 1) {
        if (iters == 8) row_single(in, out, r0, r1, fy, n, 8);
        else row_single(in, out, r0, r1, fy, n, iters);
    } else if (fy == 0.0f) {
        if (iters == 8) row_multi(in, out, r0, r0, 0.0f, n, ms, 8, 0);
        else row_multi(in, out, r0, r0, 0.0f, n, ms, iters, 0);
    } else {
        if (iters == 8) row_multi(in, out, r0, r1, fy, n, ms, 8, 1);
        else row_multi(in, out, r0, r1, fy, n, ms, iters, 1);
    }
}

typedef void (*row_kernel_fn)(const uint8_t *, uint8_t *, const float *, const float *, float, ptrdiff_t,
                              ptrdiff_t, int, int);

static void row_kernel_base(const uint8_t *in, uint8_t *out, const float *r0, const float *r1, float fy,
                            ptrdiff_t n, ptrdiff_t ms, int k, int iters) {
    row_kernel_impl(in, out, r0, r1, fy, n, ms, k, iters);
}

#ifdef LL_DISPATCH
LL_AVX2 static void row_kernel_avx2(const uint8_t *in, uint8_t *out, const float *r0, const float *r1, float fy,
                                    ptrdiff_t n, ptrdiff_t ms, int k, int iters) {
    row_kernel_impl(in, out, r0, r1, fy, n, ms, k, iters);
}
#endif

/* ---- map rows ------------------------------------------------------------ */

typedef struct {
    const float *maps; /* (3k) x h x w, contiguous */
    int k, h, w, W;
    float strength;
    int scaled; /* strength != 1 */
    const int32_t *j0, *j1;
    const float *fx;
} map_spec;

/* One map (3 planes, row r) into an interleaved row d[x*3 + c]: values
 * scaled by the strength if `scaled`, always clamped to [-1, 1] (the
 * documented range; it keeps the curve output in [0, 1], see to_u8), then
 * interpolated horizontally. */
LL_INLINE void build_map_row(const float *restrict p0, const float *restrict p1, const float *restrict p2,
                             float *restrict d, const map_spec *s, int identity, int scaled) {
    const float gain = s->strength;
    const int W = s->W;
    if (identity) { /* w == W: a transpose, no interpolation */
        for (int x = 0; x < W; x++) {
            float a = p0[x], b = p1[x], c = p2[x];
            if (scaled) { a *= gain; b *= gain; c *= gain; }
            d[3 * x] = clamp1(a);
            d[3 * x + 1] = clamp1(b);
            d[3 * x + 2] = clamp1(c);
        }
        return;
    }
    const int32_t *restrict j0 = s->j0, *restrict j1 = s->j1;
    const float *restrict fx = s->fx;
    for (int x = 0; x < W; x++) {
        float a0 = p0[j0[x]], a1 = p0[j1[x]];
        float b0 = p1[j0[x]], b1 = p1[j1[x]];
        float c0 = p2[j0[x]], c1 = p2[j1[x]];
        if (scaled) { a0 *= gain; a1 *= gain; b0 *= gain; b1 *= gain; c0 *= gain; c1 *= gain; }
        a0 = clamp1(a0); a1 = clamp1(a1);
        b0 = clamp1(b0); b1 = clamp1(b1);
        c0 = clamp1(c0); c1 = clamp1(c1);
        const float f = fx[x];
        d[3 * x] = a0 + f * (a1 - a0);
        d[3 * x + 1] = b0 + f * (b1 - b0);
        d[3 * x + 2] = c0 + f * (c1 - c0);
    }
}

/* Build cache row `r`: for each map m, dst[m*W*3 + x*3 + c] = the map's value
 * at (r, x) after strength scaling/clamping and horizontal interpolation. */
LL_INLINE void build_row_impl(const map_spec *s, int r, float *dst) {
    const ptrdiff_t plane = (ptrdiff_t)s->h * s->w;
    const ptrdiff_t ms = (ptrdiff_t)s->W * 3;
    const int identity = s->w == s->W;
    for (int m = 0; m < s->k; m++) {
        const float *p0 = s->maps + (ptrdiff_t)(3 * m) * plane + (ptrdiff_t)r * s->w;
        float *d = dst + m * ms;
        if (identity && s->scaled) build_map_row(p0, p0 + plane, p0 + 2 * plane, d, s, 1, 1);
        else if (identity) build_map_row(p0, p0 + plane, p0 + 2 * plane, d, s, 1, 0);
        else if (s->scaled) build_map_row(p0, p0 + plane, p0 + 2 * plane, d, s, 0, 1);
        else build_map_row(p0, p0 + plane, p0 + 2 * plane, d, s, 0, 0);
    }
}

typedef void (*build_row_fn)(const map_spec *, int, float *);

static void build_row_base(const map_spec *s, int r, float *dst) { build_row_impl(s, r, dst); }

#ifdef LL_DISPATCH
LL_AVX2 static void build_row_avx2(const map_spec *s, int r, float *dst) { build_row_impl(s, r, dst); }
#endif

LL_EXPORT int lowlight_fused_isa(void) { return use_avx2(); }

/* The calling thread's flush-to-zero + denormals-are-zero state (MXCSR FTZ | DAZ, x86): returns 1 when
 * both were on, 0 when not, -1 where there is no such state; `set` 1 turns both on, 0 off, -1 only
 * reads.  lowlight.cpu.flush_denormals uses it so the CPU path needs no torch for this. */
LL_EXPORT int lowlight_ftz_daz(int set) {
#ifdef LL_X86
    unsigned int csr = _mm_getcsr();
    int before = (csr & 0x8040u) == 0x8040u;
    if (set == 1) _mm_setcsr(csr | 0x8040u);
    else if (set == 0) _mm_setcsr(csr & ~0x8040u);
    return before;
#else
    (void)set;
    return -1;
#endif
}

/* ---- entry point ---------------------------------------------------------- */

/*
 * src: frame, element (y, x, c) at src + y*src_sy + x*src_sx + c*src_sc (bytes).
 * dst: output, same shape, its own strides; must not overlap src.
 * maps: contiguous float32 (3k) x h x w, k = 1 or k = iters.
 * Returns 0 on success, 1 on bad arguments, 2 when out of memory.
 */
LL_EXPORT int lowlight_enhance_u8(const uint8_t *src, ptrdiff_t src_sy, ptrdiff_t src_sx, ptrdiff_t src_sc,
                                  uint8_t *dst, ptrdiff_t dst_sy, ptrdiff_t dst_sx, ptrdiff_t dst_sc,
                                  int H, int W, const float *maps, int k, int h, int w,
                                  int iters, float strength, int nthreads) {
    if (H <= 0 || W <= 0 || h <= 0 || w <= 0 || iters < 0 || k < 1 || (k != 1 && k != iters))
        return 1;
    if (nthreads < 1) nthreads = 1;
    const ptrdiff_t n = (ptrdiff_t)W * 3;
    int32_t *j0 = (int32_t *)malloc(sizeof(int32_t) * (size_t)W);
    int32_t *j1 = (int32_t *)malloc(sizeof(int32_t) * (size_t)W);
    float *fx = (float *)malloc(sizeof(float) * (size_t)W);
    if (!j0 || !j1 || !fx) {
        free(j0); free(j1); free(fx);
        return 2;
    }
    for (int x = 0; x < W; x++) taps(x, w, W, &j0[x], &j1[x], &fx[x]);
    map_spec spec = {maps, k, h, w, W, strength, strength != 1.0f, j0, j1, fx};
    const int src_rows_contig = (src_sx == 3 && src_sc == 1);
    const int dst_rows_contig = (dst_sx == 3 && dst_sc == 1);
    /* Small frames are not worth waking the thread pool for. */
    if ((ptrdiff_t)H * n < 3 * 16384) nthreads = 1;
    if (nthreads > H) nthreads = H;
    /* Dynamic blocks of rows (about 8 per thread): a thread whose core is
     * busy with other work (decoder, network) does not hold up the frame,
     * and each block still walks its map rows in order, so the row cache
     * builds a map row about once per block. */
    int chunk = H / (nthreads * 8);
    if (chunk < 8) chunk = 8;
    int failed = 0;
    row_kernel_fn row_kernel = row_kernel_base;
    build_row_fn build_row = build_row_base;
#ifdef LL_DISPATCH
    if (use_avx2()) {
        row_kernel = row_kernel_avx2;
        build_row = build_row_avx2;
    }
#endif

#pragma omp parallel num_threads(nthreads) reduction(| : failed)
    {
#ifdef LL_X86
        unsigned int csr = _mm_getcsr();
        _mm_setcsr(csr | 0x8040); /* FTZ | DAZ */
#endif
        const size_t rowf = (size_t)k * (size_t)n;
        float *cache = (float *)malloc(sizeof(float) * rowf * 2);
        uint8_t *ibuf = (uint8_t *)malloc((size_t)n * 2);
        const int ok = cache && ibuf;
        if (!ok) failed = 1;
        {
            uint8_t *obuf = ok ? ibuf + n : NULL;
            int tag[2] = {-1, -1};
            /* Every thread must reach the worksharing loop; one without
             * buffers skips its rows and the call reports failure. */
#pragma omp for schedule(dynamic, chunk)
            for (int y = 0; y < H; y++) {
                if (!ok) continue;
                int32_t i0, i1;
                float fy;
                taps(y, h, H, &i0, &i1, &fy);
                if (fy == 0.0f) i1 = i0;
                int s0 = tag[0] == i0 ? 0 : (tag[1] == i0 ? 1 : -1);
                int s1 = tag[0] == i1 ? 0 : (tag[1] == i1 ? 1 : -1);
                if (s0 < 0) {
                    s0 = s1 == 0 ? 1 : 0;
                    build_row(&spec, i0, cache + rowf * s0);
                    tag[s0] = i0;
                    if (i1 == i0) s1 = s0;
                }
                if (s1 < 0) {
                    s1 = s0 == 0 ? 1 : 0;
                    build_row(&spec, i1, cache + rowf * s1);
                    tag[s1] = i1;
                }
                const uint8_t *in;
                if (src_rows_contig) {
                    in = src + (ptrdiff_t)y * src_sy;
                } else {
                    const uint8_t *row = src + (ptrdiff_t)y * src_sy;
                    for (int x = 0; x < W; x++)
                        for (int c = 0; c < 3; c++) ibuf[x * 3 + c] = row[(ptrdiff_t)x * src_sx + (ptrdiff_t)c * src_sc];
                    in = ibuf;
                }
                uint8_t *out = dst_rows_contig ? dst + (ptrdiff_t)y * dst_sy : obuf;
                row_kernel(in, out, cache + rowf * s0, cache + rowf * s1, fy, n, n, k, iters);
                if (!dst_rows_contig) {
                    uint8_t *row = dst + (ptrdiff_t)y * dst_sy;
                    for (int x = 0; x < W; x++)
                        for (int c = 0; c < 3; c++) row[(ptrdiff_t)x * dst_sx + (ptrdiff_t)c * dst_sc] = obuf[x * 3 + c];
                }
            }
        }
        free(cache);
        free(ibuf);
#ifdef LL_X86
        _mm_setcsr(csr);
#endif
    }
    free(j0);
    free(j1);
    free(fx);
    return failed ? 2 : 0;
}
