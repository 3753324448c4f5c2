"""Applications on top of the Kit: the explorer, widgets, training, sync, the report run and city folders."""
