/* The jaxtls closed form -> negativity for two baths, as one vectorised, multithreaded C loop.
 *
 * Benchmark-only (benchmarks/limit.py compiles it with the system gcc and loads it with
 * ctypes); never a run-time dependency of jaxtls. It is the same computation as
 *
 *     jaxtls.negativity(jaxtls.closed_form(jaxtls.Model(T, J, K, xi, delta)))
 *
 * with detuning = exchange = 0 and symmetric coupling: the rescaling of jaxtls.steady_state.
 * _normalised, the validity mask of _valid, the weights of jaxtls.bath_weights, the
 * subtraction-free closed form of steady_state._closed (eqs. 23-24), the finite/unique mask
 * of steady_state._make and the X-state negativity of jaxtls.measures (_block_low, _norm3).
 * Invalid, non-unique or non-finite points give NaN, as in jaxtls. limit.py checks the
 * result against jaxtls on random points before timing anything.
 *
 * Layout: T, J, K are (n, 2) row-major (the arrays of a two-bath Model), xi and delta (n).
 * Every loop below is branch-free, so gcc vectorises it; exp/expm1 then come from glibc's
 * libmvec when JT_LIBMVEC is defined (glibc declares those vector variants only under
 * -ffast-math, so they are declared here for the strict build).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef JT_LIBMVEC
#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double expm1(double);
#endif

#define JT_EPS 2.220446049250313e-16
#define JT_KJ_SLACK (16 * JT_EPS)

static inline __attribute__((always_inline)) double sel(int c, double a, double b) { return c ? a : b; }

/* 2^-e for the exponent e of jnp.frexp(top), rescaled only when |e| > 128 (_normalised). */
static inline __attribute__((always_inline)) double rate_scale(double top) {
    int usable = isfinite(top) & (top > 0);
    double t = sel(usable, top, 1.0);
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    /* frexp's exponent of a normal number; subnormals give -1022 instead of below, which
     * the clip to [-1000, 1000] maps to the same -1000. */
    int64_t e = (int64_t)((bits >> 52) & 0x7ff) - 1022;
    e = (e > 128 || e < -128) ? (e > 1000 ? 1000 : (e < -1000 ? -1000 : e)) : 0;
    uint64_t sbits = (uint64_t)(1023 - e) << 52;
    double s;
    memcpy(&s, &sbits, sizeof s);
    return s;
}

/* (delta (1 + n), delta n) of jaxtls.bath_weights. */
static inline __attribute__((always_inline)) void weights(double T, double delta, double *wd, double *wu) {
    int warm = T > 0;
    double x = sel(warm, delta / sel(warm, T, 1.0), INFINITY);
    int pos = x > 0;
    double xs = sel(pos, x, 1.0);
    *wd = sel(pos, delta / -expm1(-xs), T);
    *wu = *wd * exp(-x);
}

/* Lower eigenvalue of the Hermitian block [[pa, z], [z*, pb]], z = zr + i zi (_block_low). */
static inline __attribute__((always_inline)) double block_low(double pa, double pb, double zr, double zi) {
    double half = 0.5 * (pa + pb);
    double a = 0.5 * (pa - pb);
    double m = fabs(a) > fabs(zr) ? fabs(a) : fabs(zr);
    m = m > fabs(zi) ? m : fabs(zi);
    int pos = m > 0;
    double s = sel(pos, m, 1.0);
    double q = (a / s) * (a / s) + (zr / s) * (zr / s) + (zi / s) * (zi / s);
    double r = sel(pos, s * sqrt(sel(pos, q, 1.0)), 0.0);
    double high = half + r;
    int big = high > 1e-150;
    double safe_high = sel(big, high, 1.0);
    return sel(big, (pa * pb - zr * zr - zi * zi) / safe_high, half - r);
}

static inline __attribute__((always_inline)) int finite6(double a, double b, double c, double d, double e, double f) {
    return isfinite(a) & isfinite(b) & isfinite(c) & isfinite(d) & isfinite(e) & isfinite(f);
}

/* One point: the negativity and the state (the agreement check reads the state; the timed
 * loop ignores it and the compiler drops it). */
typedef struct {
    double neg, p1, p2, p3, p4, c_re, c_im;
} result;


static inline __attribute__((always_inline)) result point(double T0, double T1, double Ja,
                                                          double Jb, double Ka, double Kb,
                                                          double xi, double delta) {
    /* _valid (detuning = 0: |detuning| <= delta is delta >= 0); & not &&: no branches */
    const double slack = 1 + 0.5 * JT_KJ_SLACK;
    int ok = (T0 >= 0) & (T1 >= 0) & (Ja >= 0) & (Jb >= 0);
    ok &= (fabs(Ka) <= sqrt(Ja) * sqrt(Ja) * slack) & (fabs(Kb) <= sqrt(Jb) * sqrt(Jb) * slack);
    ok &= isfinite(T0) & isfinite(T1) & isfinite(Ja) & isfinite(Jb);
    ok &= isfinite(Ka) & isfinite(Kb) & (xi >= 0) & (delta >= 0) & isfinite(xi + delta);
    /* _normalised: the largest rate (thermal factors included) brought into range */
    double t0 = Ja * (delta + T0), t1 = Jb * (delta + T1);
    double sc = rate_scale(t0 > t1 ? t0 : t1);
    double J0 = Ja * sc, J1 = Jb * sc, K0 = Ka * sc, K1 = Kb * sc;
    /* steady_state._closed */
    double wd0, wu0, wd1, wu1;
    weights(T0, delta, &wd0, &wu0);
    weights(T1, delta, &wd1, &wu1);
    double D = J0 * wd0 + J1 * wd1, U = J0 * wu0 + J1 * wu1;
    double Kd = K0 * wd0 + K1 * wd1, Ku = K0 * wu0 + K1 * wu1;
    double sgn = sel(Kd + Ku < 0, -1.0, 1.0);
    double e0 = J0 - sgn * K0, e1 = J1 - sgn * K1;
    double ed = e0 * wd0 + e1 * wd1, eu = e0 * wu0 + e1 * wu1;
    double Y = (wd0 * wu1 - wu0 * wd1) * (e0 * J1 - e1 * J0);
    double S = D + U;
    double DmU = delta * (J0 + J1);
    double gphi = xi * D;
    double eps = ed + eu;
    double E = ed * (D * D + 3 * U * U) + eu * (3 * D * D + U * U);
    double den = 4 * Y * Y + (gphi + eps) * S * S * S + E * sgn * (Kd + Ku);
    int unique = den > 0;
    double c = sgn * Y * DmU * S / sel(unique, den, 1.0);
    double S2 = sel(S > 0, S * S, 1.0);
    double sY = sgn * Y;
    double p1 = (D * D + c * (2 * D * Kd - sY)) / S2;
    double p2 = (D * U - c * (Ku * U + Kd * D)) / S2;
    double p4 = (U * U + c * (sY + 2 * U * Ku)) / S2;
    double p3 = p2, y = 0.0;
    /* steady_state._make: NaN unless valid, unique and finite */
    ok &= unique & finite6(p1, p2, p3, p4, c, y);
    /* measures.negativity of the XState: blocks (p1, p4; rho_23) and (p2, p3; 0) */
    double low14 = block_low(p1, p4, c, y);
    double low23 = block_low(p2, p3, 0.0, 0.0);
    double neg = sel(-low14 > 0, -low14, 0.0) + sel(-low23 > 0, -low23, 0.0);
    result r = {sel(ok, neg, NAN), sel(ok, p1, NAN), sel(ok, p2, NAN), sel(ok, p3, NAN),
                sel(ok, p4, NAN),  sel(ok, c, NAN),   sel(ok, y, NAN)};
    return r;
}

static void set_threads(int threads) {
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

/* Negativity of n points into out (n). */
void jt_negativity(long n, const double *T, const double *J, const double *K,
                   const double *xi, const double *delta, double *out, int threads) {
    set_threads(threads);
#pragma omp parallel for simd schedule(dynamic, 8192)
    for (long i = 0; i < n; i++)
        out[i] = point(T[2 * i], T[2 * i + 1], J[2 * i], J[2 * i + 1], K[2 * i], K[2 * i + 1],
                       xi[i], delta[i]).neg;
}

/* The same loop (vectorised alike, so the same exp/expm1), also writing the state as six
 * arrays of n, state[k n + i]: for the agreement check only (not timed). */
void jt_state(long n, const double *T, const double *J, const double *K, const double *xi,
              const double *delta, double *out, double *state) {
#pragma omp simd
    for (long i = 0; i < n; i++) {
        result r = point(T[2 * i], T[2 * i + 1], J[2 * i], J[2 * i + 1], K[2 * i], K[2 * i + 1],
                         xi[i], delta[i]);
        out[i] = r.neg;
        state[i] = r.p1, state[n + i] = r.p2, state[2 * n + i] = r.p3;
        state[3 * n + i] = r.p4, state[4 * n + i] = r.c_re, state[5 * n + i] = r.c_im;
    }
}

/* The memory-traffic ceiling: read the same inputs, write one double per point (a sum, so
 * nothing can be skipped); bytes per point = 8 in + 1 out doubles, as jt_negativity. */
void jt_stream(long n, const double *T, const double *J, const double *K, const double *xi,
               const double *delta, double *out, int threads) {
    set_threads(threads);
#pragma omp parallel for simd schedule(dynamic, 8192)
    for (long i = 0; i < n; i++)
        out[i] = T[2 * i] + T[2 * i + 1] + J[2 * i] + J[2 * i + 1] + K[2 * i] + K[2 * i + 1] +
                 xi[i] + delta[i];
}

/* The threads an OpenMP build uses (1 without OpenMP). */
int jt_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
