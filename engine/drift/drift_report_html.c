/* Self-contained HTML drift report: inline SVG charts and CSS, no scripts or external assets,
 * so it opens from a file, a CI artifact or an e-mail alike. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift_int.h"
#include <kite/drift_report.h>
#include <kite/html_svg.h>

#define HTML_TIME_SERIES 8 /* PSI-over-time lines: the columns with the largest latest PSI */

static void num(FILE *fp, double v)
{
    if (isnan(v))
        fputs("&ndash;", fp);
    else
        fprintf(fp, "%.4g", v);
}

static const char *level_color(kite_drift_level l)
{
    return l == KITE_DRIFT_SIGNIFICANT ? "#d62728" : l == KITE_DRIFT_MODERATE ? "#ff7f0e" : "#2ca02c";
}

/* Horizontal PSI bars with the moderate/significant thresholds drawn as dashed lines. */
static void psi_bars(FILE *fp, const kite_drift_monitor *m, const kite_drift_result *r)
{
    const double W = 700, left = 180, bar = 18;
    double maxv = m->dm_cfg.kdc_psi_significant * 1.2;
    for (int c = 0; c < m->dm_ncols; c++)
        if (isfinite(r->kdr_columns[c].kdf_psi) && r->kdr_columns[c].kdf_psi > maxv)
            maxv = r->kdr_columns[c].kdf_psi;
    double H = m->dm_ncols * (bar + 4) + 30, span = W - left - 60;
    fprintf(fp, "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    for (int c = 0; c < m->dm_ncols; c++) {
        const kite_drift_feature *f = &r->kdr_columns[c];
        double y = 10 + c * (bar + 4), v = isfinite(f->kdf_psi) ? f->kdf_psi : 0;
        fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", left - 6, y + bar - 4);
        kite__html_svg_text(fp, m->dm_profile->kpf_columns[c].kpc_name);
        fprintf(fp, "</text><rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\">%.3f</text>\n",
                left, y, v / maxv * span, bar, level_color(f->kdf_level), left + v / maxv * span + 4,
                y + bar - 4, v);
    }
    double thr[2] = {m->dm_cfg.kdc_psi_moderate, m->dm_cfg.kdc_psi_significant};
    for (int t = 0; t < 2; t++)
        fprintf(fp, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"4\" y2=\"%.0f\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>"
                    "<text x=\"%.1f\" y=\"%.0f\" fill=\"%s\">%g</text>\n",
                left + thr[t] / maxv * span, left + thr[t] / maxv * span, H - 16, t ? "#d62728" : "#ff7f0e",
                left + thr[t] / maxv * span - 8, H - 4, t ? "#d62728" : "#ff7f0e", thr[t]);
    fputs("</svg>\n", fp);
}

/* Reference vs current shares on the column's coarse bins (the missing bin last). */
static void histogram_chart(FILE *fp, const kite_drift_monitor *m, int w, int c)
{
    const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
    int nb = kite_drift_window_counts(m, w, c, NULL);
    double *cur = malloc((size_t)nb * sizeof *cur);
    if (!cur) return;
    kite_drift_window_counts(m, w, c, cur);
    double tr = pc->kpc_missing, tc = 0;
    for (int i = 0; i < nb - 1; i++) tr += pc->kpc_counts[i];
    for (int i = 0; i < nb; i++) tc += cur[i];
    const double W = 340, H = 170, l = 10, t = 10, b = 34;
    double ph = H - t - b, slot = (W - 2 * l) / nb, maxs = 0;
    for (int i = 0; i < nb; i++) {
        double rs = tr > 0 ? (i < nb - 1 ? pc->kpc_counts[i] : pc->kpc_missing) / tr : 0;
        double cs = tc > 0 ? cur[i] / tc : 0;
        if (rs > maxs) maxs = rs;
        if (cs > maxs) maxs = cs;
    }
    if (maxs <= 0) maxs = 1;
    fprintf(fp, "<svg class=\"hist\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    for (int i = 0; i < nb; i++) {
        double rs = tr > 0 ? (i < nb - 1 ? pc->kpc_counts[i] : pc->kpc_missing) / tr : 0;
        double cs = tc > 0 ? cur[i] / tc : 0, x = l + i * slot;
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#9ecae1\"/>"
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#de2d26\" fill-opacity=\"0.75\"/>\n",
                x + 1, t + ph - rs / maxs * ph, slot / 2 - 1, rs / maxs * ph, x + slot / 2,
                t + ph - cs / maxs * ph, slot / 2 - 1, cs / maxs * ph);
    }
    fprintf(fp, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#666\"/>\n", l, W - l, t + ph, t + ph);
    const char *first = pc->kpc_kind == KITE_PROFILE_CATEGORICAL ? "categories" : "underflow";
    const char *last = pc->kpc_kind == KITE_PROFILE_CATEGORICAL ? "other, missing" : "overflow, missing";
    fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\">%s</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n",
            l, H - 18, first, W - l, H - 18, last);
    fprintf(fp, "<rect x=\"%.0f\" y=\"%.0f\" width=\"9\" height=\"9\" fill=\"#9ecae1\"/><text x=\"%.0f\" y=\"%.0f\">reference</text>"
                "<rect x=\"%.0f\" y=\"%.0f\" width=\"9\" height=\"9\" fill=\"#de2d26\"/><text x=\"%.0f\" y=\"%.0f\">current</text>\n",
            l, H - 11, l + 13, H - 3, l + 90, H - 11, l + 103, H - 3);
    fputs("</svg>\n", fp);
    free(cur);
}

static int cmp_psi_desc(const void *a, const void *b)
{
    const double *x = a, *y = b; /* pairs (psi, column) */
    double u = isnan(x[0]) ? -1 : x[0], v = isnan(y[0]) ? -1 : y[0];
    return (u < v) - (u > v);
}

static void over_time(FILE *fp, const kite_drift_monitor *m, int w, const kite_drift_result *r)
{
    size_t hmax = m->dm_cfg.kdc_history;
    const kite_drift_result **rs = malloc(hmax * sizeof *rs);
    double *order = malloc((size_t)m->dm_ncols * 2 * sizeof *order);
    double *vals = malloc(hmax * HTML_TIME_SERIES * sizeof *vals);
    if (!rs || !order || !vals) goto done;
    size_t n = kite_drift_history(m, w, rs, hmax);
    for (int c = 0; c < m->dm_ncols; c++) {
        order[2 * c] = r->kdr_columns[c].kdf_psi;
        order[2 * c + 1] = c;
    }
    qsort(order, (size_t)m->dm_ncols, 2 * sizeof *order, cmp_psi_desc);
    int ns = m->dm_ncols < HTML_TIME_SERIES ? m->dm_ncols : HTML_TIME_SERIES;
    const char *names[HTML_TIME_SERIES];
    for (int s = 0; s < ns; s++) {
        int c = (int)order[2 * s + 1];
        names[s] = m->dm_profile->kpf_columns[c].kpc_name;
        for (size_t i = 0; i < n; i++) vals[(size_t)s * n + i] = rs[i]->kdr_columns[c].kdf_psi;
    }
    double thr[2] = {m->dm_cfg.kdc_psi_moderate, m->dm_cfg.kdc_psi_significant};
    fprintf(fp, "<h2>PSI over time</h2><p>The %d columns with the largest PSI now, over the last %zu checks.</p>\n", ns, n);
    char last[32];
    snprintf(last, sizeof last, "check %zu", n);
    kite__html_svg_line_chart(fp, &(kite__html_svg_chart){.names = names, .values = vals, .nseries = ns,
                                                       .npoints = n, .hlines = thr, .nhlines = 2,
                                                       .x_first = "check 1", .x_last = last});
    fputs("<h2>Quality over time</h2>\n", fp);
    if (m->dm_task == KITE_TASK_NONE) {
        fputs("<p>No task known (profile without labels): quality not tracked.</p>\n", fp);
        goto done;
    }
    const char *qn[2];
    int nq = 0;
    if (m->dm_task == KITE_TASK_CLASSIFICATION) {
        qn[0] = "accuracy";
        qn[1] = "roc_auc";
        nq = 2;
        for (size_t i = 0; i < n; i++) {
            vals[i] = rs[i]->kdr_quality.kq_accuracy;
            vals[n + i] = rs[i]->kdr_quality.kq_auc;
        }
    } else {
        qn[0] = "rmse";
        qn[1] = "mae";
        nq = 2;
        for (size_t i = 0; i < n; i++) {
            vals[i] = rs[i]->kdr_quality.kq_rmse;
            vals[n + i] = rs[i]->kdr_quality.kq_mae;
        }
    }
    fputs("<p>Metrics over labelled predictions joined in each window (binned ROC AUC).</p>\n", fp);
    kite__html_svg_line_chart(fp, &(kite__html_svg_chart){.names = qn, .values = vals, .nseries = nq,
                                                       .npoints = n, .x_first = "check 1", .x_last = last});
done:
    free(rs);
    free(order);
    free(vals);
}

kite_err kite_drift_report_html_write(const kite_drift_monitor *m, int w, const char *title,
                                      const char *path, char *errstr, size_t errstr_size)
{
    const kite_drift_result *r = kite_drift_latest(m, w);
    if (!r)
        return kite_errf(KITE_ERR_STATE, errstr, errstr_size,
                         "%s: window %d has no completed check yet (too few events?)", path, w);
    FILE *fp = fopen(path, "w");
    if (!fp) return kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: cannot write", path);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", fp);
    kite__html_svg_text(fp, title);
    fputs("</title>\n<style>body{font:14px sans-serif;margin:24px;color:#222}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
          "td:first-child,th:first-child{text-align:left}svg text{font:11px sans-serif}"
          ".cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;padding:6px}"
          ".badge{padding:2px 8px;border-radius:4px;color:#fff}</style></head><body>\n<h1>", fp);
    kite__html_svg_text(fp, title);
    fputs("</h1>\n<p>Window <b>", fp);
    kite__html_svg_text(fp, m->dm_cfg.kdc_windows[w].kwc_name);
    fprintf(fp, "</b>: check %llu, %.0f events, ending at event %llu. Drifted features: %d of %d "
                "(share %.3f, threshold %.2f). ",
            (unsigned long long)r->kdr_seq, r->kdr_events, (unsigned long long)r->kdr_end_event,
            r->kdr_ndrifted, r->kdr_nfeatures, r->kdr_drifted_share, m->dm_cfg.kdc_drift_share);
    fprintf(fp, "<span class=\"badge\" style=\"background:%s\">%s</span>",
            r->kdr_dataset_drift ? "#d62728" : "#2ca02c",
            r->kdr_dataset_drift ? "dataset drift" : "no dataset drift");
    if (r->kdr_prediction_drift >= 0)
        fprintf(fp, " <span class=\"badge\" style=\"background:%s\">%s</span>",
                r->kdr_prediction_drift ? "#d62728" : "#2ca02c",
                r->kdr_prediction_drift ? "prediction drift" : "no prediction drift");
    fputs("</p>\n<h2>Columns</h2>\n<table><tr><th>column</th><th>kind</th><th>test</th><th>statistic</th>"
          "<th>p-value</th><th>drifted</th><th>PSI</th><th>status</th><th>missing</th></tr>\n", fp);
    for (int c = 0; c < m->dm_ncols; c++) {
        const kite_drift_feature *f = &r->kdr_columns[c];
        const kite_profile_column *pc = &m->dm_profile->kpf_columns[c];
        fputs("<tr><td>", fp);
        kite__html_svg_text(fp, pc->kpc_name);
        fprintf(fp, "</td><td>%s</td><td>%s</td><td>", pc->kpc_kind ? "categorical" : "numeric",
                kite_drift_test_name(f->kdf_test));
        num(fp, f->kdf_stat);
        fputs("</td><td>", fp);
        num(fp, f->kdf_pvalue);
        fprintf(fp, "</td><td>%s</td><td>", f->kdf_drifted ? "yes" : "no");
        num(fp, f->kdf_psi);
        fprintf(fp, "</td><td style=\"color:%s\">%s</td><td>", level_color(f->kdf_level),
                kite_drift_level_name(f->kdf_level));
        num(fp, f->kdf_missing_rate);
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n<h2>PSI per column</h2>\n", fp);
    psi_bars(fp, m, r);
    if (r->kdr_shadow) kite__drift_shadow_report_html(fp, m, r->kdr_shadow);
    over_time(fp, m, w, r);
    fputs("<h2>Reference vs current histograms</h2>\n<div class=\"cards\">\n", fp);
    for (int c = 0; c < m->dm_ncols; c++) {
        fputs("<div class=\"card\"><b>", fp);
        kite__html_svg_text(fp, m->dm_profile->kpf_columns[c].kpc_name);
        fprintf(fp, "</b> PSI %.3f<br>\n", r->kdr_columns[c].kdf_psi);
        histogram_chart(fp, m, w, c);
        fputs("</div>\n", fp);
    }
    fputs("</div>\n</body></html>\n", fp);
    int ok = !ferror(fp);
    if (fclose(fp) != 0) ok = 0;
    return ok ? KITE_ERR_OK : kite_errf(KITE_ERR_IO, errstr, errstr_size, "%s: cannot write", path);
}
