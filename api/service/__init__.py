"""The use cases, once, for both edges: the command line (``api.cli``) and the HTTP API
(``api.routes``) turn their input into the same typed requests (the pydantic schemas of
``api.schemas``) and tables (DataFrames), call a function here, and render what it returns.

No Flask, no click: what differs between the edges comes in as arguments (how a forecast is
fitted: here in the CLI, in a bounded worker process and remembered in the API; where progress
is reported: a job's record, or nowhere).
"""
