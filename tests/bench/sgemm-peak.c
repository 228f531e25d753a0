/*
 * sgemm-peak.c: the machine's practical single-precision matrix-product
 * rate with OpenBLAS, for tests/bench/train.sh.
 *
 *     sgemm-peak [N [THREADS [RUNS]]]     (default 2048 2 7)
 *
 * Times C = A B (row-major, N x N x N, alpha 1, beta 0) with cblas_sgemm
 * on THREADS OpenBLAS threads: one untimed warm-up, then RUNS timed
 * calls; prints the best and the median rate, counting 2 N^3 floating-
 * point operations a call:
 *
 *     sgemm_n 2048
 *     sgemm_threads 2
 *     sgemm_best_gflops 123.4
 *     sgemm_median_gflops 120.1
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2048;
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	int runs = argc > 3 ? atoi(argv[3]) : 7;
	size_t nn, i;
	float *a, *b, *c;
	double *t, flop;
	unsigned s = 12345;
	int r;

	if (n < 1 || threads < 1 || runs < 1) {
		fprintf(stderr, "usage: sgemm-peak [N [THREADS [RUNS]]]\n");
		return 2;
	}
	nn = (size_t)n * n;
	a = malloc(nn * sizeof(float));
	b = malloc(nn * sizeof(float));
	c = malloc(nn * sizeof(float));
	t = malloc((size_t)runs * sizeof(double));
	if (a == NULL || b == NULL || c == NULL || t == NULL) {
		fprintf(stderr, "sgemm-peak: out of memory\n");
		return 1;
	}
	for (i = 0; i < nn; i++) {
		s = s * 1103515245u + 12345u;
		a[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
		s = s * 1103515245u + 12345u;
		b[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
		c[i] = 0;
	}
	openblas_set_num_threads(threads);
	flop = 2.0 * n * (double)n * n;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f,
	    a, n, b, n, 0.0f, c, n);
	for (r = 0; r < runs; r++) {
		double t0 = mono();

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
		    1.0f, a, n, b, n, 0.0f, c, n);
		t[r] = mono() - t0;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	printf("sgemm_n %d\n", n);
	printf("sgemm_threads %d\n", threads);
	printf("sgemm_best_gflops %.2f\n", flop / t[0] / 1e9);
	printf("sgemm_median_gflops %.2f\n", flop / t[runs / 2] / 1e9);
	/* keep the product alive */
	if (c[nn / 2] == 12345.0f)
		printf("\n");
	free(a);
	free(b);
	free(c);
	free(t);
	return 0;
}
