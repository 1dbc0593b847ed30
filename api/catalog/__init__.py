"""The catalog: places, agents, devices, maintenance, users and the audit log (SQL database)."""
