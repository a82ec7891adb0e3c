/*
 * Fused gain-aware denoising + curve application on the CPU (lowlight.kernels, issue 12).
 *
 * One pass over an H x W x 3 uint8 RGB frame and, for video, the temporal filter's state
 * (uint16 3 x H x W planar, levels * 256): per pixel an edge-preserving spatial estimate over a
 * (2r+1)^2 window, the slope of the curve there (the local gain), a motion-adaptive recursive
 * blend with the state (static pixels: the spatial estimate's chroma, the frame's luma), the
 * curves applied to the result, the uint8 output and the new state
 * written.  The maths, step by step, is in kernels/denoise_reference.py (the plain-torch
 * reference this kernel is tested against); loaded with ctypes by kernels/denoise_cpu.py.
 *
 * Layout of the work (like kernels/_fused_cpu.c):
 *   - rows are split over OpenMP threads in dynamic blocks;
 *   - each thread keeps a ring of 2r+1 frame rows, de-interleaved into float planes with r pixels
 *     of replicated border on each side, so every row is converted about once per block;
 *   - for each output row the thread builds the alpha row(s) of the maps (strength-scaled,
 *     clamped to [-1, 1], bilinear, align_corners=True: the same operations in the same order as
 *     the curve kernel, so a pixel that is not denoised gets exactly the plain curve's value);
 *   - the per-pixel loop is then unit-stride over float planes (vectorisable), writes planar
 *     uint8 results and the planar state row, and the uint8 row is interleaved at the end.
 *   - compiled for AVX2+FMA and the baseline ISA, picked at run time; FTZ/DAZ set for the call.
 */

/* Built with -fno-math-errno -fno-trapping-math (setup.py): the per-pixel loop has float selects
 * (clamps, the biweight's max(0, .)) and sqrtf, which GCC if-converts and vectorises only without
 * them; no FP exception flag or errno is ever read here. */

#include "_cpu_common.h"

#define LL_DENOISE_ABI_VERSION 3
#define LL_MAX_RADIUS 2

/* Order of the `params` array. */
enum { P_N0, P_N1, P_AMOUNT, P_TAU, P_KMIN, P_HR, P_T0, P_T1, P_TARGET, P_CHROMA, P_MRHO, P_COUNT };

LL_EXPORT int lowlight_denoise_abi_version(void) { return LL_DENOISE_ABI_VERSION; }

LL_INLINE uint16_t to_u16(float y) {
    int32_t i = (int32_t)(y * 256.0f + 0.5f);
    i = i < 0 ? 0 : i;
    i = i > 65535 ? 65535 : i;
    return (uint16_t)i;
}

LL_INLINE float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

typedef struct {
    float n0, n1, amount, tau, kmin, hr2, t0, inv_t, target, chroma, inv_mrho;
} dn_params;

/* One output row.  rows[dy] (dy = 0..2R) point at slot planes of the ring: plane c of a slot at
 * rows[dy] + c * pw (c = 3: the channel mean), pixel x at index x + R.  alpha: (3k) planes of W floats for this row. */
LL_INLINE void row_denoise(const float *const *rows, ptrdiff_t pw, const float *restrict alpha, ptrdiff_t W,
                           const uint16_t *restrict s0, const uint16_t *restrict s1, const uint16_t *restrict s2,
                           uint16_t *restrict o0, uint16_t *restrict o1, uint16_t *restrict o2,
                           uint8_t *restrict ob, float *restrict scr, const dn_params *pp, const int R,
                           const int hs, const int per_iter, const int iters, const int write_state) {
    const float inv255 = 1.0f / 255.0f;
    const float third = 1.0f / 3.0f;
    const float n0 = pp->n0, n1 = pp->n1, amount = pp->amount, tau = pp->tau, kmin = pp->kmin;
    const float hr2 = pp->hr2, t0 = pp->t0, inv_t = pp->inv_t, target = pp->target;
    const float chroma = pp->chroma, inv_mrho = pp->inv_mrho;
    const float *restrict c0 = rows[R];
    const float *restrict c1 = rows[R] + pw;
    const float *restrict c2 = rows[R] + 2 * pw;
    const float *restrict cl = rows[R] + 3 * pw;
    uint8_t *restrict ob1 = ob + W;
    uint8_t *restrict ob2 = ob + 2 * W;
    /* Two loops over the row (the spatial estimate, then the rest) keep each body within the
     * vector registers; the row of intermediates (5 floats a pixel) stays in L1/L2. */
    float *restrict qR = scr, *restrict qG = scr + W, *restrict qB = scr + 2 * W;
    float *restrict qrho = scr + 3 * W, *restrict qvar = scr + 4 * W;
    for (ptrdiff_t x = 0; x < W; x++) {
        const ptrdiff_t cx = x + R;
        const float L0 = cl[cx];
        float var = n0 + n1 * L0;
        var = var < 0.0f ? 0.0f : var;
        const float inv_h2 = 1.0f / (hr2 * var * (2.0f / 3.0f) + 0.5f);
        float sw = 0.0f, sw2 = 0.0f, aR = 0.0f, aG = 0.0f, aB = 0.0f;
#pragma GCC unroll 5
        for (int dy = 0; dy < 2 * R + 1; dy++) {
            const float *restrict p0 = rows[dy];
            const float *restrict p1 = rows[dy] + pw;
            const float *restrict p2 = rows[dy] + 2 * pw;
            const float *restrict p3 = rows[dy] + 3 * pw;
#pragma GCC unroll 5
            for (int dx = -R; dx <= R; dx++) {
                const float d = p3[cx + dx] - L0;
                float wt = 1.0f - d * d * inv_h2;
                wt = wt > 0.0f ? wt : 0.0f;
                wt *= wt;
                sw += wt;
                sw2 += wt * wt;
                aR += wt * p0[cx + dx];
                aG += wt * p1[cx + dx];
                aB += wt * p2[cx + dx];
            }
        }
        const float isw = 1.0f / sw;
        qR[x] = aR * isw;
        qG[x] = aG * isw;
        qB[x] = aB * isw;
        qrho[x] = sqrtf(sw2) * isw;
        qvar[x] = var;
    }
    for (ptrdiff_t x = 0; x < W; x++) {
        const ptrdiff_t cx = x + R;
        const float fR = c0[cx], fG = c1[cx], fB = c2[cx];
        const float spR = qR[x], spG = qG[x], spB = qB[x], rho = qrho[x], var = qvar[x];
        /* local gain: slope of the curve of the channel-mean alpha at the channel mean of sp */
        float xm = (spR + spG + spB) * third * inv255;
        float g = 1.0f;
#pragma GCC unroll 8
        for (int t = 0; t < iters; t++) {
            const float *restrict at = per_iter ? alpha + (ptrdiff_t)(3 * t) * W : alpha;
            const float am = (at[x] + at[W + x] + at[2 * W + x]) * third;
            g *= 1.0f + am * (1.0f - 2.0f * xm);
            xm = xm + am * (xm - xm * xm);
        }
        const float sigma = sqrtf(var);
        float cg = 1.0f / (g > 1e-6f ? g : 1e-6f);
        cg = cg > target ? cg : target;
        float T = sigma * cg;
        T = T > tau ? T : tau;
        float gs = g * sigma;
        gs = gs > 1e-6f ? gs : 1e-6f;
        float om = 1.0f - rho;
        om = om > 1e-3f ? om : 1e-3f;
        /* (1 - T/gs) / om */
        const float wsp = amount * clampf((gs - T) / (gs * om), 0.0f, 1.0f);
        float yR, yG, yB;
        if (hs) {
            const float sR = (float)s0[x] * (1.0f / 256.0f);
            const float sG = (float)s1[x] * (1.0f / 256.0f);
            const float sB = (float)s2[x] * (1.0f / 256.0f);
            /* q = min(T/gs, 1)^2; 2q / (1 + q) */
            const float Tm = T < gs ? T : gs;
            float kq = 2.0f * Tm * Tm / (gs * gs + Tm * Tm);
            kq = kq > kmin ? kq : kmin;
            const float kst = 1.0f - amount * (1.0f - kq);
            const float D = (fabsf(spR - sR) + fabsf(spG - sG) + fabsf(spB - sB)) * third;
            /* the motion threshold grows with the spatial estimate's own noise where it averaged
             * few pixels (rho above motion_rho: edges, fine texture) */
            float rs = rho * inv_mrho;
            rs = rs > 1.0f ? rs : 1.0f;
            const float sm = sqrtf(var + 0.5f) * rs;
            const float m = clampf((D / sm - t0) * inv_t, 0.0f, 1.0f);
            const float k = kst + m * (1.0f - kst);
            /* the new frame: its luma spatially denoised where it moves (m * wsp), its chroma
             * (sp - f minus its channel mean) with max(m, chroma) * wsp, also where it is static */
            const float dR = spR - fR, dG = spG - fG, dB = spB - fB;
            const float dl = (dR + dG + dB) * third;
            const float wc = (m > chroma ? m : chroma) * wsp;
            const float ldl = (m * wsp - wc) * dl; /* f + wl * dl + wc * (d - dl), wl = m * wsp */
            const float pR = fR + ldl + wc * dR;
            const float pG = fG + ldl + wc * dG;
            const float pB = fB + ldl + wc * dB;
            yR = sR + k * (pR - sR);
            yG = sG + k * (pG - sG);
            yB = sB + k * (pB - sB);
        } else {
            yR = fR + wsp * (spR - fR);
            yG = fG + wsp * (spG - fG);
            yB = fB + wsp * (spB - fB);
        }
        if (write_state) {
            o0[x] = to_u16(yR);
            o1[x] = to_u16(yG);
            o2[x] = to_u16(yB);
        }
        float xr = yR * inv255;
        float xg = yG * inv255;
        float xb = yB * inv255;
#pragma GCC unroll 8
        for (int t = 0; t < iters; t++) {
            const float *restrict at = per_iter ? alpha + (ptrdiff_t)(3 * t) * W : alpha;
            const float ar = at[x], ag = at[W + x], ab = at[2 * W + x];
            xr = xr + ar * (xr - xr * xr);
            xg = xg + ag * (xg - xg * xg);
            xb = xb + ab * (xb - xb * xb);
        }
        ob[x] = to_u8(xr);
        ob1[x] = to_u8(xg);
        ob2[x] = to_u8(xb);
    }
}

#define ROW_ARGS rows, pw, alpha, W, s0, s1, s2, o0, o1, o2, ob, scr, pp

/* Compile-time constants for the common cases so the loops unroll and vectorise. */
LL_INLINE void row_dispatch(const float *const *rows, ptrdiff_t pw, const float *alpha, ptrdiff_t W,
                            const uint16_t *s0, const uint16_t *s1, const uint16_t *s2,
                            uint16_t *o0, uint16_t *o1, uint16_t *o2, uint8_t *ob, float *scr,
                            const dn_params *pp, int R, int hs, int per_iter, int iters, int ws) {
    if (R == 2) {
        if (hs) {
            if (!per_iter && iters == 8) row_denoise(ROW_ARGS, 2, 1, 0, 8, 1);
            else row_denoise(ROW_ARGS, 2, 1, per_iter, iters, 1);
        } else if (ws) {
            if (!per_iter && iters == 8) row_denoise(ROW_ARGS, 2, 0, 0, 8, 1);
            else row_denoise(ROW_ARGS, 2, 0, per_iter, iters, 1);
        } else {
            if (!per_iter && iters == 8) row_denoise(ROW_ARGS, 2, 0, 0, 8, 0);
            else row_denoise(ROW_ARGS, 2, 0, per_iter, iters, 0);
        }
    } else {
        if (hs) {
            if (!per_iter && iters == 8) row_denoise(ROW_ARGS, 1, 1, 0, 8, 1);
            else row_denoise(ROW_ARGS, 1, 1, per_iter, iters, 1);
        } else if (ws) {
            if (!per_iter && iters == 8) row_denoise(ROW_ARGS, 1, 0, 0, 8, 1);
            else row_denoise(ROW_ARGS, 1, 0, per_iter, iters, 1);
        } else {
            if (!per_iter && iters == 8) row_denoise(ROW_ARGS, 1, 0, 0, 8, 0);
            else row_denoise(ROW_ARGS, 1, 0, per_iter, iters, 0);
        }
    }
}

typedef void (*row_fn)(const float *const *, ptrdiff_t, const float *, ptrdiff_t, const uint16_t *,
                       const uint16_t *, const uint16_t *, uint16_t *, uint16_t *, uint16_t *, uint8_t *,
                       float *, const dn_params *, int, int, int, int, int);

static void row_base(const float *const *rows, ptrdiff_t pw, const float *alpha, ptrdiff_t W,
                     const uint16_t *s0, const uint16_t *s1, const uint16_t *s2, uint16_t *o0, uint16_t *o1,
                     uint16_t *o2, uint8_t *ob, float *scr, const dn_params *pp, int R, int hs, int per_iter,
                     int iters, int ws) {
    row_dispatch(ROW_ARGS, R, hs, per_iter, iters, ws);
}

#ifdef LL_DISPATCH
LL_AVX2 static void row_avx2(const float *const *rows, ptrdiff_t pw, const float *alpha, ptrdiff_t W,
                             const uint16_t *s0, const uint16_t *s1, const uint16_t *s2, uint16_t *o0,
                             uint16_t *o1, uint16_t *o2, uint8_t *ob, float *scr, const dn_params *pp, int R,
                             int hs, int per_iter, int iters, int ws) {
    row_dispatch(ROW_ARGS, R, hs, per_iter, iters, ws);
}
#endif

LL_EXPORT int lowlight_denoise_isa(void) { return use_avx2(); }

/* One map plane row (w floats) -> W floats: scaled, clamped, horizontally interpolated, with the
 * curve kernel's operations (so the alpha values are bit-identical to it). */
static void map_row(const float *p, float *d, int w, int W, const int32_t *j0, const int32_t *j1,
                    const float *fx, float strength, int scaled) {
    if (w == W) {
        for (int x = 0; x < W; x++) d[x] = clamp1(scaled ? p[x] * strength : p[x]);
        return;
    }
    for (int x = 0; x < W; x++) {
        float a0 = p[j0[x]], a1 = p[j1[x]];
        if (scaled) { a0 *= strength; a1 *= strength; }
        a0 = clamp1(a0);
        a1 = clamp1(a1);
        d[x] = a0 + fx[x] * (a1 - a0);
    }
}

/* the channel mean of a de-interleaved row (the luma the spatial weights compare) */
static void mean_plane_base(const float *restrict a, const float *restrict b, const float *restrict c,
                            float *restrict d, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) d[i] = (a[i] + b[i] + c[i]) * (1.0f / 3.0f);
}
#ifdef LL_DISPATCH
LL_AVX2 static void mean_plane_avx2(const float *restrict a, const float *restrict b, const float *restrict c,
                                    float *restrict d, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) d[i] = (a[i] + b[i] + c[i]) * (1.0f / 3.0f);
}
#endif

/* contiguous RGB row <-> three float / uint8 planes */
#define LL_DEINTERLEAVE_BODY                                                                           \
    for (ptrdiff_t x = 0; x < n; x++) {                                                                \
        q0[x] = (float)s[3 * x];                                                                       \
        q1[x] = (float)s[3 * x + 1];                                                                   \
        q2[x] = (float)s[3 * x + 2];                                                                   \
    }
#define LL_INTERLEAVE_BODY                                                                             \
    for (ptrdiff_t x = 0; x < n; x++) {                                                                \
        d[3 * x] = b0[x];                                                                              \
        d[3 * x + 1] = b1[x];                                                                          \
        d[3 * x + 2] = b2[x];                                                                          \
    }
static void deinterleave_base(const uint8_t *restrict s, float *restrict q0, float *restrict q1, float *restrict q2,
                              ptrdiff_t n) {
    LL_DEINTERLEAVE_BODY
}
static void interleave_base(const uint8_t *restrict b0, const uint8_t *restrict b1, const uint8_t *restrict b2,
                            uint8_t *restrict d, ptrdiff_t n) {
    LL_INTERLEAVE_BODY
}
#ifdef LL_DISPATCH
LL_AVX2 static void deinterleave_avx2(const uint8_t *restrict s, float *restrict q0, float *restrict q1,
                                      float *restrict q2, ptrdiff_t n) {
    LL_DEINTERLEAVE_BODY
}
LL_AVX2 static void interleave_avx2(const uint8_t *restrict b0, const uint8_t *restrict b1,
                                    const uint8_t *restrict b2, uint8_t *restrict d, ptrdiff_t n) {
    LL_INTERLEAVE_BODY
}
#endif

/* d = a + f * (b - a), the curve kernel's vertical interpolation of map rows */
static void lerp_rows_base(const float *restrict a, const float *restrict b, float *restrict d, float f, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) d[i] = a[i] + f * (b[i] - a[i]);
}
#ifdef LL_DISPATCH
LL_AVX2 static void lerp_rows_avx2(const float *restrict a, const float *restrict b, float *restrict d, float f,
                                   ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) d[i] = a[i] + f * (b[i] - a[i]);
}
#endif

/*
 * src/dst: H x W x 3 uint8 with byte strides (dst must not overlap src).
 * state_in: NULL, or contiguous uint16 3 x H x W (levels * 256).
 * state_out: NULL (not written), or contiguous uint16 3 x H x W, not overlapping state_in.
 * maps: contiguous float32 (3k) x h x w, k = 1 or k = iters.
 * params: P_COUNT floats (see the enum).  radius: 1 or 2.
 * Returns 0 on success, 1 on bad arguments, 2 when out of memory.
 */
/* The horizontal taps of the maps' bilinear upsampling (w -> W) for every output column, in three
 * malloc'd arrays the caller frees; 1 (nothing allocated) when memory runs out. Shared with the
 * planar kernel (_yuv_cpu.c). */
static int column_taps(int w, int W, int32_t **j0, int32_t **j1, float **fx) {
    *j0 = (int32_t *)malloc(sizeof(int32_t) * (size_t)W);
    *j1 = (int32_t *)malloc(sizeof(int32_t) * (size_t)W);
    *fx = (float *)malloc(sizeof(float) * (size_t)W);
    if (!*j0 || !*j1 || !*fx) {
        free(*j0); free(*j1); free(*fx);
        return 1;
    }
    for (int x = 0; x < W; x++) taps(x, w, W, &(*j0)[x], &(*j1)[x], &(*fx)[x]);
    return 0;
}

/* A ring row whose R, G, B planes (each pw = W + 2R floats, the pixels at offset R) were just
 * filled: its channel-mean plane (the 4th), and R pixels of replicated border on each side of all
 * four (mean_plane: the ISA's version). Shared with the planar kernel (_yuv_cpu.c), which fills the planes from Y/U/V rows. */
typedef void (*mean_plane_fn)(const float *, const float *, const float *, float *, ptrdiff_t);

static void finish_ring_row(mean_plane_fn mean_plane, float *base, ptrdiff_t pw, int R, int W) {
    mean_plane(base + R, base + pw + R, base + 2 * pw + R, base + 3 * pw + R, W);
    for (int c = 0; c < 4; c++) {
        float *pl = base + c * pw + R;
        for (int e = 1; e <= R; e++) {
            pl[-e] = pl[0];
            pl[W - 1 + e] = pl[W - 1];
        }
    }
}

/* The kernel's constants from the P_COUNT floats of params_vector() (kernels/denoise.py); also used
 * by the planar kernel (_yuv_cpu.c), so both read the same parameters the same way. */
static dn_params load_params(const float *params) {
    dn_params pp;
    pp.n0 = params[P_N0];
    pp.n1 = params[P_N1];
    pp.amount = params[P_AMOUNT];
    pp.tau = params[P_TAU];
    pp.kmin = params[P_KMIN];
    pp.hr2 = params[P_HR] * params[P_HR];
    pp.t0 = params[P_T0];
    pp.inv_t = 1.0f / (params[P_T1] - params[P_T0]);
    pp.target = params[P_TARGET];
    pp.chroma = params[P_CHROMA];
    pp.inv_mrho = 1.0f / params[P_MRHO];
    return pp;
}

LL_EXPORT int lowlight_denoise_enhance_u8(const uint8_t *src, ptrdiff_t src_sy, ptrdiff_t src_sx, ptrdiff_t src_sc,
                                          uint8_t *dst, ptrdiff_t dst_sy, ptrdiff_t dst_sx, ptrdiff_t dst_sc,
                                          const uint16_t *state_in, uint16_t *state_out, int H, int W,
                                          const float *maps, int k, int h, int w, int iters, float strength,
                                          const float *params, int radius, int nthreads) {
    if (H <= 0 || W <= 0 || h <= 0 || w <= 0 || iters < 0 || k < 1 || (k != 1 && k != iters) || radius < 1 ||
        radius > LL_MAX_RADIUS || !params || (state_in && !state_out))
        return 1;
    if (nthreads < 1) nthreads = 1;
    const int R = radius, NS = 2 * radius + 1;
    const ptrdiff_t pw = (ptrdiff_t)W + 2 * R;
    const ptrdiff_t plane = (ptrdiff_t)H * W;
    dn_params pp = load_params(params);
    int32_t *j0, *j1;
    float *fx;
    if (column_taps(w, W, &j0, &j1, &fx)) return 2;
    const int scaled = strength != 1.0f;
    const int per_iter = k != 1;
    if ((ptrdiff_t)H * W * 3 < 3 * 16384) nthreads = 1;
    if (nthreads > H) nthreads = H;
    int chunk = H / (nthreads * 8);
    if (chunk < 8) chunk = 8;
    int failed = 0;
    row_fn row = row_base;
    void (*lerp_rows)(const float *, const float *, float *, float, ptrdiff_t) = lerp_rows_base;
    void (*mean_plane)(const float *, const float *, const float *, float *, ptrdiff_t) = mean_plane_base;
    void (*deinterleave)(const uint8_t *, float *, float *, float *, ptrdiff_t) = deinterleave_base;
    void (*interleave)(const uint8_t *, const uint8_t *, const uint8_t *, uint8_t *, ptrdiff_t) = interleave_base;
#ifdef LL_DISPATCH
    if (use_avx2()) {
        deinterleave = deinterleave_avx2;
        interleave = interleave_avx2;
        row = row_avx2;
        lerp_rows = lerp_rows_avx2;
        mean_plane = mean_plane_avx2;
    }
#endif
    const int src_contig = src_sx == 3 && src_sc == 1;
    const int dst_contig = dst_sx == 3 && dst_sc == 1;

#pragma omp parallel num_threads(nthreads) reduction(| : failed)
    {
#ifdef LL_X86
        unsigned int csr = _mm_getcsr();
        _mm_setcsr(csr | 0x8040); /* FTZ | DAZ */
#endif
        float *ring = (float *)malloc(sizeof(float) * (size_t)(NS * 4 * pw));
        float *alpha = (float *)malloc(sizeof(float) * (size_t)(3 * k) * (size_t)W);
        float *mcache = (float *)malloc(sizeof(float) * (size_t)(6 * k) * (size_t)W);
        uint8_t *ob = (uint8_t *)malloc((size_t)W * 3);
        float *scr = (float *)malloc(sizeof(float) * (size_t)W * 5);
        const int ok = ring && alpha && mcache && ob && scr;
        int mtag[2] = {-1, -1};
        if (!ok) failed = 1;
        int tag[2 * LL_MAX_RADIUS + 1];
        for (int i = 0; i < NS; i++) tag[i] = -1;
        const float *rows[2 * LL_MAX_RADIUS + 1];
#pragma omp for schedule(dynamic, chunk)
        for (int y = 0; y < H; y++) {
            if (!ok) continue;
            /* frame rows y-R..y+R (clamped) into the ring */
            for (int dy = 0; dy < NS; dy++) {
                int rr = y + dy - R;
                rr = rr < 0 ? 0 : (rr > H - 1 ? H - 1 : rr);
                const int slot = rr % NS;
                float *base = ring + (ptrdiff_t)slot * 4 * pw;
                if (tag[slot] != rr) {
                    const uint8_t *srow = src + (ptrdiff_t)rr * src_sy;
                    if (src_contig) deinterleave(srow, base + R, base + pw + R, base + 2 * pw + R, W);
                    for (int c = 0; c < 3; c++) {
                        float *pl = base + c * pw + R;
                        const uint8_t *sp = srow + (ptrdiff_t)c * src_sc;
                        if (!src_contig)
                            for (int x = 0; x < W; x++) pl[x] = (float)sp[(ptrdiff_t)x * src_sx];
                    }
                    finish_ring_row(mean_plane, base, pw, R, W);
                    tag[slot] = rr;
                }
                rows[dy] = base;
            }
            /* alpha planes of this row: a vertical lerp of two cached map rows (each built, scaled,
             * clamped and horizontally interpolated about once per block of rows) */
            int32_t i0, i1;
            float fy;
            taps(y, h, H, &i0, &i1, &fy);
            if (fy == 0.0f) i1 = i0;
            int c0 = mtag[0] == i0 ? 0 : (mtag[1] == i0 ? 1 : -1);
            int c1 = mtag[0] == i1 ? 0 : (mtag[1] == i1 ? 1 : -1);
            if (c0 < 0) {
                c0 = c1 == 0 ? 1 : 0;
                for (int m = 0; m < 3 * k; m++)
                    map_row(maps + (ptrdiff_t)m * h * w + (ptrdiff_t)i0 * w, mcache + ((ptrdiff_t)c0 * 3 * k + m) * W,
                            w, W, j0, j1, fx, strength, scaled);
                mtag[c0] = i0;
                if (i1 == i0) c1 = c0;
            }
            if (c1 < 0) {
                c1 = c0 == 0 ? 1 : 0;
                for (int m = 0; m < 3 * k; m++)
                    map_row(maps + (ptrdiff_t)m * h * w + (ptrdiff_t)i1 * w, mcache + ((ptrdiff_t)c1 * 3 * k + m) * W,
                            w, W, j0, j1, fx, strength, scaled);
                mtag[c1] = i1;
            }
            lerp_rows(mcache + (ptrdiff_t)c0 * 3 * k * W, mcache + (ptrdiff_t)c1 * 3 * k * W, alpha, fy,
                      (ptrdiff_t)3 * k * W);
            const ptrdiff_t off = (ptrdiff_t)y * W;
            const uint16_t *s0 = state_in ? state_in + off : NULL;
            const uint16_t *s1 = state_in ? state_in + plane + off : NULL;
            const uint16_t *s2 = state_in ? state_in + 2 * plane + off : NULL;
            uint16_t *o0 = state_out ? state_out + off : NULL;
            uint16_t *o1 = state_out ? state_out + plane + off : NULL;
            uint16_t *o2 = state_out ? state_out + 2 * plane + off : NULL;
            row(rows, pw, alpha, W, s0, s1, s2, o0, o1, o2, ob, scr, &pp, R, state_in != NULL, per_iter, iters,
                state_out != NULL);
            uint8_t *drow = dst + (ptrdiff_t)y * dst_sy;
            if (dst_contig) interleave(ob, ob + W, ob + 2 * W, drow, W);
            else
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) drow[(ptrdiff_t)x * dst_sx + (ptrdiff_t)c * dst_sc] = ob[c * W + x];
        }
        free(ring);
        free(alpha);
        free(mcache);
        free(ob);
        free(scr);
#ifdef LL_X86
        _mm_setcsr(csr);
#endif
    }
    free(j0);
    free(j1);
    free(fx);
    return failed ? 2 : 0;
}
