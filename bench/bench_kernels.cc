// kite kernels vs XGBoost's own predictor, one thread, same model and rows.
//
// For every model trained by bench/train_models.py (in KITE_BENCH_MODELS, default the build's
// bench_models/), every batch size and every kernel this CPU runs, one benchmark scores the
// first `batch` rows of rows.csv; "xgboost" scores the same rows with XGBoosterPredictFromDense
// (inplace predict, margins, nthread=1). Counters: ns_per_tree_row and rows/s. At the end a
// table puts kite's best kernel beside XGBoost with the ratio.
#include <benchmark/benchmark.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

// kite's headers are C11; their _Static_asserts and _Thread_locals read as C++'s keywords.
#define _Static_assert static_assert
#define _Thread_local thread_local
extern "C" {
#include <kite/csv.h>
#include <kite/dispatch.h>
#include <kite/xgb_model.h>
}

namespace {

struct BenchModel {
  std::string name;
  kite_model model{};
  kite_forest forest{};
  BoosterHandle booster = nullptr;
  int trees = 0;
};

struct Rows {
  std::vector<float> data;
  size_t nrows = 0, ncols = 0;
};

Rows g_rows;
std::vector<std::unique_ptr<BenchModel>> g_models;

// Best ns per tree per row seen, keyed by "model/batch" then engine ("xgboost" or a kernel).
std::map<std::string, std::map<std::string, double>> g_results;

const int kBatches[] = {1, 16, 256, 4096};

double NsPerTreeRow(const benchmark::State &state, int trees, int batch) {
  (void)state;
  return 1e9 / (double(trees) * batch);
}

void SetCounters(benchmark::State &state, int trees, int batch) {
  state.counters["rows/s"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
  // seconds per (tree x row), scaled to ns: 1 / rate of (trees * batch * 1e-9) per second
  state.counters["ns_per_tree_row"] = benchmark::Counter(
      double(trees) * batch * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  (void)NsPerTreeRow;
}

void BM_Kite(benchmark::State &state, BenchModel *m, kite_isa isa, int batch) {
  kite_margins_fn fn = kite_isa_kernel(isa);
  std::vector<float> out(size_t(batch) * m->forest.kf_num_group);
  for (auto _ : state) {
    fn(&m->forest, g_rows.data.data(), size_t(batch), g_rows.ncols, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, m->trees, batch);
}

void BM_Xgboost(benchmark::State &state, BenchModel *m, int batch) {
  char iface[256];
  std::snprintf(iface, sizeof iface,
                "{\"data\": [%llu, true], \"shape\": [%d, %zu], \"typestr\": \"<f4\", "
                "\"version\": 3}",
                (unsigned long long)(uintptr_t)g_rows.data.data(), batch, g_rows.ncols);
  const char *config =
      "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
  for (auto _ : state) {
    bst_ulong const *shape;
    bst_ulong dim;
    const float *result;
    if (XGBoosterPredictFromDense(m->booster, iface, config, nullptr, &shape, &dim, &result)) {
      state.SkipWithError(XGBGetLastError());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  SetCounters(state, m->trees, batch);
}

// Prints what the console reporter prints, and remembers each run for the summary table.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      std::string name = r.benchmark_name();  // model/batch:N/engine
      size_t cut = name.rfind('/');
      auto it = r.counters.find("ns_per_tree_row");
      if (cut == std::string::npos || it == r.counters.end()) continue;
      double &best = g_results[name.substr(0, cut)][name.substr(cut + 1)];
      if (best == 0 || it->second.value < best) best = it->second.value;
    }
  }
};

bool LoadRows(const std::string &path) {
  char err[512];
  kite_matrix x;
  if (kite_csv_load_matrix(path.c_str(), nullptr, nullptr, 32, &x, err, sizeof err)) {
    std::fprintf(stderr, "bench: %s\n", err);
    return false;
  }
  g_rows.nrows = x.kmx_rows;
  g_rows.ncols = x.kmx_cols;
  g_rows.data.assign(x.kmx_data, x.kmx_data + x.kmx_rows * x.kmx_cols);
  kite_matrix_free(&x);
  return g_rows.nrows >= 4096;
}

// Loads a model into kite and XGBoost and checks both give the same margins on all rows.
bool LoadModel(const std::string &dir, const std::string &name) {
  auto m = std::make_unique<BenchModel>();
  m->name = name;
  std::string path = dir + "/" + name + ".json";
  char err[512];
  if (kite_model_load(path.c_str(), &m->model, err, sizeof err) ||
      kite_forest_build(&m->model, &m->forest, err, sizeof err)) {
    std::fprintf(stderr, "bench: %s\n", err);
    return false;
  }
  m->trees = m->forest.kf_num_trees;
  if (XGBoosterCreate(nullptr, 0, &m->booster) ||
      XGBoosterLoadModel(m->booster, path.c_str()) ||
      XGBoosterSetParam(m->booster, "nthread", "1")) {
    std::fprintf(stderr, "bench: xgboost: %s\n", XGBGetLastError());
    return false;
  }
  int perfect = 0;
  for (int t = 0; t < m->trees; t++)
    perfect += m->forest.kf_perfect->kp_trees[t].kpt_kind == KITE_PTREE_PERFECT;
  const kite_bytebin *bb = m->forest.kf_bytebin;
  std::fprintf(stderr, "bench: %s: %d trees, max depth %d, %d padded to perfect trees, byte codes: %s\n",
               name.c_str(), m->trees, m->forest.kf_max_depth, perfect,
               bb && bb->kb_ok ? "yes" : bb ? bb->kb_reason : "no layout");
  g_models.push_back(std::move(m));
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  const char *env = std::getenv("KITE_BENCH_MODELS");
  std::string dir = env ? env : KITE_BENCH_DEFAULT_MODELS;
  if (!LoadRows(dir + "/rows.csv")) return 1;
  for (const char *name :
       {"d3_t100", "d6_t100", "d6_t500", "d6_t1000", "d8_t300", "d8_t500", "lossguide255_t500"})
    if (!LoadModel(dir, name)) return 1;

  for (auto &m : g_models)
    for (int batch : kBatches) {
      std::string base = m->name + "/batch:" + std::to_string(batch) + "/";
      for (int isa = 0; isa < KITE_ISA__COUNT; isa++)
        if (kite_isa_available(kite_isa(isa)))
          benchmark::RegisterBenchmark((base + kite_isa_name(kite_isa(isa))).c_str(), BM_Kite,
                                       m.get(), kite_isa(isa), batch);
      benchmark::RegisterBenchmark((base + "xgboost").c_str(), BM_Xgboost, m.get(), batch);
    }

  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::printf("\nns per tree per row (one thread; lower is better)\n");
  // Columns: every kernel this build knows (dispatch.h's list), then XGBoost.
  std::vector<std::string> columns;
  for (int isa = 0; isa < KITE_ISA__COUNT; isa++) columns.push_back(kite_isa_name(kite_isa(isa)));
  columns.push_back("xgboost");
  std::printf("%-30s", "model/batch");
  for (const std::string &c : columns) std::printf(" %10s", c.c_str());
  std::printf("  %s\n", "xgboost / best kite");
  for (auto &[key, engines] : g_results) {
    std::printf("%-30s", key.c_str());
    double best = 0;
    for (const std::string &e : columns) {
      auto it = engines.find(e);
      if (it == engines.end()) {
        std::printf(" %10s", "-");
        continue;
      }
      std::printf(" %10.3f", it->second);
      if (e != "xgboost" && (best == 0 || it->second < best)) best = it->second;
    }
    auto x = engines.find("xgboost");
    if (x != engines.end() && best > 0) std::printf("  %.1fx", x->second / best);
    std::printf("\n");
  }
  for (auto &m : g_models) {
    XGBoosterFree(m->booster);
    kite_forest_free(&m->forest);
    kite_model_free(&m->model);
  }
  benchmark::Shutdown();
  return 0;
}
