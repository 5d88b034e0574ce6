/* A plain binary image of a loaded golden model, its rows and XGBoost's margins, so a test
 * built without the loaders (cJSON, xxHash: no aarch64 copies on an x86 host) can score the
 * golden models: tests/support/golden_dump.c writes it with the x86 build's loaders,
 * tests/unit/test_golden_neon.c reads it on qemu-aarch64 and checks the NEON kernel.
 *
 * Layout (host-endian; x86-64 and AArch64 are both little-endian), in order:
 *   char    magic[8]           "KITEGD1\n"
 *   int32   num_feature, num_group, num_trees, transform, version[3], has_weights
 *   float   base_margin
 *   per tree: int32 num_nodes; int32 left[n], right[n], feature[n]; float value[n];
 *             uint8 default_left[n], is_cat[n]; uint32 cat_begin[n], cat_count[n];
 *             uint32 num_cats; uint32 cats[num_cats]
 *   int32   tree_group[num_trees]; float tree_weight[num_trees] (when has_weights)
 *   uint64  rows, cols; float data[rows*cols]      (row-major, NaN = missing)
 *   float   margin[rows*num_group]                 (XGBoost's own, from tests/golden/xgb1.7)
 */
#ifndef KITE_GOLDEN_DUMP_H
#define KITE_GOLDEN_DUMP_H
#define KITE_GOLDEN_DUMP_MAGIC "KITEGD1\n"
#endif
