# gen-set.awk: N seeded records for the --set differential tests (awk -v n=2000 -v seed=7 -f gen-set.awk).
# Numbers of every shape (integers, fractions, negatives, halves for round), epoch times,
# (the test adds ISO times with jq), strings with digits, spaces, punctuation and non-ASCII letters; some fields
# missing or of another type, so that jq's errors are exercised too.
BEGIN {
	srand(seed);
	split("GET POST PUT DELETE", methods, " ");
	split("/api/v1/users /static/app.js /index.html /api/v2/orders?id=7 /search?q=caf%C3%A9 /", paths, " ");
	split("alpha Beta_9 gamma-ray déjà vu ÉCOLE naïve x", words, " ");
	for (i = 1; i <= n; i++) {
		price = sprintf("%d.%02d", int(rand() * 500), int(rand() * 100));
		if (rand() < 0.1)
			price = sprintf("%d.5", int(rand() * 20) - 10);
		amount = int(rand() * 100) - 10;
		status = split("200 201 204 301 304 400 403 404 500 503", st, " ");
		status = st[int(rand() * 10) + 1];
		t = 946684800 + int(rand() * 4000000000);
		frac = rand() < 0.3 ? sprintf(".%d", int(rand() * 1000)) : "";
		w = words[int(rand() * 8) + 1] " " words[int(rand() * 8) + 1];
		# Now and then a value jq cannot compute with: a string price, a missing amount.
		pf = rand() < 0.05 ? "\"n/a\"" : price;
		af = rand() < 0.05 ? "" : sprintf(",\"amount\":%d", amount);
		printf("{\"id\":%d,\"method\":\"%s\",\"path\":\"%s\",\"status\":%s,\"price\":%s%s," \
		    "\"bytes\":%d,\"t\":%.0f%s,\"w\":\"%s\",\"ip\":\"10.%d.%d.%d\"}\n",
		    i, methods[int(rand() * 4) + 1], paths[int(rand() * 6) + 1], status, pf, af,
		    int(rand() * 5000000), t, frac, w, int(rand() * 256), int(rand() * 256), int(rand() * 256));
	}
}
