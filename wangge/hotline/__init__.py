"""The 12345 hotline desk (坐席): caller history by phone, quick entry, linking a caller to a case."""
