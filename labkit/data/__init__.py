"""Data layer: loaders and dataset builders for images, LaMem, MemCat, MNIST, YouTube-8M, captions."""
