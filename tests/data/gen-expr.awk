# gen-expr.awk: N seeded web events for the expr differential test (awk -v n=10000 -v seed=42 -f gen-expr.awk).
# Every field has one type in every record, so jq's ordering of mixed types never matters;
# "coupon" is present in some records only, for has() and null equality.
BEGIN {
	srand(seed);
	split("home products cart checkout search Home CART", pages, " ");
	split("click view purchase scroll", actions, " ");
	split("a b c d", letters, " ");
	for (i = 1; i <= n; i++) {
		page = pages[int(rand() * 7) + 1];
		action = actions[int(rand() * 4) + 1];
		cents = int(rand() * 10001);
		if (rand() < 0.2)
			value = sprintf("%d", int(cents / 100));
		else
			value = sprintf("%d.%02d", int(cents / 100), cents % 100);
		k = int(rand() * 20);
		nt = int(rand() * 4);
		tags = "";
		for (t = 1; t <= nt; t++)
			tags = tags (t > 1 ? "," : "") "\"" letters[int(rand() * 4) + 1] "\"";
		flag = rand() < 0.5 ? "true" : "false";
		age = 18 + int(rand() * 60);
		coupon = rand() < 0.3 ? sprintf(",\"coupon\":\"C%d\"", int(rand() * 5)) : "";
		printf("{\"id\":%d,\"user\":{\"id\":\"user_%d\",\"age\":%d},\"page\":\"%s\",\"action\":\"%s\"," \
		    "\"value\":%s,\"n\":%d,\"svalue\":\"%s\",\"flag\":%s,\"tags\":[%s]," \
		    "\"session\":\"s_%d\",\"odd key\":%d,\"nested\":{\"a\":{\"b\":%d}}%s}\n",
		    i, int(rand() * 50), age, page, action, value, k, value, flag, tags,
		    int(rand() * 300), k % 2, int(rand() * 5), coupon);
	}
}
