"""The daily report: what its notebook calls (``notebook``), the run that publishes it, the archive.

The package imports nothing on its own: ``cityscore report`` runs ``publish`` (papermill starts a
kernel for the notebook), and its own process never needs IPython or Altair.
"""
