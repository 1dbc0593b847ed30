"""The catalog: the SQL database shared by api and alerts.

Places, agents, devices and their maintenance, users, incidents with their deliveries, criteria
evidence, and the append-only audit log; its migrations (``python -m catalog migrate``).
"""
