/*
 * store-int.h: what the store*.c files share. Not for other modules.
 */
#ifndef JS_STORE_INT_H
#define JS_STORE_INT_H
#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3		*db;
	char		*path;
	int		 from_version;	/* schema version found on open */
	int		 readonly;
};

/* The page cache of a writable store (256 MiB at most). */
#define STORE_CACHE_PRAGMA	"PRAGMA cache_size = -262144"

/* The index of one customer's events by time (dropped and rebuilt by a
 * first import). */
#define STORE_EVENTS_INDEX \
	"CREATE INDEX events_customer_ts ON events(customer_id, ts)"

/* The indexes that list customers (schema v1 and v3), dropped and
 * rebuilt by a first import too: t-store checks that the rebuilt ones
 * are the migrations' own. */
#define STORE_CUSTOMER_INDEXES_DROP \
	"DROP INDEX customers_last; DROP INDEX customers_spend; " \
	"DROP INDEX customers_events; DROP INDEX customers_first"
#define STORE_CUSTOMER_INDEXES \
	"CREATE INDEX customers_last ON customers(last_ts);" \
	"CREATE INDEX customers_spend ON customers(spend);" \
	"CREATE INDEX customers_events ON customers(n_events);" \
	"CREATE INDEX customers_first ON customers(first_ts)"

/* 1 when the store holds no events, 0 when it does, -1 on error. */
int	store_is_empty(struct store *);
/* ERR_DB with the connection's message, prefixed by what; returns -1. */
int	store_dberr(struct store *, struct err *, const char *what);
/* Prepare sql or fill e; NULL on error. */
sqlite3_stmt *store_prepare(struct store *, const char *sql, struct err *);
/* Run statements without results. */
int	store_exec(struct store *, const char *sql, struct err *);
/* Step a statement to SQLITE_DONE and reset it. */
int	store_step_done(struct store *, sqlite3_stmt *, struct err *,
	    const char *what);

#endif
