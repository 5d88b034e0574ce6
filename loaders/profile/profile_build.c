/* Building a reference profile from training rows: quantile edges, histograms, moments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kite/binning.h>
#include <kite/profile.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int in_list(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (!strcmp(*list, name)) return 1;
    return 0;
}

/* Edges over sorted finite values v[0..m): v[0], the quantiles v[floor(j m / bins)] for
 * j = 1..bins-1 with repeats dropped (a tie never straddles two bins), then the next float above
 * v[m-1] so the maximum falls inside the last bin rather than in overflow. */
static int quantile_edges(const float *v, size_t m, int bins, float *edges)
{
    int n = 0;
    edges[n++] = v[0];
    for (int j = 1; j < bins; j++) {
        float q = v[(size_t)((double)j * (double)m / bins)];
        if (q > edges[n - 1]) edges[n++] = q;
    }
    float top = nextafterf(v[m - 1], INFINITY);
    if (top > edges[n - 1]) edges[n++] = top;
    return n;
}

/* The fine grid of a small reference (at most KITE_PROFILE_SMALL_REFERENCE values, where the
 * drift test is KS): each distinct value v alone in [v, nextafterf(v)) and the gap up to the next
 * value in a bin of its own. Both sides' CDFs are then known at every reference value and just
 * below the next one; the reference's CDF is constant in between, so the binned KS statistic is
 * the raw-data one (scipy's ks_2samp, what Evidently runs) whatever the current values are. At
 * most 2 m edges. */
static int exact_edges(const float *v, size_t m, float *edges)
{
    int n = 0;
    for (size_t i = 0; i < m; i++) {
        if (n > 0 && v[i] < edges[n - 1]) continue; /* a repeat of the previous value */
        if (n == 0 || v[i] > edges[n - 1]) edges[n++] = v[i];
        edges[n++] = nextafterf(v[i], INFINITY);
    }
    return n;
}

static void histogram(const float *edges, int nedges, const float *v, size_t m, double *counts)
{
    for (size_t i = 0; i < m; i++) counts[kite_bin_of(edges, nedges, v[i])] += 1;
}

static kite_err build_column(kite_profile_column *c, float *v, size_t m, size_t missing,
                             int categorical, const kite_profile_options *o, char *errstr,
                             size_t errstr_size)
{
    c->kpc_count = (double)m;
    c->kpc_missing = (double)missing;
    c->kpc_kind = categorical ? KITE_PROFILE_CATEGORICAL : KITE_PROFILE_NUMERIC;
    if (m == 0) { /* all missing: an empty histogram; drift checks report NaN for it */
        c->kpc_mean = c->kpc_std = c->kpc_min = c->kpc_max = NAN;
        c->kpc_counts = calloc(2, sizeof *c->kpc_counts);
        c->kpc_fine_counts = calloc(2, sizeof *c->kpc_fine_counts);
        return c->kpc_counts && c->kpc_fine_counts ? KITE_ERR_OK
                             : kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "profile: no memory");
    }
    double sum = 0, sq = 0;
    for (size_t i = 0; i < m; i++) sum += v[i];
    c->kpc_mean = sum / (double)m;
    for (size_t i = 0; i < m; i++) sq += (v[i] - c->kpc_mean) * (v[i] - c->kpc_mean);
    c->kpc_std = sqrt(sq / (double)m);
    qsort(v, m, sizeof *v, cmp_float);
    c->kpc_min = v[0];
    c->kpc_max = v[m - 1];
    if (categorical) {
        int n = 0;
        for (size_t i = 0; i < m; i++)
            if (i == 0 || v[i] != v[i - 1]) n++;
        c->kpc_edges = malloc((size_t)n * sizeof *c->kpc_edges);
        c->kpc_counts = calloc((size_t)n + 1, sizeof *c->kpc_counts);
        if (!c->kpc_edges || !c->kpc_counts)
            return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "profile: no memory");
        n = 0;
        for (size_t i = 0; i < m; i++) {
            if (i == 0 || v[i] != v[i - 1]) c->kpc_edges[n++] = v[i];
            c->kpc_counts[n - 1] += 1;
        }
        c->kpc_nedges = n;
        return KITE_ERR_OK;
    }
    int small = m <= KITE_PROFILE_SMALL_REFERENCE;
    int cap = (o->kpo_bins > o->kpo_fine_bins ? o->kpo_bins : o->kpo_fine_bins) + 2;
    if (small && cap < 2 * (int)m) cap = 2 * (int)m;
    c->kpc_edges = malloc((size_t)cap * sizeof *c->kpc_edges);
    c->kpc_fine_edges = malloc((size_t)cap * sizeof *c->kpc_fine_edges);
    if (!c->kpc_edges || !c->kpc_fine_edges)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "profile: no memory");
    c->kpc_nedges = quantile_edges(v, m, o->kpo_bins, c->kpc_edges);
    c->kpc_nfine = small ? exact_edges(v, m, c->kpc_fine_edges)
                         : quantile_edges(v, m, o->kpo_fine_bins, c->kpc_fine_edges);
    c->kpc_counts = calloc((size_t)c->kpc_nedges + 2, sizeof *c->kpc_counts);
    c->kpc_fine_counts = calloc((size_t)c->kpc_nfine + 2, sizeof *c->kpc_fine_counts);
    if (!c->kpc_counts || !c->kpc_fine_counts)
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "profile: no memory");
    histogram(c->kpc_edges, c->kpc_nedges, v, m, c->kpc_counts);
    histogram(c->kpc_fine_edges, c->kpc_nfine, v, m, c->kpc_fine_counts);
    return KITE_ERR_OK;
}

static int is_categorical(const float *v, size_t m, const char *name, const kite_profile_options *o)
{
    if (in_list(o->kpo_numeric, name)) return 0;
    if (in_list(o->kpo_categorical, name)) return 1;
    if (o->kpo_max_categories <= 0 || m == 0) return 0;
    float seen[256];
    int nseen = 0;
    for (size_t i = 0; i < m; i++) {
        if (v[i] != floorf(v[i]) || isinf(v[i])) return 0;
        int found = 0;
        for (int k = 0; k < nseen && !found; k++) found = seen[k] == v[i];
        if (!found) {
            if (nseen == o->kpo_max_categories || nseen == 256) return 0;
            seen[nseen++] = v[i];
        }
    }
    return 1;
}

kite_err kite_profile_build(const float *rows, size_t nrows, size_t stride, int ncols,
                            const char *const *names, const float *predictions,
                            const kite_profile_options *opts, kite_profile *out, char *errstr,
                            size_t errstr_size)
{
    kite_profile_options o = opts ? *opts : KITE_PROFILE_OPTIONS_DEFAULT;
    memset(out, 0, sizeof *out);
    if (o.kpo_bins < 1 || o.kpo_bins > 1000 || o.kpo_fine_bins < 1 ||
        o.kpo_fine_bins > KITE_BINNING_MAX_EDGES - 2)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size,
                         "profile: bins must be 1..1000 and fine bins 1..%d",
                         KITE_BINNING_MAX_EDGES - 2);
    if (nrows == 0)
        return kite_errf(KITE_ERR_USAGE, errstr, errstr_size, "profile: no input rows");
    int total = ncols + (predictions ? 1 : 0);
    out->kpf_columns = calloc((size_t)total, sizeof *out->kpf_columns);
    float *v = malloc(nrows * sizeof *v);
    if (!out->kpf_columns || !v) {
        free(v);
        return kite_errf(KITE_ERR_NOMEM, errstr, errstr_size, "profile: no memory");
    }
    out->kpf_ncolumns = total;
    out->kpf_rows = (double)nrows;
    out->kpf_bins = o.kpo_bins;
    out->kpf_fine_bins = o.kpo_fine_bins;
    kite_err err = KITE_ERR_OK;
    for (int j = 0; j < total && err == KITE_ERR_OK; j++) {
        kite_profile_column *c = &out->kpf_columns[j];
        int is_pred = j == ncols;
        snprintf(c->kpc_name, sizeof c->kpc_name, "%s", is_pred ? "prediction" : names[j]);
        c->kpc_role = is_pred ? KITE_PROFILE_PREDICTION : KITE_PROFILE_FEATURE;
        size_t m = 0, missing = 0;
        for (size_t r = 0; r < nrows; r++) {
            float x = is_pred ? predictions[r] : rows[r * stride + (size_t)j];
            if (isnan(x))
                missing++;
            else
                v[m++] = x;
        }
        err = build_column(c, v, m, missing, is_categorical(v, m, c->kpc_name, &o), &o, errstr,
                           errstr_size);
    }
    free(v);
    if (err != KITE_ERR_OK) kite_profile_free(out);
    return err;
}
