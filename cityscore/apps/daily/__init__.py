"""The morning run (``cityscore daily``): sync, score, report, publish, alert and notify, one run at a time.

``run.daily`` runs the steps; ``lock`` keeps a second run waiting, ``runlog`` writes one JSON line
per step, ``publish`` copies the reports to a web folder atomically, ``sources`` syncs each source
on its own so one failing source stops nothing, ``notify`` hands the digest, alerts and webhook to
``apps.notify``.
"""
