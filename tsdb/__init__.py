"""InfluxDB access shared by ingest (writes) and the API (reads).

One write path (line protocol over the v1 ``/write``; InfluxDB 1.x, and 2.x through its v1
endpoint) and one read language (InfluxQL over ``/query``), with escaping done here and only here.
"""
