"""The wire contract shared by the edge agent and the server side.

Only pydantic and the standard library here: the agent imports this on a modest PC.
"""
