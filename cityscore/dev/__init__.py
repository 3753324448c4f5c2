"""Tools for the kit's developers (re-executing the notebooks), not imported by the kit."""
