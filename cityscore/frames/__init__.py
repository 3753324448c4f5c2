"""The shapes of the DataFrames every layer passes: the metric catalog's frames and dates (pandas, no SQL)."""
