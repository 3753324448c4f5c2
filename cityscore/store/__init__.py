"""The SQL store: schema, engines and locks, reads, writes and the audit trail."""
