/* Builds the byte-binned layout (bytebin.h) from a forest's node array and perfect layout. */
#include <kite/mem.h>
#include <kite/bytebin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/forest.h>

/* Record sizes (bytes) for trees of depth <= 6 and of depth 7..8; see the table in bytebin.h. */
#define BYTEBIN_REC_SMALL (64 + 128 + 4 * 64)
#define BYTEBIN_REC_LARGE (256 + 128 + 4 * 256 + 256 + 2 * 128)
#define BYTEBIN_REC_WIDE (128 + 128 + 2 * 128) /* 16-bit codes, depth <= 6 */

static void *bytebin_alloc(size_t bytes)
{
    return kite_mem_aligned(64, bytes);
}

void kite_bytebin_free(kite_bytebin *b)
{
    if (!b) return;
    free(b->kb_eytz);
    free(b->kb_trees);
    free(b->kb_arena);
    free(b->kb_lanes);
    free(b->kb_lane_depth);
    free(b);
}

/* A split as the sort sees it: feature, then threshold by float order (-0.0 == 0.0). */
typedef struct bytebin_split {
    int32_t bs_feature;
    float bs_value;
} bytebin_split;

static int split_cmp(const void *a, const void *b)
{
    const bytebin_split *x = a, *y = b;
    if (x->bs_feature != y->bs_feature) return x->bs_feature < y->bs_feature ? -1 : 1;
    return x->bs_value < y->bs_value ? -1 : x->bs_value > y->bs_value;
}

/* Per-build scratch: each feature's sorted distinct thresholds. */
typedef struct bytebin_ctx {
    const kite_forest *bc_f;
    kite_bytebin *bc_b;
    float *bc_thr;     /* all features' distinct thresholds, feature after feature */
    int32_t *bc_first; /* feature f's thresholds: bc_thr[bc_first[f] .. bc_first[f + 1]) */
    uint8_t *bc_rec;   /* the record being filled */
    const kite_bytetree *bc_tree;
    uint16_t bc_cols[2][128]; /* levels 6, 7: distinct columns met so far */
    int bc_ncols[2];
    int bc_too_many;   /* a level 7 needs more than 64 columns */
    int bc_wide;       /* 16-bit codes (some feature has more than 255 thresholds) */
} bytebin_ctx;

static unsigned split_index(const bytebin_ctx *c, int32_t f, float v)
{
    int32_t lo = c->bc_first[f], hi = c->bc_first[f + 1];
    while (lo < hi) { /* the first threshold >= v, which is == v: v is one of them */
        int32_t mid = lo + (hi - lo) / 2;
        if (c->bc_thr[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return (unsigned)(lo - c->bc_first[f]);
}

static void set_leaf(uint8_t *planes, size_t plane_len, size_t at, float v)
{
    uint8_t bytes[4];
    memcpy(bytes, &v, 4);
    for (int b = 0; b < 4; b++) planes[(size_t)b * plane_len + at] = bytes[b];
}

/* Fills node k = 2^level + pos of the current record from source node src, as perfect.c's
 * fill does for the float layout: a leaf above the last level pads its whole subtree. */
/* The 16-bit record (bytebin.h): node k's threshold index, column, and leaf halves. */
static void fill_wide(bytebin_ctx *c, uint32_t src, int level, uint32_t pos)
{
    const kite_node *n = &c->bc_f->kf_nodes[src];
    uint16_t *thr = (uint16_t *)c->bc_rec, *col = thr + 64, *lo = thr + 128, *hi = thr + 192;
    uint32_t k = (1u << level) + pos;
    if (level == c->bc_tree->kbt_depth) {
        uint32_t bits;
        memcpy(&bits, &n->kn_value, 4);
        lo[k % 64] = (uint16_t)bits;
        hi[k % 64] = (uint16_t)(bits >> 16);
        return;
    }
    if (n->kn_feature == KITE_NODE_LEAF) {
        thr[k] = KITE_BYTEBIN_WIDE_PAD_NODE;
        fill_wide(c, src, level + 1, 2 * pos);
        fill_wide(c, src, level + 1, 2 * pos + 1);
        return;
    }
    thr[k] = (uint16_t)split_index(c, n->kn_feature, n->kn_value);
    col[k] = (uint16_t)(64 * (2 * n->kn_feature + !(n->kn_flags & KITE_NODE_DEFAULT_LEFT)));
    fill_wide(c, n->kn_left, level + 1, 2 * pos);
    fill_wide(c, n->kn_left + 1, level + 1, 2 * pos + 1);
}

static void fill(bytebin_ctx *c, uint32_t src, int level, uint32_t pos)
{
    const kite_node *n = &c->bc_f->kf_nodes[src];
    const int depth = c->bc_tree->kbt_depth, large = depth > 6;
    const size_t thr_len = large ? 256 : 64, leaf_len = large ? 256 : 64;
    uint8_t *thr = c->bc_rec;
    uint16_t *col = (uint16_t *)(c->bc_rec + thr_len);
    uint8_t *planes = c->bc_rec + thr_len + 128;
    uint8_t *slot = planes + 4 * leaf_len;
    uint32_t k = (1u << level) + pos;
    if (level == depth) {
        set_leaf(planes, leaf_len, k % leaf_len, n->kn_value);
        return;
    }
    if (n->kn_feature == KITE_NODE_LEAF) {
        thr[k] = KITE_BYTEBIN_PAD_NODE; /* column 0 / slot 0: any column serves */
        fill(c, src, level + 1, 2 * pos);
        fill(c, src, level + 1, 2 * pos + 1);
        return;
    }
    thr[k] = (uint8_t)split_index(c, n->kn_feature, n->kn_value);
    uint16_t column = (uint16_t)(2 * n->kn_feature + !(n->kn_flags & KITE_NODE_DEFAULT_LEFT));
    if (level < 6) {
        col[k] = (uint16_t)(column * 64);
    } else {
        int l = level - 6, s = 0;
        while (s < c->bc_ncols[l] && c->bc_cols[l][s] != column) s++;
        if (s == c->bc_ncols[l]) {
            if (s == 64) { /* more distinct columns than one vpermb slot table holds */
                c->bc_too_many = 1;
                s = 0;
            } else {
                c->bc_cols[l][c->bc_ncols[l]++] = column;
            }
        }
        slot[k] = (uint8_t)s;
    }
    fill(c, n->kn_left, level + 1, 2 * pos);
    fill(c, n->kn_left + 1, level + 1, 2 * pos + 1);
}

/* Lane layout: node k (level `level`, position pos) of the tree in `lane` from source src. */
static void fill_lane(const bytebin_ctx *c, uint8_t *grp, int depth, int lane, uint32_t src,
                      int level, uint32_t pos)
{
    const kite_node *n = &c->bc_f->kf_nodes[src];
    uint8_t *thr = grp, *col = grp + 64 * 64;
    float *leaf = (float *)(grp + 2 * 64 * 64);
    uint32_t k = (1u << level) + pos;
    if (level == depth) {
        leaf[lane * 64 + pos] = n->kn_value;
        return;
    }
    if (n->kn_feature == KITE_NODE_LEAF) { /* both halves of the padded subtree: the leaf */
        thr[k * 64 + (uint32_t)lane] = KITE_BYTEBIN_PAD_NODE;
        fill_lane(c, grp, depth, lane, src, level + 1, 2 * pos);
        fill_lane(c, grp, depth, lane, src, level + 1, 2 * pos + 1);
        return;
    }
    thr[k * 64 + (uint32_t)lane] = (uint8_t)split_index(c, n->kn_feature, n->kn_value);
    col[k * 64 + (uint32_t)lane] =
        (uint8_t)(2 * n->kn_feature + !(n->kn_flags & KITE_NODE_DEFAULT_LEFT));
    fill_lane(c, grp, depth, lane, n->kn_left, level + 1, 2 * pos);
    fill_lane(c, grp, depth, lane, n->kn_left + 1, level + 1, 2 * pos + 1);
}

/* The small-batch lane groups, when every tree is <= 6 deep and 2F codes fit two registers;
 * -1 when out of memory. Unused lanes and nodes stay 255 / column 0 / leaf 0.0 (never added). */
static int build_lanes(bytebin_ctx *c)
{
    const kite_forest *f = c->bc_f;
    kite_bytebin *b = c->bc_b;
    if (f->kf_num_feature > 64) return 1;
    for (int32_t ti = 0; ti < f->kf_num_trees; ti++)
        if (b->kb_trees[ti].kbt_depth > 6) return 1;
    int32_t groups = (f->kf_num_trees + 63) / 64;
    b->kb_lanes = bytebin_alloc((size_t)groups * KITE_BYTEBIN_LANE_GROUP_BYTES);
    b->kb_lane_depth = calloc((size_t)groups + 1, 1);
    if (!b->kb_lanes || !b->kb_lane_depth) return -1;
    b->kb_lane_groups = groups;
    for (int32_t g = 0; g < groups; g++) {
        uint8_t *grp = b->kb_lanes + (size_t)g * KITE_BYTEBIN_LANE_GROUP_BYTES;
        memset(grp, KITE_BYTEBIN_PAD_NODE, 64 * 64);
        int depth = 0;
        for (int32_t ti = 64 * g; ti < f->kf_num_trees && ti < 64 * (g + 1); ti++)
            if (b->kb_trees[ti].kbt_depth > depth) depth = b->kb_trees[ti].kbt_depth;
        b->kb_lane_depth[g] = (uint8_t)depth;
        for (int32_t ti = 64 * g; ti < f->kf_num_trees && ti < 64 * (g + 1); ti++)
            fill_lane(c, grp, depth, (int)(ti - 64 * g), f->kf_tree_root[ti], 0, 0);
    }
    return 1;
}

static int refuse(kite_bytebin *b, const char *why)
{
    snprintf(b->kb_reason, sizeof b->kb_reason, "%s", why);
    b->kb_ok = 0;
    return 0;
}

/* The thresholds of every split, sorted and made distinct per feature; 0 with a reason when a
 * feature has too many or one is NaN, -1 when out of memory. */
static int collect_thresholds(bytebin_ctx *c)
{
    const kite_forest *f = c->bc_f;
    kite_bytebin *b = c->bc_b;
    size_t nsplit = 0;
    for (size_t i = 0; i < f->kf_num_nodes; i++) nsplit += f->kf_nodes[i].kn_feature != KITE_NODE_LEAF;
    bytebin_split *all = malloc((nsplit + 1) * sizeof *all);
    c->bc_thr = malloc((nsplit + 1) * sizeof(float));
    c->bc_first = calloc((size_t)f->kf_num_feature + 1, sizeof(int32_t));
    if (!all || !c->bc_thr || !c->bc_first) {
        free(all);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < f->kf_num_nodes; i++) {
        const kite_node *n = &f->kf_nodes[i];
        if (n->kn_feature == KITE_NODE_LEAF) continue;
        if (n->kn_value != n->kn_value) {
            free(all);
            return refuse(b, "a split threshold is NaN");
        }
        all[m++] = (bytebin_split){n->kn_feature, n->kn_value};
    }
    qsort(all, m, sizeof *all, split_cmp);
    int32_t out = 0, max_splits = 0;
    for (int32_t feat = 0, i = 0; feat < f->kf_num_feature; feat++) {
        c->bc_first[feat] = out;
        for (; (size_t)i < m && all[i].bs_feature == feat; i++)
            if (out == c->bc_first[feat] || c->bc_thr[out - 1] != all[i].bs_value)
                c->bc_thr[out++] = all[i].bs_value; /* == merges -0.0 and 0.0 */
        int32_t n = out - c->bc_first[feat];
        if (n > max_splits) max_splits = n;
        if (n > KITE_BYTEBIN_WIDE_MAX_SPLITS) {
            free(all);
            snprintf(b->kb_reason, sizeof b->kb_reason,
                     "feature %d has %d distinct split values (16-bit codes hold %d)", feat, n,
                     KITE_BYTEBIN_WIDE_MAX_SPLITS);
            return 0;
        }
    }
    c->bc_first[f->kf_num_feature] = out;
    b->kb_max_splits = max_splits;
    free(all);
    if (max_splits <= KITE_BYTEBIN_MAX_SPLITS) return 1;
    c->bc_wide = 1; /* 16-bit codes: trees up to 6 levels only */
    for (int32_t ti = 0; ti < f->kf_num_trees; ti++)
        if (f->kf_perfect->kp_trees[ti].kpt_depth > KITE_BYTEBIN_WIDE_MAX_DEPTH) {
            snprintf(b->kb_reason, sizeof b->kb_reason,
                     "%d split values need 16-bit codes, and tree %d is deeper than their %d "
                     "levels", max_splits, ti, KITE_BYTEBIN_WIDE_MAX_DEPTH);
            return 0;
        }
    return 1;
}

/* In-order position of the implicit tree's node j (1-based, level order) among 2^S - 1. */
static void eytzinger(const float *sorted, int32_t n, float *e, uint32_t size, uint32_t j,
                      int32_t *next)
{
    if (j >= size) return;
    eytzinger(sorted, n, e, size, 2 * j, next);
    e[j] = *next < n ? sorted[*next] : __builtin_nanf("");
    ++*next;
    eytzinger(sorted, n, e, size, 2 * j + 1, next);
}

static int check_trees(const kite_forest *f, kite_bytebin *b)
{
    if (!f->kf_perfect) return refuse(b, "no perfect-tree layout");
    if (f->kf_num_feature > KITE_BYTEBIN_MAX_FEATURES)
        return refuse(b, "more features than the byte kernel's block holds");
    if (f->kf_num_group > KITE_BYTEBIN_MAX_GROUPS) return refuse(b, "too many output groups");
    for (int32_t ti = 0; ti < f->kf_num_trees; ti++) {
        const kite_ptree *t = &f->kf_perfect->kp_trees[ti];
        if (t->kpt_kind == KITE_PTREE_SCALAR) return refuse(b, "a tree has a categorical split");
        if (t->kpt_kind != KITE_PTREE_PERFECT || t->kpt_depth > KITE_BYTEBIN_MAX_DEPTH) {
            snprintf(b->kb_reason, sizeof b->kb_reason, "tree %d is deeper than %d levels", ti,
                     KITE_BYTEBIN_MAX_DEPTH);
            return 0;
        }
    }
    return 1;
}

static int build_trees(bytebin_ctx *c)
{
    const kite_forest *f = c->bc_f;
    kite_bytebin *b = c->bc_b;
    size_t ntrees = (size_t)f->kf_num_trees, size = 0;
    b->kb_trees = calloc(ntrees + 1, sizeof *b->kb_trees);
    if (!b->kb_trees) return -1;
    for (size_t ti = 0; ti < ntrees; ti++) {
        kite_bytetree *t = &b->kb_trees[ti];
        t->kbt_off = (uint32_t)size;
        t->kbt_group = (uint16_t)f->kf_tree_group[ti];
        t->kbt_depth = f->kf_perfect->kp_trees[ti].kpt_depth;
        size += c->bc_wide ? BYTEBIN_REC_WIDE
                : t->kbt_depth > 6 ? BYTEBIN_REC_LARGE : BYTEBIN_REC_SMALL;
        if (size > UINT32_MAX - BYTEBIN_REC_LARGE) return refuse(b, "tree records exceed 4 GiB");
    }
    b->kb_arena = bytebin_alloc(size);
    b->kb_arena_size = size;
    if (!b->kb_arena) return -1;
    for (size_t ti = 0; ti < ntrees; ti++) {
        const kite_bytetree *t = &b->kb_trees[ti];
        c->bc_tree = t;
        c->bc_rec = b->kb_arena + t->kbt_off;
        c->bc_ncols[0] = c->bc_ncols[1] = 0;
        if (c->bc_wide) {
            fill_wide(c, f->kf_tree_root[ti], 0, 0);
            continue;
        }
        fill(c, f->kf_tree_root[ti], 0, 0);
        if (c->bc_too_many) return refuse(b, "a tree level reads more than 64 distinct columns");
        if (t->kbt_depth <= 6) continue;
        uint16_t *slotcol = (uint16_t *)(c->bc_rec + 256 + 128 + 4 * 256 + 256);
        for (int l = 0; l < 2 && 6 + l < t->kbt_depth; l++) {
            int bits = 0;
            while ((1 << bits) < c->bc_ncols[l]) bits++;
            b->kb_trees[ti].kbt_slot_bits[l] = (uint8_t)bits;
            for (int s = 0; s < 64; s++) /* unused slots repeat a real column */
                slotcol[l * 64 + s] =
                    (uint16_t)(64 * (s < c->bc_ncols[l] ? c->bc_cols[l][s] : c->bc_cols[l][0]));
        }
    }
    return 1;
}

kite_bytebin *kite_bytebin_build(const kite_forest *f)
{
    kite_bytebin *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->kb_num_feature = f->kf_num_feature;
    b->kb_num_feature_pad = (f->kf_num_feature + 15) & ~15;
    b->kb_num_trees = f->kf_num_trees;
    b->kb_num_group = f->kf_num_group;
    for (int32_t g = 0; g < f->kf_num_group && g < KITE_BYTEBIN_MAX_GROUPS; g++)
        b->kb_base_margins[g] = f->kf_base_margins[g];
    if (!check_trees(f, b)) return b;
    bytebin_ctx c = {.bc_f = f, .bc_b = b};
    int r = collect_thresholds(&c);
    if (r == 1) {
        int32_t steps = 1;
        while ((1 << steps) - 1 < b->kb_max_splits) steps++;
        b->kb_steps = steps;
        uint32_t size = 1u << steps;
        b->kb_eytz_stride = size < 16 ? 16 : (int32_t)size;
        b->kb_eytz = bytebin_alloc((size_t)b->kb_num_feature_pad * (size_t)b->kb_eytz_stride *
                                   sizeof(float));
        if (!b->kb_eytz) r = -1;
        for (int32_t feat = 0; r == 1 && feat < b->kb_num_feature_pad; feat++) {
            int32_t next = 0, first = feat < f->kf_num_feature ? c.bc_first[feat] : 0;
            int32_t n = feat < f->kf_num_feature ? c.bc_first[feat + 1] - first : 0;
            float *e = b->kb_eytz + (size_t)feat * (size_t)b->kb_eytz_stride;
            for (int32_t j = 0; j < b->kb_eytz_stride; j++) e[j] = __builtin_nanf("");
            eytzinger(c.bc_thr + first, n, e, size, 1, &next);
        }
    }
    b->kb_code_bytes = c.bc_wide ? 2 : 1;
    b->kb_vector_rows = c.bc_wide ? 32 : 64;
    b->kb_min_rows = c.bc_wide ? KITE_BYTEBIN_WIDE_MIN_ROWS : KITE_BYTEBIN_MIN_ROWS;
    if (r == 1) r = build_trees(&c);
    if (r == 1 && !b->kb_reason[0] && !c.bc_wide) r = build_lanes(&c);
    free(c.bc_thr);
    free(c.bc_first);
    if (r < 0) {
        kite_bytebin_free(b);
        return NULL;
    }
    b->kb_ok = r == 1 && !b->kb_reason[0];
    return b;
}

_Thread_local size_t kite__bytebin_rows;
_Thread_local size_t kite__bytebin_lane_rows;

int kite_bytebin_applies(const kite_forest *f, size_t nrows)
{
    return f->kf_bytebin && f->kf_bytebin->kb_ok && nrows >= (size_t)f->kf_bytebin->kb_min_rows;
}

unsigned kite_bytebin_bin(const kite_bytebin *b, int32_t f, float x)
{
    const uint32_t size = 1u << b->kb_steps;
    const float *e = b->kb_eytz + (size_t)f * (size_t)b->kb_eytz_stride;
    uint32_t k = 1;
    for (int s = 0; s < b->kb_steps; s++) k = 2 * k + (e[k] <= x);
    return k - size;
}
