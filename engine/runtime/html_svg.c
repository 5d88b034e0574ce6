#include <kite/html_svg.h>

#include <math.h>

const char *const kite__html_svg_palette[8] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                               "#9467bd", "#8c564b", "#e377c2", "#17becf"};

void kite__html_svg_textn(FILE *fp, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        switch (s[i]) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default: fputc(s[i], fp);
        }
    }
}

void kite__html_svg_text(FILE *fp, const char *s) { kite__html_svg_textn(fp, s, (size_t)-1); }

void kite__html_svg_line_chart(FILE *fp, const kite__html_svg_chart *c)
{
    const double W = c->width > 0 ? c->width : 700, H = 260, l = 50, r = 160, t = 10, b = 30;
    size_t npoints = c->npoints;
    double lo = 0, hi = 0;
    for (size_t i = 0; i < (size_t)c->nseries * npoints; i++)
        if (isfinite(c->values[i])) {
            if (c->values[i] > hi) hi = c->values[i];
            if (c->values[i] < lo) lo = c->values[i];
        }
    for (int i = 0; i < c->nhlines; i++)
        if (c->hlines[i] * 1.1 > hi) hi = c->hlines[i] * 1.1;
    if (hi <= lo) hi = lo + 1;
    double pw = W - l - r, ph = H - t - b;
#define X(i) (l + (npoints > 1 ? (double)(i) / (double)(npoints - 1) : 0.5) * pw)
#define Y(v) (t + ph - ((v) - lo) / (hi - lo) * ph)
    fprintf(fp, "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    fprintf(fp, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n", l, t, pw, ph);
    fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n",
            l - 4, t + 10, hi, l - 4, t + ph, lo);
    fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\">", l, H - 8);
    kite__html_svg_text(fp, c->x_first ? c->x_first : "");
    fprintf(fp, "</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", l + pw, H - 8);
    kite__html_svg_text(fp, c->x_last ? c->x_last : "");
    fputs("</text>\n", fp);
    for (int i = 0; i < c->nhlines; i++)
        fprintf(fp, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#aaa\" stroke-dasharray=\"4 3\"/>\n",
                l, l + pw, Y(c->hlines[i]), Y(c->hlines[i]));
    for (int s = 0; s < c->nseries; s++) {
        const char *color = kite__html_svg_palette[s % 8];
        const double *v = c->values + (size_t)s * npoints;
        fprintf(fp, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t i = 0; i < npoints; i++)
            if (isfinite(v[i])) fprintf(fp, "%.1f,%.1f ", X(i), Y(v[i]));
        fputs("\"/>\n", fp);
        if (npoints == 1 && isfinite(v[0]))
            fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", X(0), Y(v[0]), color);
        fprintf(fp, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">",
                W - r + 10, t + 4 + s * 16, color, W - r + 24, t + 13 + s * 16);
        kite__html_svg_text(fp, c->names[s]);
        fputs("</text>\n", fp);
    }
#undef X
#undef Y
    fputs("</svg>\n", fp);
}

void kite__html_svg_sparkline(FILE *fp, const double *values, size_t n, double w, double h,
                              double lo, double hi, const char *color)
{
    if (!(hi > lo)) {
        int any = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(values[i])) {
                if (!any || values[i] < lo) lo = values[i];
                if (!any || values[i] > hi) hi = values[i];
                any = 1;
            }
        if (lo > 0) lo = 0;
        if (!(hi > lo)) hi = lo + 1;
    }
    fprintf(fp, "<svg class=\"spark\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">"
                "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
            w, h, w, h, color);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) continue;
        double x = n > 1 ? (double)i / (double)(n - 1) * (w - 2) + 1 : w / 2;
        double v = values[i] < lo ? lo : values[i] > hi ? hi : values[i];
        fprintf(fp, "%.1f,%.1f ", x, h - 1 - (v - lo) / (hi - lo) * (h - 2));
    }
    fputs("\"/></svg>", fp);
}
