"""The edges of quotaplan: the command-line tool (``api.cli``) and the HTTP API
(``api.app.create_app``), with its storage (``api.storage``)."""
