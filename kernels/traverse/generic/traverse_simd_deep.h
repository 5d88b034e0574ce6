/* Private to kite_traverse (kernels/traverse/), not installed.
 * The deep-tree walk of the vector kernels, included by traverse_simd_impl.h when the ISA's
 * primitive header defines KV_REFILL (masked gathers, a scatter, expand: traverse_avx512.c;
 * traverse_avx2.c does the scatter and expand per lane).
 *
 * Trees too deep to pad (KITE_PTREE_NODES) leave their padded head at very different depths,
 * so lanes walking in lock step would all wait for the longest path. Here each lane walks its
 * own row on kf_nodes; a lane whose row reaches a leaf writes the leaf value into leafv[row]
 * and takes the next row that has not started (expand hands out row numbers in lane order),
 * so the lanes stay busy until the last rows of the block. Only after the whole block is done
 * are the leaves added onto the margins, one add per row for this tree, before the next tree:
 * the order of float additions per row stays the scalar kernel's (tree order, no FMA).
 *
 * Step, with the 16-byte kite_node read as four 32-bit fields (index 4 * node + field):
 *   fe = feature; a leaf when fe < 0 (then the value field is the leaf value)
 *   right = !(x < value) for a number x (a NaN threshold sends it right, as in XGBoost);
 *   x NaN: the node's default (flags bit 0: left), only checked for blocks with a NaN
 *   next  = left + right
 * Trees with categorical splits never get here (perfect.c makes them KITE_PTREE_SCALAR). */
#ifndef KITE_DEEP_VECS
#define KITE_DEEP_VECS 2 /* independent vectors of lanes: their gathers overlap */
#endif

/* Usable when 4 * node index and row * stride + feature fit the gathers' int32 indices. */
static inline int simd_deep_ok(const kite_forest *f, size_t stride)
{
    return f->kf_num_nodes < ((size_t)1 << 29) &&
           stride <= (size_t)INT32_MAX / (KITE_SIMD_GROUP * KV_LANES + 1);
}

/* start[s]: kf_nodes index where row s of the block left the head (a leaf or an inner node);
 * the block's real rows are contiguous, row s at v[0].srw_row0 + s * stride. */
static inline __attribute__((always_inline)) void
simd_deep_rows_impl(const kite_forest *f, const int32_t *start, const simd_rows *v, int nv,
                    int nan, float *out, size_t groups, uint32_t g)
{
    const int32_t *nodei = (const int32_t *)(const void *)f->kf_nodes;
    const float *nodef = (const float *)(const void *)f->kf_nodes;
    const float *row0 = v[0].srw_row0;
    int32_t n = 0;
    for (int k = 0; k < nv; k++) n += v[k].srw_count;
    const kv_i zero = kv_i_set1(0), nvec = kv_i_set1(n), two = kv_i_set1(2);
    const kv_i stride = kv_i_set1((int32_t)v[0].srw_stride);
    float leafv[KITE_SIMD_GROUP * KV_LANES];
    kv_i slot[KITE_DEEP_VECS], idx[KITE_DEEP_VECS];
    kv_m act[KITE_DEEP_VECS];
    int32_t next = 0;
    int live = 0;
    for (int d = 0; d < KITE_DEEP_VECS; d++) {
        slot[d] = kv_i_add(kv_i_iota(), kv_i_set1(next));
        act[d] = kv_i_lt(slot[d], nvec);
        next += KV_LANES;
        idx[d] = kv_mgather_i(zero, act[d], start, slot[d]);
        live |= kv_m_any(act[d]);
    }
    while (live) {
        live = 0;
#pragma GCC unroll 4
        for (int d = 0; d < KITE_DEEP_VECS; d++) {
            const kv_m a = act[d];
            const kv_i off = kv_i_sllv(idx[d], two);
            const kv_i fe = kv_mgather_i(zero, a, nodei + 1, off);
            const kv_f val = kv_mgather_f(kv_f_set1(0.0f), a, nodef, off);
            const kv_m leaf = kv_i_lt_mask(a, fe, zero);
            const kv_m in = kv_m_andn(leaf, a);
            const kv_i left = kv_mgather_i(zero, in, nodei + 2, off);
            const kv_f x = kv_mgather_f(kv_f_set1(0.0f), in, row0,
                                        kv_i_add(kv_i_mul(slot[d], stride), fe));
            kv_m right = kv_f_nlt(x, val);
            if (nan) {
                const kv_i flags = kv_mgather_i(zero, in, nodei + 3, off);
                const kv_m dleft = kv_i_nonzero(kv_i_and(flags, kv_i_set1(KITE_NODE_DEFAULT_LEFT)));
                const kv_m isn = kv_f_isnan(x);
                right = kv_m_or(kv_m_andn(isn, right), kv_m_andn(dleft, isn));
            }
            idx[d] = kv_i_mov(idx[d], in, kv_i_add_mask1(left, right));
            kv_m now = in;
            if (kv_m_any(leaf)) { /* record, then refill those lanes with the next rows */
                kv_mscatter_f(leafv, leaf, slot[d], val);
                slot[d] = kv_i_expand_seq(slot[d], leaf, next);
                next += kv_m_count(leaf);
                const kv_m fresh = kv_i_lt_mask(leaf, slot[d], nvec);
                idx[d] = kv_mgather_i(idx[d], fresh, start, slot[d]);
                now = kv_m_or(now, fresh);
            }
            act[d] = now;
            live |= kv_m_any(now);
        }
    }
    if (groups == 1)
        for (int32_t s = 0; s < n; s++) out[s] += leafv[s];
    else
        for (int32_t s = 0; s < n; s++) out[(size_t)s * groups + g] += leafv[s];
}

static __attribute__((noinline)) void simd_deep_rows(const kite_forest *f, const int32_t *start,
                                                     const simd_rows *v, int nv, int nan,
                                                     float *out, size_t groups, uint32_t g)
{
    if (nan) simd_deep_rows_impl(f, start, v, nv, 1, out, groups, g);
    else simd_deep_rows_impl(f, start, v, nv, 0, out, groups, g);
}
