"""The API's blueprints, one per resource, all under ``/v1`` (``meta`` also serves ``/``)."""
