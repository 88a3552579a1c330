"""The crisis hand-off: its state in a conversation, the holding replies while it waits, staffing."""
