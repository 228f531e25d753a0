/*
 * import-preset.c: named mappings for the formats users bring most. A
 * preset is data: delimiter, header, a --map spec and a few flags; the
 * mapping language is described in import.c and the man page.
 */
#include "config.h"
#include "import.h"

#include <string.h>

/* Optional fields every generic or clickstream file may carry. */
#define GENERIC_OPTIONAL \
	"item=?item|item_id|itemid|product_id|product|sku," \
	"item_name=?item_name|product_name|title," \
	"category=?category|item_category|category_code," \
	"price=?price|unit_price|unitprice," \
	"amount=?amount|revenue|value|total," \
	"quantity=?quantity|qty," \
	"text=?text|review|message|comment," \
	"channel=?channel"

const struct preset import_presets[] = {
	{ "generic", "CSV or JSON Lines with a header; columns found by "
	    "name (customer, time, type, item, amount, ...)", NULL, 1,
	    "customer=?customer|customer_id|customerid|user_id|userid|user|"
	    "visitorid|client_id,"
	    "time=?time|timestamp|ts|event_time|date|datetime|created_at,"
	    "type=?type|event|event_type|event_name|action," GENERIC_OPTIONAL,
	    0 },
	{ "online-retail", "UCI Online Retail (I and II): one row per "
	    "invoice line; C invoices are cancellations", NULL, 1,
	    "customer=CustomerID|Customer ID,time=InvoiceDate,"
	    "type='purchase',item=StockCode,item_name=?Description,"
	    "quantity=Quantity,price=UnitPrice|Price,order=InvoiceNo|Invoice,"
	    "cattr=?Country",
	    PRESET_SKIP_NO_CUSTOMER | PRESET_RETAIL },
	{ "retailrocket", "RetailRocket events.csv: timestamp (ms), "
	    "visitorid, event, itemid, transactionid", NULL, 1,
	    "time=timestamp,customer=visitorid,type=event,item=itemid",
	    0 },
	{ "cdnow", "CDNOW master: customer, YYYYMMDD, CDs, dollars; "
	    "blank-separated, no header", "ws", 0,
	    "customer=1,time=2,quantity=3,amount=4,type='purchase'",
	    0 },
	{ "movielens", "MovieLens ratings.dat (::) or u.data (tab); "
	    "u.item or movies.dat as item catalog", "auto", 0,
	    "customer=1,item=2,attr.rating=3,time=4,type='rating'",
	    PRESET_MOVIELENS },
	{ "sasrec", "SASRec 'user item' lines in time order, no timestamps",
	    "ws", 0, "customer=1,item=2,type='interaction'",
	    PRESET_SEQUENCE },
	{ "clickstream", "user_id, session_id, event, timestamp, extra "
	    "columns kept as attributes", NULL, 1,
	    "customer=user_id,time=timestamp,type=event,"
	    "cattr=?country,cattr=?archetype,cattr=?user_cohort,"
	    "cattr=?acquisition_channel," GENERIC_OPTIONAL,
	    0 },
	{ NULL, NULL, NULL, 0, NULL, 0 }
};

/* The preset named name, or NULL. */
const struct preset *
import_preset(const char *name)
{
	const struct preset *p;

	for (p = import_presets; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}
