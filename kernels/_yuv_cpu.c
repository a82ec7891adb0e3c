/*
 * Planar YUV 4:2:0 in, planar YUV 4:2:0 out: curves (and the gain-aware denoiser) in one pass on the CPU
 * (lowlight.kernels, issue 13).  Loaded with ctypes by kernels/yuv.py.
 *
 * This file includes kernels/_denoise_cpu.c and reuses its per-pixel code unchanged (row_denoise via
 * the ISA-dispatched row_base/row_avx2, the map-row taps, map_row, lerp_rows and mean_plane); it adds
 * only the row I/O in YUV and the entry point.  The RGB frame is never materialised:
 *
 *   - reader: one frame row r from the Y row r and the chroma row r/2 (4:2:0; a chroma sample covers
 *     a 2x2 block of pixels and is replicated over it, which is what swscale does for a same-size
 *     yuv420p -> rgb24 conversion: PyAV's frame.to_ndarray(format="rgb24")), converted with the 3x3
 *     matrix and offsets of the stream's colour space and range (BT.601/709/2020, limited/full;
 *     computed in kernels/yuv_reference.py), rounded to integer levels and clamped to 0..255 in
 *     float registers: exactly the values of an 8-bit RGB frame, so the denoiser sees what it sees
 *     on the RGB path.  It fills the same ring of float planes (R, G, B and their mean, r pixels of
 *     replicated border) that lowlight_denoise_enhance_u8 fills from RGB rows.
 *   - writer: rows are processed in pairs (the OpenMP work items are row pairs); each output row
 *     is converted to Y, and the chroma sample of a 2x2 block is computed from the block's mean RGB
 *     (swscale's rgb24 -> yuv420p also averages the 2x2 block); a last odd column / row averages
 *     the pixels it has.
 *   - without denoising (params == NULL) the per-pixel step is the plain curve, bit-identical to
 *     kernels/_fused_cpu.c and to row_denoise's curve for an undenoised pixel.
 */

#include "_denoise_cpu.c"

#define LL_YUV_ABI_VERSION 2  /* 2: params_vector's 11 floats (chroma stage, motion_rho) */

LL_EXPORT int lowlight_yuv_abi_version(void) { return LL_YUV_ABI_VERSION; }

LL_EXPORT int lowlight_yuv_openmp_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Order of the `conv` array (24 floats). */
enum {
    C_RY, C_RU, C_RV, C_GY, C_GU, C_GV, C_BY, C_BU, C_BV, /* rgb = M (yuv - in_off), levels */
    C_IY, C_IU, C_IV,                                     /* in_off */
    C_YR, C_YG, C_YB, C_UR, C_UG, C_UB, C_VR, C_VG, C_VB, /* yuv = N rgb + out_off */
    C_OY, C_OU, C_OV,                                     /* out_off */
    C_COUNT
};

/* round half up and clamp to 0..255, as a float; clamped in integers (vpmaxsd/vpminsd, see to_u8) */
LL_INLINE float round_u8f(float v) {
    int32_t i = (int32_t)(v + 0.5f);
    i = i < 0 ? 0 : i;
    i = i > 255 ? 255 : i;
    return (float)i;
}

LL_INLINE uint8_t round_u8(float v) {
    int32_t i = (int32_t)(v + 0.5f);
    i = i < 0 ? 0 : i;
    i = i > 255 ? 255 : i;
    return (uint8_t)i;
}

/* One frame row (W pixels) into three float planes: the chroma terms once per chroma sample, stored
 * twice (into the full-width scratch k0..k2, so the pixel loop is unit-stride and vectorises), then the
 * luma term per pixel. */
#define LL_YUV_READ_BODY                                                                                \
    const float ry = cv[C_RY], gy = cv[C_GY], by = cv[C_BY], oy = cv[C_IY], ou = cv[C_IU], ov = cv[C_IV]; \
    const float ru = cv[C_RU], rv = cv[C_RV], gu = cv[C_GU], gv = cv[C_GV], bu = cv[C_BU], bv = cv[C_BV]; \
    const ptrdiff_t cw = (n + 1) / 2;                                                                   \
    for (ptrdiff_t c = 0; c < cw; c++) {                                                                \
        const float uu = (float)u[c] - ou, vv = (float)v[c] - ov;                                       \
        const float a0 = ru * uu + rv * vv, a1 = gu * uu + gv * vv, a2 = bu * uu + bv * vv;             \
        k0[2 * c] = a0;                                                                                 \
        k0[2 * c + 1] = a0;                                                                             \
        k1[2 * c] = a1;                                                                                 \
        k1[2 * c + 1] = a1;                                                                             \
        k2[2 * c] = a2;                                                                                 \
        k2[2 * c + 1] = a2;                                                                             \
    }                                                                                                   \
    for (ptrdiff_t x = 0; x < n; x++) {                                                                 \
        const float yy = (float)y[x] - oy;                                                              \
        q0[x] = round_u8f(ry * yy + k0[x]);                                                             \
        q1[x] = round_u8f(gy * yy + k1[x]);                                                             \
        q2[x] = round_u8f(by * yy + k2[x]);                                                             \
    }

static void yuv_read_base(const uint8_t *restrict y, const uint8_t *restrict u, const uint8_t *restrict v,
                          float *restrict q0, float *restrict q1, float *restrict q2, float *restrict k0,
                          float *restrict k1, float *restrict k2, const float *restrict cv, ptrdiff_t n) {
    LL_YUV_READ_BODY
}
#ifdef LL_DISPATCH
LL_AVX2 static void yuv_read_avx2(const uint8_t *restrict y, const uint8_t *restrict u, const uint8_t *restrict v,
                                  float *restrict q0, float *restrict q1, float *restrict q2, float *restrict k0,
                                  float *restrict k1, float *restrict k2, const float *restrict cv, ptrdiff_t n) {
    LL_YUV_READ_BODY
}
#endif

/* A pair of output rows (uint8 planes R, G, B of W each: a, and b = NULL for a last odd row) into
 * Y rows ya (yb) and one chroma row. */
#define LL_YUV_WRITE_BODY                                                                               \
    const float yr = cv[C_YR], yg = cv[C_YG], yb_ = cv[C_YB], oy = cv[C_OY];                            \
    for (ptrdiff_t x = 0; x < n; x++)                                                                   \
        ya[x] = round_u8(yr * (float)a[x] + yg * (float)a[n + x] + yb_ * (float)a[2 * n + x] + oy);     \
    if (b)                                                                                              \
        for (ptrdiff_t x = 0; x < n; x++)                                                               \
            yb[x] = round_u8(yr * (float)b[x] + yg * (float)b[n + x] + yb_ * (float)b[2 * n + x] + oy); \
    const float ur = cv[C_UR], ug = cv[C_UG], ub = cv[C_UB], vr = cv[C_VR], vg = cv[C_VG], vb = cv[C_VB]; \
    const float ou = cv[C_OU], ov = cv[C_OV];                                                           \
    const uint8_t *b2 = b ? b : a;                                                                      \
    const float wgt = 0.25f; /* b2 = a for a last odd row: the mean of a row's pixels */                \
    const ptrdiff_t full = n / 2;                                                                       \
    for (ptrdiff_t c = 0; c < full; c++) {                                                              \
        const ptrdiff_t x = 2 * c;                                                                      \
        const float R = wgt * ((float)a[x] + (float)a[x + 1] + (float)b2[x] + (float)b2[x + 1]);        \
        const float G = wgt * ((float)a[n + x] + (float)a[n + x + 1] + (float)b2[n + x] + (float)b2[n + x + 1]); \
        const float B = wgt * ((float)a[2 * n + x] + (float)a[2 * n + x + 1] + (float)b2[2 * n + x] +   \
                               (float)b2[2 * n + x + 1]);                                               \
        u[c] = round_u8(ur * R + ug * G + ub * B + ou);                                                 \
        v[c] = round_u8(vr * R + vg * G + vb * B + ov);                                                 \
    }                                                                                                   \
    if (n & 1) {                                                                                        \
        const ptrdiff_t x = n - 1;                                                                      \
        const float w2 = 0.5f;                                                                          \
        const float R = w2 * ((float)a[x] + (float)b2[x]);                                              \
        const float G = w2 * ((float)a[n + x] + (float)b2[n + x]);                                      \
        const float B = w2 * ((float)a[2 * n + x] + (float)b2[2 * n + x]);                              \
        u[full] = round_u8(ur * R + ug * G + ub * B + ou);                                              \
        v[full] = round_u8(vr * R + vg * G + vb * B + ov);                                              \
    }

static void yuv_write_base(const uint8_t *restrict a, const uint8_t *restrict b, uint8_t *restrict ya,
                           uint8_t *restrict yb, uint8_t *restrict u, uint8_t *restrict v,
                           const float *restrict cv, ptrdiff_t n) {
    LL_YUV_WRITE_BODY
}
#ifdef LL_DISPATCH
LL_AVX2 static void yuv_write_avx2(const uint8_t *restrict a, const uint8_t *restrict b, uint8_t *restrict ya,
                                   uint8_t *restrict yb, uint8_t *restrict u, uint8_t *restrict v,
                                   const float *restrict cv, ptrdiff_t n) {
    LL_YUV_WRITE_BODY
}
#endif

/* The plain curve on a row of float planes (levels) -> uint8 planes; the operations of row_denoise's
 * curve (and of kernels/_fused_cpu.c), so results are bit-identical to the RGB kernels. */
LL_INLINE void row_curve(const float *restrict c0, const float *restrict c1, const float *restrict c2,
                         const float *restrict alpha, ptrdiff_t W, uint8_t *restrict ob, const int per_iter,
                         const int iters) {
    const float inv255 = 1.0f / 255.0f;
    uint8_t *restrict ob1 = ob + W;
    uint8_t *restrict ob2 = ob + 2 * W;
    for (ptrdiff_t x = 0; x < W; x++) {
        float xr = c0[x] * inv255, xg = c1[x] * inv255, xb = c2[x] * inv255;
#pragma GCC unroll 8
        for (int t = 0; t < iters; t++) {
            const float *restrict at = per_iter ? alpha + (ptrdiff_t)(3 * t) * W : alpha;
            xr = xr + at[x] * (xr - xr * xr);
            xg = xg + at[W + x] * (xg - xg * xg);
            xb = xb + at[2 * W + x] * (xb - xb * xb);
        }
        ob[x] = to_u8(xr);
        ob1[x] = to_u8(xg);
        ob2[x] = to_u8(xb);
    }
}

LL_INLINE void curve_dispatch(const float *c0, const float *c1, const float *c2, const float *alpha, ptrdiff_t W,
                              uint8_t *ob, int per_iter, int iters) {
    if (!per_iter && iters == 8) row_curve(c0, c1, c2, alpha, W, ob, 0, 8);
    else row_curve(c0, c1, c2, alpha, W, ob, per_iter, iters);
}
static void curve_base(const float *c0, const float *c1, const float *c2, const float *alpha, ptrdiff_t W,
                       uint8_t *ob, int per_iter, int iters) {
    curve_dispatch(c0, c1, c2, alpha, W, ob, per_iter, iters);
}
#ifdef LL_DISPATCH
LL_AVX2 static void curve_avx2(const float *c0, const float *c1, const float *c2, const float *alpha, ptrdiff_t W,
                               uint8_t *ob, int per_iter, int iters) {
    curve_dispatch(c0, c1, c2, alpha, W, ob, per_iter, iters);
}
#endif

/* The two-row cache of map rows (built, scaled, clamped, horizontally interpolated once per block)
 * and the alpha planes of frame row y (a vertical lerp): the steps of lowlight_denoise_enhance_u8. */
typedef struct {
    const float *maps;
    int k, h, w, H, W, scaled;
    float strength;
    const int32_t *j0, *j1;
    const float *fx;
    void (*lerp_rows)(const float *, const float *, float *, float, ptrdiff_t);
} alpha_spec;

static void alpha_row(const alpha_spec *s, int y, float *mcache, int *mtag, float *alpha) {
    const int k = s->k, h = s->h, w = s->w, W = s->W;
    int32_t i0, i1;
    float fy;
    taps(y, h, s->H, &i0, &i1, &fy);
    if (fy == 0.0f) i1 = i0;
    int c0 = mtag[0] == i0 ? 0 : (mtag[1] == i0 ? 1 : -1);
    int c1 = mtag[0] == i1 ? 0 : (mtag[1] == i1 ? 1 : -1);
    if (c0 < 0) {
        c0 = c1 == 0 ? 1 : 0;
        for (int m = 0; m < 3 * k; m++)
            map_row(s->maps + (ptrdiff_t)m * h * w + (ptrdiff_t)i0 * w, mcache + ((ptrdiff_t)c0 * 3 * k + m) * W, w,
                    W, s->j0, s->j1, s->fx, s->strength, s->scaled);
        mtag[c0] = i0;
        if (i1 == i0) c1 = c0;
    }
    if (c1 < 0) {
        c1 = c0 == 0 ? 1 : 0;
        for (int m = 0; m < 3 * k; m++)
            map_row(s->maps + (ptrdiff_t)m * h * w + (ptrdiff_t)i1 * w, mcache + ((ptrdiff_t)c1 * 3 * k + m) * W, w,
                    W, s->j0, s->j1, s->fx, s->strength, s->scaled);
        mtag[c1] = i1;
    }
    s->lerp_rows(mcache + (ptrdiff_t)c0 * 3 * k * W, mcache + (ptrdiff_t)c1 * 3 * k * W, alpha, fy,
                 (ptrdiff_t)3 * k * W);
}

/*
 * Source planes sy (H x W), su, sv ((H+1)/2 x (W+1)/2), each with its own row stride in bytes
 * (columns contiguous); destination planes dy, du, dv the same shapes (must not overlap the source).
 * conv: C_COUNT floats (see the enum).
 * maps: contiguous float32 (3k) x h x w, k = 1 or k = iters.
 * params: NULL (curves only), or the P_COUNT floats of lowlight_denoise_enhance_u8 with
 * state_in / state_out (uint16 3 x H x W RGB, levels * 256) and radius as there.
 * Returns 0 on success, 1 on bad arguments, 2 when out of memory.
 */
LL_EXPORT int lowlight_yuv420_enhance(const uint8_t *sy, ptrdiff_t sy_s, const uint8_t *su, ptrdiff_t su_s,
                                      const uint8_t *sv, ptrdiff_t sv_s, uint8_t *dy, ptrdiff_t dy_s, uint8_t *du,
                                      ptrdiff_t du_s, uint8_t *dv, ptrdiff_t dv_s, int H, int W, const float *conv,
                                      const uint16_t *state_in, uint16_t *state_out, const float *maps, int k,
                                      int h, int w, int iters, float strength, const float *params, int radius,
                                      int nthreads) {
    const int denoise = params != NULL;
    if (H <= 0 || W <= 0 || h <= 0 || w <= 0 || iters < 0 || k < 1 || (k != 1 && k != iters) || !conv ||
        (denoise && (radius < 1 || radius > LL_MAX_RADIUS)) || (state_in && !state_out) ||
        (!denoise && (state_in || state_out)))
        return 1;
    if (nthreads < 1) nthreads = 1;
    const int R = denoise ? radius : 0, NS = 2 * R + 1;
    const ptrdiff_t pw = (ptrdiff_t)W + 2 * R;
    const ptrdiff_t plane = (ptrdiff_t)H * W;
    const int HP = (H + 1) / 2;
    const ptrdiff_t cw = ((ptrdiff_t)W + 1) / 2;
    dn_params pp;
    memset(&pp, 0, sizeof pp);
    if (denoise) pp = load_params(params);
    float cv[C_COUNT];
    memcpy(cv, conv, sizeof cv);
    int32_t *j0, *j1;
    float *fx;
    if (column_taps(w, W, &j0, &j1, &fx)) return 2;
    const int per_iter = k != 1;
    alpha_spec as = {maps, k, h, w, H, W, strength != 1.0f, strength, j0, j1, fx, lerp_rows_base};
    if ((ptrdiff_t)H * W * 3 < 3 * 16384) nthreads = 1;
    if (nthreads > HP) nthreads = HP;
    int chunk = HP / (nthreads * 8);
    if (chunk < 4) chunk = 4;
    int failed = 0;
    row_fn row = row_base;
    void (*mean_plane)(const float *, const float *, const float *, float *, ptrdiff_t) = mean_plane_base;
    void (*curve)(const float *, const float *, const float *, const float *, ptrdiff_t, uint8_t *, int, int) =
        curve_base;
    void (*yuv_read)(const uint8_t *, const uint8_t *, const uint8_t *, float *, float *, float *, float *, float *,
                     float *, const float *, ptrdiff_t) = yuv_read_base;
    void (*yuv_write)(const uint8_t *, const uint8_t *, uint8_t *, uint8_t *, uint8_t *, uint8_t *, const float *,
                      ptrdiff_t) = yuv_write_base;
#ifdef LL_DISPATCH
    if (use_avx2()) {
        row = row_avx2;
        mean_plane = mean_plane_avx2;
        curve = curve_avx2;
        yuv_read = yuv_read_avx2;
        yuv_write = yuv_write_avx2;
        as.lerp_rows = lerp_rows_avx2;
    }
#endif

#pragma omp parallel num_threads(nthreads) reduction(| : failed)
    {
#ifdef LL_X86
        unsigned int csr = _mm_getcsr();
        _mm_setcsr(csr | 0x8040); /* FTZ | DAZ */
#endif
        float *ring = (float *)malloc(sizeof(float) * (size_t)(NS * 4 * pw));
        float *alpha = (float *)malloc(sizeof(float) * (size_t)(3 * k) * (size_t)W);
        float *mcache = (float *)malloc(sizeof(float) * (size_t)(6 * k) * (size_t)W);
        uint8_t *ob = (uint8_t *)malloc((size_t)W * 6); /* the pair's two RGB rows, planar */
        float *scr = (float *)malloc(sizeof(float) * (size_t)W * 5);
        float *ks = (float *)malloc(sizeof(float) * (size_t)(2 * cw) * 3);
        const int ok = ring && alpha && mcache && ob && scr && ks;
        int mtag[2] = {-1, -1};
        if (!ok) failed = 1;
        int tag[2 * LL_MAX_RADIUS + 1];
        for (int i = 0; i < NS; i++) tag[i] = -1;
        const float *rows[2 * LL_MAX_RADIUS + 1];
#pragma omp for schedule(dynamic, chunk)
        for (int p = 0; p < HP; p++) {
            if (!ok) continue;
            for (int y = 2 * p; y < 2 * p + 2 && y < H; y++) {
                /* frame rows y-R..y+R (clamped) into the ring, converted from YUV */
                for (int dy = 0; dy < NS; dy++) {
                    int rr = y + dy - R;
                    rr = rr < 0 ? 0 : (rr > H - 1 ? H - 1 : rr);
                    const int slot = rr % NS;
                    float *base = ring + (ptrdiff_t)slot * 4 * pw;
                    if (tag[slot] != rr) {
                        const uint8_t *yr = sy + (ptrdiff_t)rr * sy_s;
                        const uint8_t *ur = su + (ptrdiff_t)(rr >> 1) * su_s;
                        const uint8_t *vr = sv + (ptrdiff_t)(rr >> 1) * sv_s;
                        yuv_read(yr, ur, vr, base + R, base + pw + R, base + 2 * pw + R, ks, ks + 2 * cw, ks + 4 * cw, cv,
                                 W);
                        if (denoise) finish_ring_row(mean_plane, base, pw, R, W);
                        tag[slot] = rr;
                    }
                    rows[dy] = base;
                }
                alpha_row(&as, y, mcache, mtag, alpha);
                uint8_t *o = ob + (ptrdiff_t)(y & 1) * 3 * W;
                if (denoise) {
                    const ptrdiff_t off = (ptrdiff_t)y * W;
                    const uint16_t *s0 = state_in ? state_in + off : NULL;
                    const uint16_t *s1 = state_in ? state_in + plane + off : NULL;
                    const uint16_t *s2 = state_in ? state_in + 2 * plane + off : NULL;
                    uint16_t *o0 = state_out ? state_out + off : NULL;
                    uint16_t *o1 = state_out ? state_out + plane + off : NULL;
                    uint16_t *o2 = state_out ? state_out + 2 * plane + off : NULL;
                    row(rows, pw, alpha, W, s0, s1, s2, o0, o1, o2, o, scr, &pp, R, state_in != NULL, per_iter,
                        iters, state_out != NULL);
                } else {
                    curve(rows[0], rows[0] + pw, rows[0] + 2 * pw, alpha, W, o, per_iter, iters);
                }
            }
            const int y0 = 2 * p;
            const int two = y0 + 1 < H;
            yuv_write(ob, two ? ob + 3 * W : NULL, dy + (ptrdiff_t)y0 * dy_s, two ? dy + (ptrdiff_t)(y0 + 1) * dy_s : NULL,
                      du + (ptrdiff_t)p * du_s, dv + (ptrdiff_t)p * dv_s, cv, W);
        }
        free(ring);
        free(alpha);
        free(mcache);
        free(ob);
        free(scr);
        free(ks);
#ifdef LL_X86
        _mm_setcsr(csr);
#endif
    }
    free(j0);
    free(j1);
    free(fx);
    return failed ? 2 : 0;
}
