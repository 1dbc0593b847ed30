"""Ingest: MQTT reports → validation → InfluxDB, acknowledging a message only after its write."""
