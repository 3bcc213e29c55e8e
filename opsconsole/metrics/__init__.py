"""GET /metrics: Prometheus figures for the whole deployment, read from the database and the shared cache.

- counters.py: the counter table every process adds to, in the transaction of the event;
- registry.py: each app's `metrics.py` registers the families it knows (like dashboard.py);
- collector.py: a prometheus_client Collector that builds the families at scrape time;
- views.py: the view, its bearer token and its answer when the database is down.
"""
