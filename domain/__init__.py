"""The channel-free core: entities, the submission dialog and its services."""
