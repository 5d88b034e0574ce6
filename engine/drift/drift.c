/* Drift monitor: creation, per-batch observation into windows, labels, flush, accessors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kite/binning.h>
#include "drift_int.h"
#include "drift_stats.h"

/* ---- creation --------------------------------------------------------------------------- */

/* Evidently's default test for a column (see drift.h), from the reference alone. */
static kite_drift_test auto_test(const kite_profile_column *c)
{
    int nvalues = 0;
    const double *counts = c->kpc_kind == KITE_PROFILE_NUMERIC ? c->kpc_fine_counts : c->kpc_counts;
    int nb = c->kpc_kind == KITE_PROFILE_NUMERIC ? c->kpc_nfine + 1 : c->kpc_nedges + 1;
    for (int i = 0; i < nb; i++) nvalues += counts[i] > 0;
    int numeric = c->kpc_kind == KITE_PROFILE_NUMERIC && nvalues > 5;
    if (c->kpc_count <= KITE_PROFILE_SMALL_REFERENCE) {
        if (numeric) return KITE_DRIFT_TEST_KS;
        return nvalues > 2 ? KITE_DRIFT_TEST_CHI2 : KITE_DRIFT_TEST_Z;
    }
    return numeric ? KITE_DRIFT_TEST_WASSERSTEIN : KITE_DRIFT_TEST_JS;
}

static kite_err window_init(kite_drift_monitor *m, drift_window *w,
                            const kite_drift_window_config *cfg, char *errstr, size_t errstr_size)
{
    w->dw_cfg = *cfg;
    w->dw_nslots = 1;
    w->dw_period = NAN;
    w->dw_sum_tmax = NAN;
    switch (cfg->kwc_kind) {
    case KITE_WINDOW_SLIDING:
        if (cfg->kwc_step == 0 || cfg->kwc_size < cfg->kwc_step || cfg->kwc_size % cfg->kwc_step ||
            cfg->kwc_size / cfg->kwc_step > 100000)
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                             "window %s: sliding size %zu must be a multiple of step %zu (> 0, "
                             "at most 100000 steps)",
                             cfg->kwc_name, cfg->kwc_size, cfg->kwc_step);
        w->dw_nslots = cfg->kwc_size / cfg->kwc_step + 1;
        w->dw_step = cfg->kwc_step;
        break;
    case KITE_WINDOW_TUMBLING: w->dw_step = cfg->kwc_size; break;
    case KITE_WINDOW_TIME:
        if (!(cfg->kwc_period_s > 0))
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "window %s: period must be > 0",
                             cfg->kwc_name);
        break;
    case KITE_WINDOW_DECAY:
        if (cfg->kwc_step == 0 || !(cfg->kwc_decay > 0 && cfg->kwc_decay < 1))
            return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size,
                             "window %s: decay needs a step > 0 and a factor in (0, 1)",
                             cfg->kwc_name);
        w->dw_step = cfg->kwc_step;
        break;
    default:
        return kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "window %s: unknown kind",
                         cfg->kwc_name);
    }
    size_t width = m->dm_width, hist = m->dm_cfg.kdc_history, ncols = (size_t)m->dm_ncols;
    w->dw_ring = calloc(w->dw_nslots * width, sizeof *w->dw_ring);
    w->dw_ring_tmax = malloc(w->dw_nslots * sizeof *w->dw_ring_tmax);
    w->dw_sum = calloc(width, sizeof *w->dw_sum);
    w->dw_snap = calloc(m->dm_coarse_width, sizeof *w->dw_snap);
    w->dw_hist = calloc(hist, sizeof *w->dw_hist);
    w->dw_hist_cols = calloc(hist * ncols, sizeof *w->dw_hist_cols);
    w->dw_levels = calloc(ncols, sizeof *w->dw_levels);
    if (!w->dw_ring || !w->dw_ring_tmax || !w->dw_sum || !w->dw_snap || !w->dw_hist ||
        !w->dw_hist_cols || !w->dw_levels || kite__drift_shadow_window_init(m, w) != 0)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "drift monitor: no memory");
    for (size_t i = 0; i < w->dw_nslots; i++) w->dw_ring_tmax[i] = NAN;
    for (size_t i = 0; i < hist; i++) w->dw_hist[i].kdr_columns = w->dw_hist_cols + i * ncols;
    w->dw_prediction = 0;
    return KITE_ERR_OK;
}

kite_err kite_drift_monitor_new(const kite_profile *profile, const kite_drift_config *config,
                                kite_drift_monitor **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    kite_drift_monitor *m = calloc(1, sizeof *m);
    if (!m) return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "drift monitor: no memory");
    m->dm_profile = profile;
    if (config)
        m->dm_cfg = *config;
    else
        kite_drift_config_default(&m->dm_cfg);
    kite_drift_config *cfg = &m->dm_cfg;
    if (cfg->kdc_history == 0) cfg->kdc_history = 1;
    m->dm_task = cfg->kdc_task != KITE_TASK_NONE ? cfg->kdc_task : kite_task_parse(profile->kpf_task);
    int n = m->dm_ncols = profile->kpf_ncolumns;
    m->dm_nfeat = kite_profile_num_features(profile);
    m->dm_pred_col = m->dm_nfeat < n ? n - 1 : -1;
    m->dm_col_off = calloc((size_t)n, sizeof *m->dm_col_off);
    m->dm_col_nb = calloc((size_t)n, sizeof *m->dm_col_nb);
    m->dm_fine_off = calloc((size_t)n, sizeof *m->dm_fine_off);
    m->dm_fine_nb = calloc((size_t)n, sizeof *m->dm_fine_nb);
    m->dm_test = calloc((size_t)n, sizeof *m->dm_test);
    m->dm_idx = calloc((size_t)n * DRIFT_CHUNK_ROWS, sizeof *m->dm_idx);
    m->dm_fidx = calloc((size_t)n * DRIFT_CHUNK_ROWS, sizeof *m->dm_fidx);
    kite_err err = KITE_ERR_OK;
    if (!m->dm_col_off || !m->dm_col_nb || !m->dm_fine_off || !m->dm_fine_nb || !m->dm_test ||
        !m->dm_idx || !m->dm_fidx) {
        kite_drift_monitor_free(m);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "drift monitor: no memory");
    }
    if (err == KITE_ERR_OK && (cfg->kdc_nwindows < 1 || cfg->kdc_nwindows > KITE_DRIFT_MAX_WINDOWS))
        err = kite_errf(KITE_ERR_CONFIG, errstr, errstr_size, "drift: 1 to %d windows, not %d",
                        KITE_DRIFT_MAX_WINDOWS, cfg->kdc_nwindows);
    size_t off = 0;
    for (int c = 0; c < n; c++) { /* every coarse histogram first: reports snapshot only those */
        m->dm_col_off[c] = off;
        m->dm_col_nb[c] = (size_t)profile->kpf_columns[c].kpc_nedges + 2;
        off += m->dm_col_nb[c];
    }
    m->dm_coarse_width = off;
    m->dm_ref_q = calloc(off, sizeof *m->dm_ref_q);
    m->dm_ref_lnq = calloc(off, sizeof *m->dm_ref_lnq);
    m->dm_ref_ok = calloc((size_t)n, 1);
    if (!m->dm_ref_q || !m->dm_ref_lnq || !m->dm_ref_ok) {
        kite_drift_monitor_free(m);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "drift monitor: no memory");
    }
    for (int c = 0; c < n; c++)
        m->dm_ref_ok[c] = (char)kite__drift_psi_prepare(profile->kpf_columns[c].kpc_counts,
                                                       m->dm_col_nb[c] - 1,
                                                       m->dm_ref_q + m->dm_col_off[c],
                                                       m->dm_ref_lnq + m->dm_col_off[c]);
    for (int c = 0; c < n && err == KITE_ERR_OK; c++) {
        const kite_profile_column *pc = &profile->kpf_columns[c];
        m->dm_fine_off[c] = off;
        m->dm_fine_nb[c] = pc->kpc_kind == KITE_PROFILE_NUMERIC ? (size_t)pc->kpc_nfine + 2 : 0;
        off += m->dm_fine_nb[c];
        m->dm_test[c] = cfg->kdc_test == KITE_DRIFT_TEST_AUTO ? auto_test(pc) : cfg->kdc_test;
        /* KS and Wasserstein need the fine grid a categorical column does not have. */
        if (pc->kpc_kind == KITE_PROFILE_CATEGORICAL &&
            (m->dm_test[c] == KITE_DRIFT_TEST_KS || m->dm_test[c] == KITE_DRIFT_TEST_WASSERSTEIN))
            m->dm_test[c] = auto_test(pc);
    }
    m->dm_ev_slot = off++;
    m->dm_q_slot = off;
    m->dm_width = off + KITE_QUALITY_SLOTS;
    kite__drift_shadow_layout(m);
    for (int w = 0; w < cfg->kdc_nwindows && err == KITE_ERR_OK; w++)
        err = window_init(m, &m->dm_win[w], &cfg->kdc_windows[w], errstr, errstr_size);
    if (err == KITE_ERR_OK && cfg->kdc_label_capacity &&
        kite__label_buffer_init(&m->dm_labels, cfg->kdc_label_capacity) != 0)
        err = kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "drift monitor: label buffer");
    kite_page_hinkley_init(&m->dm_ph, cfg->kdc_ph_delta, cfg->kdc_ph_lambda, 30);
    if (err != KITE_ERR_OK) {
        kite_drift_monitor_free(m);
        return err;
    }
    *out = m;
    return KITE_ERR_OK;
}

void kite_drift_monitor_free(kite_drift_monitor *m)
{
    if (!m) return;
    for (int w = 0; w < KITE_DRIFT_MAX_WINDOWS; w++) {
        drift_window *dw = &m->dm_win[w];
        free(dw->dw_ring);
        free(dw->dw_ring_tmax);
        free(dw->dw_sum);
        free(dw->dw_snap);
        free(dw->dw_hist);
        free(dw->dw_hist_cols);
        free(dw->dw_levels);
        kite__drift_shadow_window_free(dw);
    }
    free(m->dm_col_off);
    free(m->dm_col_nb);
    free(m->dm_fine_off);
    free(m->dm_fine_nb);
    free(m->dm_test);
    free(m->dm_ref_q);
    free(m->dm_ref_lnq);
    free(m->dm_ref_ok);
    free(m->dm_idx);
    free(m->dm_fidx);
    kite__label_buffer_free(&m->dm_labels);
    free(m);
}

/* ---- observe ---------------------------------------------------------------------------- */

static void bin_categorical(const kite_profile_column *pc, const float *v, size_t n, size_t stride,
                            uint16_t *out)
{
    int k = pc->kpc_nedges;
    for (size_t r = 0; r < n; r++) {
        float x = v[r * stride];
        unsigned b = kite_bin_of(pc->kpc_edges, k, x); /* NaN -> k + 1 (missing) */
        if (b <= (unsigned)k) b = (b > 0 && pc->kpc_edges[b - 1] == x) ? b - 1 : (unsigned)k;
        out[r] = (uint16_t)b;
    }
}

/* Bins rows [0, n) of the chunk: category indices, and fine-grid indices of numeric columns
 * (numeric coarse histograms are counted per window segment by kite_binning_count). */
static void bin_chunk(kite_drift_monitor *m, const float *rows, size_t n, size_t stride,
                      const float *pred)
{
    m->dm_chunk_rows = rows;
    m->dm_chunk_stride = stride;
    m->dm_chunk_pred = pred;
    for (int c = 0; c < m->dm_ncols; c++) {
        const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
        const float *v = c == m->dm_pred_col ? pred : rows + c;
        size_t st = c == m->dm_pred_col ? 1 : stride;
        if (pc->kpc_kind == KITE_PROFILE_CATEGORICAL) {
            bin_categorical(pc, v, n, st, m->dm_idx + (size_t)c * DRIFT_CHUNK_ROWS);
            continue;
        }
        kite_binning_index(pc->kpc_fine_edges, pc->kpc_nfine, v, n, st,
                           m->dm_fidx + (size_t)c * DRIFT_CHUNK_ROWS);
    }
}

static double nanmax(double a, double b) { return isnan(a) ? b : (isnan(b) ? a : (a > b ? a : b)); }

/* Adds chunk rows [k0, k1) to the window's accumulating slot. */
static void add_rows(kite_drift_monitor *m, drift_window *w, size_t k0, size_t k1, int ncols,
                     const double *times)
{
    double *s = w->dw_ring + w->dw_head * m->dm_width;
    for (int c = 0; c < ncols; c++) {
        const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
        double *h = s + m->dm_col_off[c];
        if (pc->kpc_kind == KITE_PROFILE_NUMERIC) {
            int pred = c == m->dm_pred_col;
            size_t st = pred ? 1 : m->dm_chunk_stride;
            const float *v = pred ? m->dm_chunk_pred : m->dm_chunk_rows + c;
            kite_binning_count(pc->kpc_edges, pc->kpc_nedges, v + k0 * st, k1 - k0, st, h);
        } else {
            const uint16_t *idx = m->dm_idx + (size_t)c * DRIFT_CHUNK_ROWS;
            for (size_t k = k0; k < k1; k++) h[idx[k]] += 1;
        }
        if (m->dm_fine_nb[c]) {
            const uint16_t *fidx = m->dm_fidx + (size_t)c * DRIFT_CHUNK_ROWS;
            double *f = s + m->dm_fine_off[c];
            for (size_t k = k0; k < k1; k++) f[fidx[k]] += 1;
        }
    }
    if (m->dm_chunk_shadow) kite__drift_shadow_add(m, s, k0, k1);
    s[m->dm_ev_slot] += (double)(k1 - k0);
    w->dw_sub_events += k1 - k0;
    if (times) {
        double *tm = &w->dw_ring_tmax[w->dw_head];
        for (size_t k = k0; k < k1; k++) *tm = nanmax(*tm, times[k]);
    }
}

/* The accumulating slot is complete: fold it into the window and check when due. */
static void close_step(kite_drift_monitor *m, int wi)
{
    drift_window *w = &m->dm_win[wi];
    size_t width = m->dm_width;
    double *slot = w->dw_ring + w->dw_head * width, *sum = w->dw_sum;
    switch (w->dw_cfg.kwc_kind) {
    case KITE_WINDOW_SLIDING: {
        for (size_t i = 0; i < width; i++) sum[i] += slot[i];
        size_t full = w->dw_nslots - 1;
        w->dw_head = (w->dw_head + 1) % w->dw_nslots;
        double *next = w->dw_ring + w->dw_head * width;
        if (w->dw_filled == full) /* next holds the oldest complete sub-window: evict it */
            for (size_t i = 0; i < width; i++) sum[i] -= next[i];
        else
            w->dw_filled++;
        memset(next, 0, width * sizeof *next);
        w->dw_ring_tmax[w->dw_head] = NAN;
        w->dw_sum_tmax = NAN;
        for (size_t i = 0; i < w->dw_nslots; i++)
            w->dw_sum_tmax = nanmax(w->dw_sum_tmax, w->dw_ring_tmax[i]);
        w->dw_sub_events = 0;
        if (w->dw_filled == full) kite__drift_window_check(m, wi);
        return;
    }
    case KITE_WINDOW_DECAY:
        for (size_t i = 0; i < width; i++) sum[i] = sum[i] * w->dw_cfg.kwc_decay + slot[i];
        w->dw_sum_tmax = nanmax(w->dw_sum_tmax, w->dw_ring_tmax[0]);
        break;
    default: /* TUMBLING, TIME: the slot is the whole window */
        memcpy(sum, slot, width * sizeof *sum);
        w->dw_sum_tmax = w->dw_ring_tmax[0];
        break;
    }
    memset(slot, 0, width * sizeof *slot);
    w->dw_ring_tmax[0] = NAN;
    w->dw_sub_events = 0;
    kite__drift_window_check(m, wi);
}

static void window_observe(kite_drift_monitor *m, int wi, size_t n, const double *times)
{
    drift_window *w = &m->dm_win[wi];
    size_t k0 = 0;
    while (k0 < n) {
        size_t k1 = n;
        if (w->dw_cfg.kwc_kind == KITE_WINDOW_TIME && times) {
            double P = w->dw_cfg.kwc_period_s;
            if (isnan(w->dw_period) && !isnan(times[k0])) w->dw_period = floor(times[k0] / P);
            /* The segment ends at the first event of a later period. */
            for (k1 = k0; k1 < n; k1++)
                if (floor(times[k1] / P) > w->dw_period) break;
            if (k1 == k0) {
                if (w->dw_sub_events) close_step(m, wi);
                w->dw_period = floor(times[k0] / P);
                continue;
            }
        } else if (w->dw_step) {
            size_t room = w->dw_step - w->dw_sub_events;
            if (n - k0 < room) k1 = n;
            else k1 = k0 + room;
        }
        add_rows(m, w, k0, k1, m->dm_ncols, times);
        m->dm_chunk_pos = k1;
        if (w->dw_step && w->dw_sub_events == w->dw_step) close_step(m, wi);
        k0 = k1;
    }
}

void kite_drift_observe(kite_drift_monitor *m, const float *rows, size_t nrows, size_t stride,
                        const float *predictions, const double *event_times)
{
    kite_drift_observe_shadow(m, rows, nrows, stride, predictions, NULL, event_times);
}

void kite_drift_observe_shadow(kite_drift_monitor *m, const float *rows, size_t nrows, size_t stride,
                               const float *predictions, const float *shadow_predictions,
                               const double *event_times)
{
    /* A comparison needs both sides; without kdc_shadow there are no slots to count into. */
    int shadow = shadow_predictions && predictions && m->dm_sh_slot;
    float nan_pred[DRIFT_CHUNK_ROWS];
    for (size_t r = 0; r < nrows; r += DRIFT_CHUNK_ROWS) {
        size_t n = nrows - r < DRIFT_CHUNK_ROWS ? nrows - r : DRIFT_CHUNK_ROWS;
        const float *pred = predictions ? predictions + r : NULL;
        if (!pred && m->dm_pred_col >= 0) { /* no predictions: count them as missing */
            for (size_t k = 0; k < n; k++) nan_pred[k] = NAN;
            pred = nan_pred;
        }
        bin_chunk(m, rows + r * stride, n, stride, pred);
        m->dm_chunk_shadow = shadow ? shadow_predictions + r : NULL;
        for (int w = 0; w < m->dm_cfg.kdc_nwindows; w++)
            window_observe(m, w, n, event_times ? event_times + r : NULL);
        m->dm_events_seen += n;
        m->dm_chunk_pos = 0;
    }
    m->dm_chunk_shadow = NULL;
}

void kite_drift_flush(kite_drift_monitor *m)
{
    for (int wi = 0; wi < m->dm_cfg.kdc_nwindows; wi++) {
        drift_window *w = &m->dm_win[wi];
        kite_window_kind k = w->dw_cfg.kwc_kind;
        if (w->dw_sub_events && (k == KITE_WINDOW_TUMBLING || k == KITE_WINDOW_TIME))
            close_step(m, wi);
    }
}

/* ---- labels ----------------------------------------------------------------------------- */

void kite_drift_observe_pair(kite_drift_monitor *m, double prediction, double label)
{
    if (isnan(prediction) || isnan(label)) return;
    for (int wi = 0; wi < m->dm_cfg.kdc_nwindows; wi++) {
        drift_window *w = &m->dm_win[wi];
        kite_quality_add(w->dw_ring + w->dw_head * m->dm_width + m->dm_q_slot, prediction, label);
    }
    double err = m->dm_task == KITE_TASK_CLASSIFICATION ? (double)((prediction >= 0.5) != (label >= 0.5))
                                                        : fabs(prediction - label);
    if (kite_page_hinkley_add(&m->dm_ph, err)) {
        kite_drift_event e = {KITE_DRIFT_EVENT_CONCEPT, -1, -1, 0, 1, NAN, m->dm_ph.kph_lambda,
                              NAN, NAN, m->dm_events_seen, NAN, NAN};
        m->dm_detections[KITE_DRIFT_EVENT_CONCEPT]++;
        kite__drift_push_event(m, &e);
    }
}

void kite_drift_observe_keys(kite_drift_monitor *m, const uint64_t *keys, const float *predictions,
                             size_t n)
{
    if (!m->dm_labels.klb_cap) return;
    for (size_t i = 0; i < n; i++) kite__label_buffer_put(&m->dm_labels, keys[i], predictions[i]);
}

int kite_drift_label(kite_drift_monitor *m, uint64_t key, double label)
{
    float p;
    if (!kite__label_buffer_take(&m->dm_labels, key, &p)) return 0;
    kite_drift_observe_pair(m, p, label);
    return 1;
}

/* ---- events and accessors --------------------------------------------------------------- */

void kite_drift_set_check_hook(kite_drift_monitor *m, kite_drift_check_hook fn, void *ctx)
{
    m->dm_hook = fn;
    m->dm_hook_ctx = ctx;
}

const kite_drift_result *kite_drift_latest(const kite_drift_monitor *m, int window)
{
    if (window < 0 || window >= m->dm_cfg.kdc_nwindows) return NULL;
    const drift_window *w = &m->dm_win[window];
    if (!w->dw_hist_len) return NULL;
    size_t h = m->dm_cfg.kdc_history;
    return &w->dw_hist[(w->dw_hist_head + w->dw_hist_len - 1) % h];
}

size_t kite_drift_history(const kite_drift_monitor *m, int window, const kite_drift_result **out,
                          size_t max)
{
    if (window < 0 || window >= m->dm_cfg.kdc_nwindows) return 0;
    const drift_window *w = &m->dm_win[window];
    size_t n = w->dw_hist_len < max ? w->dw_hist_len : max, h = m->dm_cfg.kdc_history;
    size_t first = w->dw_hist_len - n;
    for (size_t i = 0; i < n; i++) out[i] = &w->dw_hist[(w->dw_hist_head + first + i) % h];
    return n;
}

int kite_drift_window_counts(const kite_drift_monitor *m, int window, int column, double *out)
{
    if (window < 0 || window >= m->dm_cfg.kdc_nwindows || column < 0 || column >= m->dm_ncols)
        return 0;
    int nb = (int)m->dm_col_nb[column];
    if (out) memcpy(out, m->dm_win[window].dw_snap + m->dm_col_off[column], (size_t)nb * sizeof *out);
    return nb;
}

const kite_profile *kite_drift_profile(const kite_drift_monitor *m) { return m->dm_profile; }
const kite_drift_config *kite_drift_config_of(const kite_drift_monitor *m) { return &m->dm_cfg; }
uint64_t kite_drift_detection_events(const kite_drift_monitor *m, kite_drift_event_kind kind)
{
    return (unsigned)kind < 4 ? m->dm_detections[kind] : 0;
}
uint64_t kite_drift_labels_dropped(const kite_drift_monitor *m) { return m->dm_labels.klb_dropped; }
