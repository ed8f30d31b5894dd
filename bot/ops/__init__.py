"""Operating corobot: Prometheus metrics, a health endpoint, and the loop-lag probe (`metrics.py`, `server.py`,
`metered.py`).  Nothing here is needed to run corobot; `ops.listen` turns the endpoint on."""
