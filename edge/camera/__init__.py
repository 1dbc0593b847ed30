"""Camera image health: is the picture usable, not just is the stream up.

``health`` judges one frame against the camera's reference frame, ``confirm`` holds a fault back
until consecutive probes agree, ``grade`` turns the last hour into a grade for village leaders,
``reference`` stores the reference on the agent, ``monitor`` ties them together for a probe.
``python -m edge.camera analyze`` runs the same analysis on files, for operators and benchmarks.
"""
