"""What readers see: text and HTML tables, charts, area views and the daily report's content."""
