"""What the report notebook's outputs carry for the publisher: metadata keys, the chart type, the hidden-cell tag."""

VEGALITE_MIME = "application/vnd.vegalite.v6+json"
# Output metadata key that carries the report's key numbers (DailyData.summary) to the command.
SUMMARY_KEY = "cityscore"
# Cells with this tag run (and are checked by nbval) but stay out of the HTML.
HIDE_TAG = "report-hide"
CHART_KEY = "cityscore-chart"  # output metadata key: a chart's description and data table
SECTION_KEY = "cityscore-section"  # output metadata key: the title of a section an output opens
