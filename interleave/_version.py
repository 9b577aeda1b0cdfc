"""The package version (the schedule ID format is versioned separately)."""

__version__ = "0.1.0"
