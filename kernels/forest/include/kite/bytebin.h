/* kite_bytebin: the byte-binned layout of a forest, for the 64-rows-per-register kernel
 * (traverse_avx512vbmi.c). Built once at load time beside kf_perfect (kite_forest_build calls
 * kite_bytebin_build), immutable afterwards.
 *
 * Why bytes are exact. For feature f, let t_0 < t_1 < ... < t_{n-1} be the distinct split
 * thresholds of all its nodes (compared as floats, so -0.0 and 0.0 are one threshold). A
 * non-NaN value x becomes its bin, bin(x) = #{ i : t_i <= x } in 0..n. Because the t_i are
 * sorted, `x < t_i` holds exactly when fewer than i + 1 thresholds are <= x, i.e.
 *
 *     x < t_i   <=>   bin(x) <= i          (for every non-NaN float x, +-inf included)
 *
 * so a node "x < t_i goes left" becomes "code > i goes right", one unsigned byte compare, and the
 * leaf reached is the float walk's leaf, bit for bit. With n <= 255 a bin fits a byte and every
 * node's i is <= 254, which leaves two codes free of meaning:
 *   - NaN: each feature has two code columns. Column 2f maps NaN to 0 (0 > i never holds: always
 *     left), column 2f+1 maps NaN to 255 (255 > i always holds: always right); a node reads the
 *     column of its default direction, so missing values need no per-level branch.
 *   - padding: a padded node (perfect.h: a leaf above the last level, both subtrees equal) gets
 *     i = 255, which no code exceeds.
 *
 * Binning (the kernel's first step per 64 rows): the thresholds of feature f, padded with NaN to
 * 2^S - 1 entries (S = kb_steps, the same for every feature), are stored as an implicit binary
 * search tree in level order (Eytzinger order): kb_eytz[f * kb_eytz_stride + j] for
 * j = 1..2^S-1, [0] unused; the stride is max(2^S, 16) floats, so the kernel may load the first
 * 16 entries of any feature's table as one 64-byte aligned vector. The search is k = 1; S times k = 2k + (E[k] <= x); bin = k - 2^S. A NaN entry compares
 * false, so padding never counts; a NaN x compares false with everything, so it bins to 0.
 *
 * Trees: one record per tree in kb_arena (64-byte aligned, at kbt_off), for perfect trees of
 * depth D <= KITE_BYTEBIN_MAX_DEPTH. Nodes are numbered k = 1 (root), children 2k and 2k+1 (the
 * walk's running index; its low 6 bits index a 64-byte vpermb table):
 *
 *   offset      size     field
 *   0           64 * T   thr[k]: threshold index i of node k (255: padded); T = 1 for D <= 6,
 *                        4 for D 7..8 (k up to 255)
 *   +64T        128      col[k], k < 64: byte offset (column * 64) of node k's code column
 *   +128        4 * L    leaf planes: byte b of leaf p's float at plane b, entry (2^D + p) mod L;
 *                        L = 64 for D <= 6, 256 for D 7..8
 *   (D >= 7 only, levels 6 and 7: each level selects among 2^B distinct columns)
 *   +4L         256      slot[k], 64 <= k < 256: which of its level's columns node k reads
 *   +256        2 x 128  slotcol[level - 6][s]: byte offset of column s of that level (2^B used)
 *
 * Leaf values are the forest's (dart weights already applied); each row still adds its leaves in
 * tree order in float32, so margins equal the scalar kernel's.
 *
 * Small batches (kb_lanes, when kb_ok, every tree is at most 6 deep and num_feature <= 64):
 * trees in lanes instead of rows. Trees are taken 64 at a time (a lane group; the last one may
 * be partial); for group g at kb_lanes + g * KITE_BYTEBIN_LANE_GROUP_BYTES:
 *   thr[k][lane]    64 x 64 bytes   threshold index of node k of tree 64g + lane (255: padded)
 *   col[k][lane]    64 x 64 bytes   its code column (2f or 2f+1, < 128)
 *   leaf[lane][p]   64 x 64 floats  leaf p of the tree padded to the group's depth
 * A row's 2F codes fit two registers, so each lane's code is one vpermi2b of its column.
 *
 * 16-bit codes (kb_code_bytes 2; traverse_avx512vbmi_wide.c): when some feature has 256 to
 * 65535 distinct thresholds, every code is a uint16 instead (the same bins, 32 rows per vector;
 * NaN -> 0 / 65535 in columns 2f / 2f+1, a padded node has index 65535), for trees of depth
 * <= KITE_BYTEBIN_WIDE_MAX_DEPTH. The search takes up to 16 steps, those past 8 gathered. One
 * record of BYTEBIN_REC_WIDE bytes per tree:
 *
 *   offset      size     field
 *   0           64 x 2   thr[k]: threshold index of node k (65535: padded)
 *   128         64 x 2   col[k]: byte offset (column * 64) of node k's code column
 *   256         64 x 2   lo[p]: low 16 bits of leaf p's float, entry (2^D + p) mod 64
 *   384         64 x 2   hi[p]: its high 16 bits
 *
 * Applicability (kb_ok): every feature has <= 65535 distinct thresholds and none is NaN; every
 * tree is KITE_PTREE_PERFECT of depth <= KITE_BYTEBIN_MAX_DEPTH (no categorical split, no
 * deep lossguide tree), <= KITE_BYTEBIN_WIDE_MAX_DEPTH with 16-bit codes; num_feature <=
 * KITE_BYTEBIN_MAX_FEATURES; num_group <= KITE_BYTEBIN_MAX_GROUPS. Otherwise kb_reason says
 * which rule failed and the kernel scores with the float AVX-512 kernel. Batches below
 * kb_min_rows (48 with byte codes, 4 with 16-bit codes), and a last partial vector of fewer
 * rows, also go to the float kernel: the lanes and the binning would mostly be wasted. */
#ifndef KITE_BYTEBIN_H
#define KITE_BYTEBIN_H

#include <stddef.h>
#include <stdint.h>

#define KITE_BYTEBIN_MAX_SPLITS 255    /* distinct thresholds per feature                  */
#define KITE_BYTEBIN_MAX_DEPTH 8
#define KITE_BYTEBIN_MAX_FEATURES 128  /* keeps a 64-row block's codes (2F x 64 B) in L1  */
#define KITE_BYTEBIN_MAX_GROUPS 16     /* per-group accumulators of a block on the stack   */
#define KITE_BYTEBIN_MIN_ROWS 48       /* smaller batches (and tails) use the float kernel */
#define KITE_BYTEBIN_PAD_NODE 255      /* threshold index of a padded node: always left    */
#define KITE_BYTEBIN_WIDE_MAX_SPLITS 65535 /* ... with 16-bit codes                        */
#define KITE_BYTEBIN_WIDE_MAX_DEPTH 6
#define KITE_BYTEBIN_WIDE_MIN_ROWS 4   /* from 4 rows it beat avx512 (bench/RESULTS.md)      */
#define KITE_BYTEBIN_WIDE_PAD_NODE 65535
#define KITE_BYTEBIN_LANE_GROUP_BYTES (2 * 64 * 64 + 64 * 64 * 4)
/* Batches (and tails) of at most this many rows take the lanes path: from 8 rows on the float
 * kernel's 16-lane vectors were faster (bench/RESULTS.md), below it walks one row at a time. */
#define KITE_BYTEBIN_LANE_MAX_ROWS 7

typedef struct kite_bytetree {
    uint32_t kbt_off;   /* byte offset of this tree's record in kb_arena (64-aligned) */
    uint16_t kbt_group; /* output group                                               */
    uint8_t kbt_depth;  /* D, levels walked                                           */
    uint8_t kbt_slot_bits[2]; /* B of levels 6 and 7 (D >= 7): 2^B columns each      */
    uint8_t kbt_pad[3];
} kite_bytetree;

typedef struct kite_bytebin {
    int kb_ok;              /* 1: the byte kernel may score this forest               */
    char kb_reason[128];    /* why not, when kb_ok is 0                               */
    int32_t kb_num_feature;
    int32_t kb_num_feature_pad; /* num_feature rounded up to 16 (binning tiles)       */
    int32_t kb_num_trees;
    int32_t kb_num_group;
    int32_t kb_code_bytes;  /* 1: byte codes, 64 rows per vector; 2: 16-bit, 32 rows  */
    int32_t kb_vector_rows; /* 64 or 32                                               */
    int32_t kb_min_rows;    /* smallest batch (and last partial vector) coded         */
    int32_t kb_steps;       /* S: search steps per value, 1..16                       */
    int32_t kb_max_splits;  /* largest number of distinct thresholds of one feature   */
    float kb_base_margins[KITE_BYTEBIN_MAX_GROUPS]; /* each output's intercept (forest's) */
    int32_t kb_eytz_stride; /* floats per feature in kb_eytz: max(2^S, 16)            */
    float *kb_eytz;         /* kb_num_feature_pad tables (see above), 64-aligned       */
    kite_bytetree *kb_trees;
    uint8_t *kb_lanes;      /* small-batch groups (above), NULL when not built         */
    uint8_t *kb_lane_depth; /* per lane group: depth its trees are padded to           */
    int32_t kb_lane_groups;
    uint8_t *kb_arena;      /* tree records, 64-aligned                               */
    size_t kb_arena_size;
} kite_bytebin;

struct kite_forest;

/* Builds the byte layout of f (after kf_perfect). Returns NULL only when out of memory; a
 * forest the rules above exclude gets kb_ok = 0 and a reason. Free with kite_bytebin_free. */
kite_bytebin *kite_bytebin_build(const struct kite_forest *f);
void kite_bytebin_free(kite_bytebin *b);

/* 1 when the byte kernel scores a batch of nrows rows of f with byte codes (the kernel asks the
 * same question); tests use it to check each limit from both sides. */
int kite_bytebin_applies(const struct kite_forest *f, size_t nrows);

/* Rows the calling thread has scored with byte codes so far (the kernel adds to it; tests read
 * it to prove which path ran). Thread-local, so no cache line is shared between threads. */
#ifndef __cplusplus /* C++ spells it thread_local; no C++ caller needs it */
extern _Thread_local size_t kite__bytebin_rows;
extern _Thread_local size_t kite__bytebin_lane_rows; /* rows scored by the lanes path */
#endif

/* Bin of x for feature f: the scalar definition the kernel's vector search must match
 * (NaN -> 0; the kernel then writes 255 into the NaN-goes-right column). */
unsigned kite_bytebin_bin(const kite_bytebin *b, int32_t f, float x);

#endif
