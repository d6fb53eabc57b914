// Keeps sse_test_support a valid library before any shared test helper exists.
