/* Reads test cases on stdin, one per line: "n r_0..r_{n-1} c_0..c_{n-1} e_0..e_{n-2} zbin"
 * and prints kite's statistics for each with %.17g: psi js chi2 chi2_p chi2_dof ks ks_p w z z_p psi_prepared.
 * tests/e2e/drift_stats_check.py compares them with numpy/scipy on the same bins. */
#include <stdio.h>
#include <stdlib.h>

#include "drift_stats.h"

int main(void)
{
    int n;
    while (scanf("%d", &n) == 1) {
        if (n < 2 || n > 100000) return 2;
        double *r = malloc((size_t)n * sizeof *r), *c = malloc((size_t)n * sizeof *c);
        float *e = malloc((size_t)n * sizeof *e);
        int zbin = 0;
        if (!r || !c || !e) return 2;
        for (int i = 0; i < n; i++)
            if (scanf("%lf", &r[i]) != 1) return 2;
        for (int i = 0; i < n; i++)
            if (scanf("%lf", &c[i]) != 1) return 2;
        for (int i = 0; i < n - 1; i++)
            if (scanf("%f", &e[i]) != 1) return 2;
        if (scanf("%d", &zbin) != 1) return 2;
        double chi_p, ks_p, z_p;
        int dof;
        double psi = kite__drift_psi(r, c, (size_t)n);
        double js = kite__drift_js(r, c, (size_t)n);
        double chi = kite__drift_chi2(r, c, (size_t)n, &chi_p, &dof);
        double ks = kite__drift_ks(r, c, (size_t)n, &ks_p);
        double w = kite__drift_wasserstein(r, c, (size_t)n, e);
        double z = kite__drift_ztest(r, c, (size_t)n, (size_t)zbin, &z_p);
        double *q = malloc((size_t)n * sizeof *q), *lnq = malloc((size_t)n * sizeof *lnq);
        if (!q || !lnq) return 2;
        kite__drift_psi_prepare(r, (size_t)n, q, lnq);
        double psi2 = kite__drift_psi_prepared(q, lnq, c, (size_t)n);
        printf("%.17g %.17g %.17g %.17g %d %.17g %.17g %.17g %.17g %.17g %.17g\n", psi, js, chi, chi_p,
               dof, ks, ks_p, w, z, z_p, psi2);
        free(q);
        free(lnq);
        free(r);
        free(c);
        free(e);
    }
    return 0;
}
