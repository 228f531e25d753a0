/*
 * cmd-customers.c: journeyscope customers DB -- one page of customers
 * from the per-customer aggregates, sorted, paged by keyset (--after).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "store.h"
#include "util.h"

static const struct opt customers_opts[] = {
	{ "sort", 's', "KEY", "last (default), spend, events or id" },
	{ "asc", 0, NULL, "ascending (default: descending, id ascending)" },
	{ "limit", 'n', "N", "at most N rows (default 20)" },
	{ "after", 0, "ID", "start after this customer (keyset paging)" },
	{ NULL, 0, NULL, NULL }
};

static int
customers_run(int argc, char **argv, struct optval *ov)
{
	static const char *const keys[] = { "last", "spend", "events", "id" };
	const char *sk = opt_str(ov, "sort", "last"), *after;
	struct customer *rows, ref;
	struct store *s;
	struct err e;
	int64_t limit;
	char t0[32], t1[32];
	int key, asc, n, i;

	(void)argc;
	err_clear(&e);
	for (key = 0; key < 4; key++)
		if (strcmp(sk, keys[key]) == 0)
			break;
	if (key == 4) {
		cmd_error("customers: --sort takes last, spend, events or id");
		return 2;
	}
	if (opt_int(ov, "limit", 20, 1, 1000000, &limit, &e) < 0) {
		cmd_error("customers: %s", e.msg);
		return 2;
	}
	asc = opt_isset(ov, "asc") || key == SORT_ID;
	if ((s = cmd_store_open(argv[0], STORE_READONLY, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	after = opt_str(ov, "after", NULL);
	if (after != NULL && (n = store_customer_get(s, after, &ref, &e)) <= 0) {
		cmd_error("%s", n < 0 ? e.msg : "--after: no such customer");
		store_close(s);
		return 1;
	}
	rows = xcalloc((size_t)limit, sizeof(*rows));
	n = store_customers_page(s, (enum store_sort)key, asc,
	    after ? &ref : NULL, rows, (int)limit, &e);
	if (n < 0) {
		cmd_error("%s", e.msg);
		free(rows);
		store_close(s);
		return 1;
	}
	printf("%-16s %8s %-20s %-20s %10s %9s %6s\n", "customer", "events",
	    "first seen", "last seen", "spend", "purchases", "items");
	for (i = 0; i < n; i++)
		printf("%-16s %8" PRId64 " %-20s %-20s %10.2f %9" PRId64 " %6"
		    PRId64 "\n", rows[i].ext_id, rows[i].n_events,
		    cmd_time(rows[i].first_ts, t0, sizeof(t0)),
		    cmd_time(rows[i].last_ts, t1, sizeof(t1)), rows[i].spend,
		    rows[i].n_purchases, rows[i].n_items);
	free(rows);
	store_close(s);
	return 0;
}

const struct cmd cmd_customers = {
	"customers", "DB", "list customers by last activity, spend or event "
	    "count, a page at a time", customers_opts, customers_run, 1, 1
};
