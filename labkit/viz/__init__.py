"""Figures: attention overlays, glimpse paths, distributions, curves, the course map."""
