"""Card fraud detection on TabFormer-format transactions (rocketce-power issue 7)."""

__version__ = "0.1.0"
