/* Lines the fuzzer found where the scanner and jansson disagreed, kept as test rows (included by test_record_diff.c). */
