"""The real parts run locally: servers for tests and `make run`, the camera simulator, the demo."""
