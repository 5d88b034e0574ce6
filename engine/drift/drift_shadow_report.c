/* The shadow model's part of the drift reports (format in docs/lifecycle.md "Shadow scoring"): in the
 * JSON summary, an object per check; in the HTML page, a section with the |diff| histogram and
 * the disagreeing rows' drift per column, largest PSI first. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "drift_int.h"
#include <kite/html_svg.h>


static int cmp_psi_desc(const void *a, const void *b)
{
    const double *x = a, *y = b; /* pairs (psi, column); NaN (no disagreeing row) last */
    double u = isnan(x[0]) ? -1 : x[0], v = isnan(y[0]) ? -1 : y[0];
    if (u != v) return (u < v) - (u > v);
    return (x[1] > y[1]) - (x[1] < y[1]); /* ties in profile order: a stable ranking */
}

/* Columns by the disagreeing rows' PSI, largest first, into order (pairs psi, column);
 * returns the count (the prediction column excluded: it is no cause, it is the outcome). */
static int shadow_ranking(const kite_drift_monitor *m, const kite_drift_shadow *s, double *order)
{
    int n = 0;
    for (int c = 0; c < m->dm_ncols; c++) {
        if (c == m->dm_pred_col) continue;
        order[2 * n] = s->kds_columns[c].kdf_psi;
        order[2 * n + 1] = c;
        n++;
    }
    qsort(order, (size_t)n, 2 * sizeof *order, cmp_psi_desc);
    return n;
}

void *kite__drift_shadow_report_json(const kite_drift_monitor *m, const kite_drift_shadow *s, int full)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    kite__drift_report_num(o, "rows", s->kds_rows);
    kite__drift_report_num(o, "disagreeing", s->kds_disagree);
    kite__drift_report_num(o, "disagreement_share", s->kds_share);
    if (!full) return o;
    kite__drift_report_num(o, "tolerance", m->dm_cfg.kdc_shadow_tolerance);
    kite__drift_report_num(o, "mean_abs_diff", s->kds_mean_abs);
    kite__drift_report_num(o, "mean_diff", s->kds_mean_diff);
    cJSON *q = cJSON_AddObjectToObject(o, "abs_diff_quantiles");
    kite__drift_report_num(q, "p50", s->kds_p50); /* null above the last bound (or with no row) */
    kite__drift_report_num(q, "p90", s->kds_p90);
    kite__drift_report_num(q, "p99", s->kds_p99);
    cJSON *hist = cJSON_AddArrayToObject(o, "abs_diff_histogram");
    for (int k = 0; k <= KITE_DRIFT_SHADOW_BUCKETS; k++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddItemToArray(hist, b);
        kite__drift_report_num(b, "le", k < KITE_DRIFT_SHADOW_BUCKETS ? kite_drift_shadow_bounds[k] : INFINITY);
        kite__drift_report_num(b, "count", s->kds_buckets[k]);
    }
    cJSON_AddNumberToObject(o, "drifted_features", s->kds_ndrifted);
    double *order = malloc((size_t)m->dm_ncols * 2 * sizeof *order);
    cJSON *rank = cJSON_AddArrayToObject(o, "features_by_psi");
    int n = order ? shadow_ranking(m, s, order) : 0;
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(rank, cJSON_CreateString(m->dm_profile->kpf_columns[(int)order[2 * i + 1]].kpc_name));
    free(order);
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    for (int c = 0; c < m->dm_ncols; c++) {
        cJSON *x = kite__drift_report_column(m, c, &s->kds_columns[c], 0);
        if (x) cJSON_AddItemToArray(cols, x);
    }
    return o;
}

static void num(FILE *fp, double v)
{
    if (isnan(v))
        fputs("&ndash;", fp);
    else if (isinf(v))
        fputs("&gt; 1", fp);
    else
        fprintf(fp, "%.4g", v);
}

/* Vertical bars, one per |diff| bucket, the tolerance's bucket edge marked. */
static void shadow_histogram(FILE *fp, const kite_drift_monitor *m, const kite_drift_shadow *s)
{
    const double W = 700, H = 190, l = 10, t = 10, b = 44;
    const int nb = KITE_DRIFT_SHADOW_BUCKETS + 1;
    double slot = (W - 2 * l) / nb, ph = H - t - b, maxc = 0;
    for (int k = 0; k < nb; k++)
        if (s->kds_buckets[k] > maxc) maxc = s->kds_buckets[k];
    if (maxc <= 0) maxc = 1;
    fprintf(fp, "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    for (int k = 0; k < nb; k++) {
        double x = l + k * slot, h = s->kds_buckets[k] / maxc * ph;
        int over = k == KITE_DRIFT_SHADOW_BUCKETS ||
                   kite_drift_shadow_bounds[k] > m->dm_cfg.kdc_shadow_tolerance;
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
                x + 1, t + ph - h, slot - 2, h, over ? "#d62728" : "#9ecae1", x + slot / 2, t + ph - h - 2,
                s->kds_buckets[k]);
        if (k < KITE_DRIFT_SHADOW_BUCKETS && k % 3 == 0)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">&le;%g</text>\n", x + slot / 2,
                    H - b + 14, kite_drift_shadow_bounds[k]);
    }
    fprintf(fp, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"end\">&gt;1 or missing</text>\n", W - l, H - b + 28);
    fprintf(fp, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#666\"/>\n</svg>\n", l, W - l,
            t + ph, t + ph);
}

void kite__drift_shadow_report_html(FILE *fp, const kite_drift_monitor *m, const kite_drift_shadow *s)
{
    fputs("<h2>Shadow model: serving vs candidate</h2>\n<p>", fp);
    fprintf(fp, "Rows compared %.0f; disagreeing (|candidate &minus; serving| &gt; %g) <b>%.0f</b>, share <b>",
            s->kds_rows, m->dm_cfg.kdc_shadow_tolerance, s->kds_disagree);
    num(fp, s->kds_share);
    fputs("</b>. Mean |diff| ", fp);
    num(fp, s->kds_mean_abs);
    fputs(", mean diff ", fp);
    num(fp, s->kds_mean_diff);
    fputs("; |diff| quantiles (bucket upper bounds): p50 &le; ", fp);
    num(fp, s->kds_p50);
    fputs(", p90 &le; ", fp);
    num(fp, s->kds_p90);
    fputs(", p99 &le; ", fp);
    num(fp, s->kds_p99);
    fputs(".</p>\n<h3>|diff| histogram (red: above the tolerance's bucket)</h3>\n", fp);
    shadow_histogram(fp, m, s);
    fprintf(fp, "<h3>Drift of the disagreeing rows against the reference</h3>\n<p>%d feature(s) drifted; "
                "the largest PSI first: the features the two models disagree on.</p>\n"
                "<table><tr><th>column</th><th>test</th><th>statistic</th><th>p-value</th><th>drifted</th>"
                "<th>PSI</th><th>status</th><th>rows</th></tr>\n",
            s->kds_ndrifted);
    double *order = malloc((size_t)m->dm_ncols * 2 * sizeof *order);
    int n = order ? shadow_ranking(m, s, order) : 0;
    for (int i = 0; i < n; i++) {
        int c = (int)order[2 * i + 1];
        const kite_drift_feature *f = &s->kds_columns[c];
        fputs("<tr><td>", fp);
        kite__html_svg_text(fp, m->dm_profile->kpf_columns[c].kpc_name);
        fprintf(fp, "</td><td>%s</td><td>", kite_drift_test_name(f->kdf_test));
        num(fp, f->kdf_stat);
        fputs("</td><td>", fp);
        num(fp, f->kdf_pvalue);
        fprintf(fp, "</td><td>%s</td><td>", f->kdf_drifted ? "yes" : "no");
        num(fp, f->kdf_psi);
        fprintf(fp, "</td><td>%s</td><td>%.0f</td></tr>\n", kite_drift_level_name(f->kdf_level), f->kdf_count);
    }
    free(order);
    fputs("</table>\n", fp);
}
