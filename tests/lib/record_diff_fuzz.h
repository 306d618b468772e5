/* Lines the fuzzer found where the scanner and jansson disagreed, kept as rows of test_record_diff.c (included inside its table). */
	/* A 20-digit mantissa whose accumulator wraps to exactly 0 was read as 0 by the fast path. */
	C("{\"usid\":\"u00=3\",\"sed\":\"\",\"\":\"296083\",\"sioid\":\"\",\"asilue\":0.00092233720368547758080}\n"),
	C("{\"a\":92233720368547758080e-5}"), C("{\"a\":-0.92233720368547758080}"),
	C("{\"a\":1844674407370955161600}"), C("{\"a\":18446744073709551616e-20}"),
