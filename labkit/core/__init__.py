"""Lowest layer: reproducibility, devices, bundled assets and recorded metrics. Imports nothing above."""
