"""rocketce-ids: NSL-KDD intrusion detection (train, evaluate, serve)."""

__version__ = "1.0.0"
