# Generate N Zeek-DNS-like records, deterministically (seed S): most are new
# queries; some repeat an earlier record with only "ts" and "_write_ts" new (the
# duplicates Zeek writes), some of those with their keys in another order, and
# some repeat one with another "rtt" too (not a duplicate).  Each has a nested
# "conn" object and a flat Zeek name "id.orig_p"; with -v NESTED=1 some repeats
# also have another "conn.ts" and "id.orig_p".
# awk -v N=3000 -v S=7 [-v NESTED=1] -f dedupe-zeek.awk
function rec(i, t, w, order, ct, port,   q) {
	q = "\"query\":\"" Q[i] "\",\"qtype_name\":\"" QT[i] "\",\"rtt\":" RTT[i] ",\"answers\":[\"" A[i] "\"],\"TTLs\":[" TTL[i] "]"
	if (order)
		return "{" q ",\"uid\":\"" U[i] "\",\"conn\":{\"proto\":\"udp\",\"ts\":" ct "},\"id.orig_p\":" port ",\"ts\":\"" t "\",\"_write_ts\":\"" w "\",\"_path\":\"dns\"}"
	return "{\"_path\":\"dns\",\"_write_ts\":\"" w "\",\"ts\":\"" t "\",\"uid\":\"" U[i] "\",\"id.orig_p\":" port ",\"conn\":{\"ts\":" ct ",\"proto\":\"udp\"}," q "}"
}
function stamp(s) { return sprintf("2018-03-24T17:%02d:%02d.%06dZ", int(s / 60) % 60, s % 60, int(rand() * 1000000)) }
BEGIN {
	srand(S)
	n = 0
	for (s = 0; s < N; s++) {
		r = rand()
		j = int(rand() * n)
		if (n > 0 && r < 0.3)		# a Zeek duplicate: new times only
			print rec(j, stamp(s), stamp(s), rand() < 0.3, CT[j], P[j])
		else if (NESTED && n > 0 && r < 0.4)	# new times, conn.ts and id.orig_p too
			print rec(j, stamp(s), stamp(s), 0, CT[j] + 1 + int(rand() * 5), P[j] + 1)
		else if (n > 0 && r < 0.45) {	# another rtt: a new record
			RTT[n] = RTT[j] + 0.0001; Q[n] = Q[j]; QT[n] = QT[j]; A[n] = A[j]; TTL[n] = TTL[j]
			U[n] = U[j]; P[n] = P[j]; CT[n] = CT[j]
			print rec(n, stamp(s), stamp(s), 0, CT[n], P[n]); n++
		} else {
			Q[n] = "host" int(rand() * 400) ".example.org"; QT[n] = rand() < 0.5 ? "A" : "AAAA"
			RTT[n] = sprintf("%.6f", 0.000101 + int(rand() * 9000) / 1000000)
			A[n] = "10.0." int(rand() * 256) "." int(rand() * 256); TTL[n] = int(rand() * 3600)
			U[n] = "C" int(rand() * 100000000); P[n] = 1024 + int(rand() * 60000); CT[n] = s
			print rec(n, stamp(s), stamp(s), 0, CT[n], P[n]); n++
		}
	}
}
