"""Metrics: memorability (Spearman), YouTube-8M (Hit@1, PERR, GAP), captioning."""
