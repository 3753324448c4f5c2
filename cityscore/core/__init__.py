"""The bottom layer: vocabulary, errors, settings, secrets, files and dates, on the standard library only."""
