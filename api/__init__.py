"""The API: live status (later uptime, incidents, criteria) for leaders, technicians, auditors."""
