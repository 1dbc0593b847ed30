"""The gateway: Mosquitto's configuration, credentials and ACL (grows with issue #5)."""
