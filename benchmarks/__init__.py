"""Benchmarks of the scoring engine against DuckDB SQL and the reference implementation (`make bench`)."""
