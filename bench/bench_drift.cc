// Drift benchmarks: the binning kernel per value, a monitor's observe per feature value
// (binning + histogram increments for the coarse and fine grids of every window), and one
// window check (every statistic for every column).
//   build-bench/bench/bench_drift --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <kite/binning.h>
#include <kite/drift.h>
#include "drift_int.h"
}

namespace {

constexpr int kFeatures = 100;
constexpr size_t kRows = 4096;

std::vector<float> random_rows(size_t rows, unsigned seed)
{
    std::mt19937 gen(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(rows * kFeatures);
    for (auto &x : v) x = dist(gen);
    return v;
}

struct Fixture {
    kite_profile profile{};
    kite_drift_monitor *monitor = nullptr;
    std::vector<float> rows;
    Fixture(int bins, int fine_bins, int nwindows)
    {
        std::vector<float> ref = random_rows(20000, 1);
        std::vector<std::string> names(kFeatures);
        std::vector<const char *> ptrs(kFeatures);
        for (int j = 0; j < kFeatures; j++) {
            names[j] = "f" + std::to_string(j);
            ptrs[j] = names[j].c_str();
        }
        kite_profile_options o = {bins, fine_bins, 0, nullptr, nullptr};
        char err[256];
        if (kite_profile_build(ref.data(), 20000, kFeatures, kFeatures, ptrs.data(), nullptr, &o,
                               &profile, err, sizeof err) != KITE_ERR_OK)
            std::abort();
        kite_drift_config cfg;
        kite_drift_config_default(&cfg);
        cfg.kdc_nwindows = nwindows; /* sliding 1000/100 (+ tumbling 10000, + decay) */
        cfg.kdc_windows[1] = {"tumbling", KITE_WINDOW_TUMBLING, 10000, 0, 0, 0};
        cfg.kdc_windows[2] = {"decay", KITE_WINDOW_DECAY, 0, 500, 0, 0.9};
        if (kite_drift_monitor_new(&profile, &cfg, &monitor, err, sizeof err) != KITE_ERR_OK)
            std::abort();
        rows = random_rows(kRows, 2);
    }
    ~Fixture()
    {
        kite_drift_monitor_free(monitor);
        kite_profile_free(&profile);
    }
};

void BM_BinningIndex(benchmark::State &state, kite_binning_fn fn)
{
    int nedges = static_cast<int>(state.range(0));
    std::vector<float> edges(nedges);
    for (int i = 0; i < nedges; i++) edges[i] = -3.0f + 6.0f * i / nedges;
    std::vector<float> rows = random_rows(256, 3);
    std::vector<uint16_t> out(256);
    for (auto _ : state) {
        for (int j = 0; j < kFeatures; j++) /* row-major batch: stride = features */
            fn(edges.data(), nedges, rows.data() + j, 256, kFeatures, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * 256 * kFeatures);
}
BENCHMARK_CAPTURE(BM_BinningIndex, scalar, kite_binning_index_scalar)->Arg(11)->Arg(257);
#if defined(__x86_64__)
BENCHMARK_CAPTURE(BM_BinningIndex, avx2, kite_binning_index_avx2)->Arg(11)->Arg(257);
#endif

/* One histogram update per feature value, as the monitor does for a numeric column's coarse
 * histogram: 100 features x 256 rows of a row-major batch, 11 edges (10 quantile bins +
 * under/overflow), counted by the active kernel straight into the histogram. */
void BM_HistogramUpdate(benchmark::State &state)
{
    const int nedges = 11;
    std::vector<float> edges(nedges);
    for (int i = 0; i < nedges; i++) edges[i] = -3.0f + 6.0f * i / nedges;
    std::vector<float> rows = random_rows(256, 4);
    std::vector<double> counts(static_cast<size_t>(kFeatures) * (nedges + 2));
    for (auto _ : state) {
        for (int j = 0; j < kFeatures; j++)
            kite_binning_count(edges.data(), nedges, rows.data() + j, 256, kFeatures,
                               counts.data() + static_cast<size_t>(j) * (nedges + 2));
        benchmark::DoNotOptimize(counts.data());
    }
    state.SetItemsProcessed(state.iterations() * 256 * kFeatures);
    state.SetLabel(kite_binning_active());
}
BENCHMARK(BM_HistogramUpdate);

/* Observe: items = feature values, so ns per item is the amortized cost per feature value. */
void BM_Observe(benchmark::State &state)
{
    Fixture fx(10, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
    size_t batch = 256, r = 0;
    for (auto _ : state) {
        kite_drift_observe(fx.monitor, fx.rows.data() + r * kFeatures, batch, kFeatures, nullptr,
                           nullptr);
        r = (r + batch) % kRows;
        kite_drift_event ev[64];
        while (kite_drift_events(fx.monitor, ev, 64)) {
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch) * kFeatures);
}
BENCHMARK(BM_Observe)->ArgNames({"fine", "windows"})->Args({256, 1})->Args({10, 1})->Args({256, 3});

/* One check of a full sliding window: PSI + the column's test for 100 features. */
void BM_Check(benchmark::State &state)
{
    Fixture fx(10, static_cast<int>(state.range(0)), 1);
    kite_drift_observe(fx.monitor, fx.rows.data(), 1000, kFeatures, nullptr, nullptr);
    for (auto _ : state) {
        kite_drift_window_check(fx.monitor, 0);
        kite_drift_event ev[64];
        while (kite_drift_events(fx.monitor, ev, 64)) {
        }
    }
}
BENCHMARK(BM_Check)->ArgNames({"fine"})->Arg(10)->Arg(256);

}  // namespace

BENCHMARK_MAIN();
