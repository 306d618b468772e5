# Two hours of web events with one planted case per alert scenario, for tests/alert.bats.
# Deterministic (its own generator, exact in doubles), so every awk writes the same bytes.
#
# Background, which no rule below may fire on:
#   one event a second from 50 users; a user's page never equals their last
#   one; sessions are 10-minute blocks (about 12 events each); a quarter of
#   events are clicks (about 15 a minute); purchases are worth under 500;
#   hosts web1..web4 in turn; a temperature sensor every 10 s, smooth with
#   noise of at most 0.5.
# Planted:
#   bot       user_bot, session_bot: 150 events from 01:00:00 to 01:04:58
#   repeat    user_rep: home, checkout, checkout, checkout, home at 00:30:00..04
#   burst     60 more clicks from 00:50:00 to 00:50:59 (one a second)
#   purchase  user_big buys for 2500 at 01:20:00, then views at 01:20:05
#   silent    web3 sends nothing from 01:00:00 on (its turns go to web4)
#   anomaly   the sensor reads 15 degrees high at 01:06:40 (reading 400)
function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
function ts(s) { return sprintf("2024-03-15T%02d:%02d:%02dZ", 10 + int(s / 3600), int(s / 60) % 60, s % 60) }
function ev(s, user, sess, page, action, value, host) {
	printf "{\"timestamp\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\",\"page\":\"%s\",\"action\":\"%s\",\"value\":%s,\"host\":\"%s\"}\n",
	    ts(s), user, sess, page, action, value, host
}
function nextpage(u,    p) {
	p = (last[u] + 1 + int(rnd() * 4)) % 5
	last[u] = p
	return pages[p]
}
BEGIN {
	seed = 42
	split("home products cart checkout help", tmp, " ")
	for (i = 0; i < 5; i++) pages[i] = tmp[i + 1]
	split("view scroll click view", acts, " ")
	for (s = 0; s < 7200; s++) {
		u = "user_" (1 + int(rnd() * 50))
		r = rnd()
		act = r < 0.25 ? "click" : r < 0.5 ? "scroll" : r < 0.95 ? "view" : "purchase"
		val = act == "purchase" ? sprintf("%.2f", rnd() * 499) : "0"
		host = "web" (1 + s % 4)
		if (s >= 3600 && host == "web3") host = "web4"
		ev(s, u, "s_" u "_" int(s / 600), nextpage(u), act, val, host)
		if (s >= 3600 && s < 3900 && s % 2 == 0)
			ev(s, "user_bot", "session_bot", nextpage("user_bot"), "view", 0, "web1")
		if (s >= 1800 && s < 1805)
			ev(s, "user_rep", "s_rep", s == 1800 || s == 1804 ? "home" : "checkout", "view", 0, "web1")
		if (s >= 3000 && s < 3060)
			ev(s, "user_" (1 + s % 50), "s_burst", nextpage("user_" (1 + s % 50)), "click", 0, "web2")
		if (s == 4800)
			ev(s, "user_big", "s_big", "checkout", "purchase", "2500.00", "web2")
		if (s == 4805)
			ev(s, "user_big", "s_big", "home", "view", 0, "web2")
		if (s % 10 == 0) {
			n = s / 10
			temp = 70 + 2 * sin(n / 50) + (rnd() - 0.5)
			if (n == 400) temp += 15
			printf "{\"timestamp\":\"%s\",\"sensor\":\"s1\",\"temp\":%.3f}\n", ts(s), temp
		}
	}
}
