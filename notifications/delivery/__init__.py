"""The delivery engine: policy.py (what every answer means), leases.py (claiming rows),
results.py (recording attempts), dispatcher.py (the sweep that ties them together)."""
