/* HTML text and inline SVG charts written to a FILE (a report file, or open_memstream for a
 * page served over HTTP), shared by the drift report (drift_report_html.c) and the live status
 * page (status_page.c). Every chart is plain SVG elements: no script, font or other asset. */
#ifndef KITE_HTML_SVG_H
#define KITE_HTML_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Eight distinguishable line colours; series s is drawn with palette[s % 8]. */
extern const char *const kite__html_svg_palette[8];

/* s with <, >, & and " escaped (safe in text and in double-quoted attributes). */
void kite__html_svg_text(FILE *fp, const char *s);
/* The first n bytes of s, escaped as above. */
void kite__html_svg_textn(FILE *fp, const char *s, size_t n);

/* A line chart of nseries series over npoints points; values[s * npoints + i], NaN = a gap.
 * names label the legend; x_first / x_last label the x axis ends; hlines are dashed
 * horizontal reference lines (thresholds). width 0: the default 700 px. */
typedef struct kite__html_svg_chart {
    const char *const *names;
    const double *values;
    int nseries;
    size_t npoints;
    const double *hlines;
    int nhlines;
    const char *x_first, *x_last;
    double width;
} kite__html_svg_chart;
void kite__html_svg_line_chart(FILE *fp, const kite__html_svg_chart *c);

/* A sparkline: n values (NaN = a gap) as a w x h polyline scaled to [lo, hi] (lo == hi:
 * the values' own range, from 0 when all are >= 0). */
void kite__html_svg_sparkline(FILE *fp, const double *values, size_t n, double w, double h,
                              double lo, double hi, const char *color);

#endif
