"""Inputs and outputs as files: CSV and workbook readers, each input format, exports, score files, the demo city."""
