"""Plumbing shared by the server-side services (ingest, alerts, API): settings that stop the
program with the variable's name, the persistent MQTT v5 session both consumers open, and their
``/metrics`` and ``/readyz`` endpoint.
The edge agent does not use it (it must not depend on server-side libraries)."""
