# gen-events.awk: N generic CSV event rows over C customers, deterministic.
# usage: awk -v n=1000000 -v c=20000 -f gen-events.awk > events.csv
BEGIN {
	srand(42)
	split("page_view product_view cart_add purchase email_open search", types, " ")
	print "customer,time,type,item,amount,channel"
	t0 = 1704067200		# 2024-01-01T00:00:00Z
	for (i = 0; i < n; i++) {
		cu = int(rand() * c)
		ty = types[1 + int(rand() * 6)]
		ts = t0 + int(rand() * 365 * 86400)
		item = "SKU" int(rand() * rand() * 5000)
		amt = ty == "purchase" ? sprintf("%.2f", 1 + rand() * 200) : ""
		ch = rand() < 0.5 ? "web" : "app"
		printf "C%06d,%s,%s,%s,%s,%s\n", cu, strftime("%Y-%m-%dT%H:%M:%SZ", ts, 1), ty, item, amt, ch
	}
}
