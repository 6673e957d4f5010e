"""The four services of the work-order platform."""
