"""The edges of quotaplan: the command-line tool (``api.cli``) and, later, the HTTP API."""
