"""labkit: the support package of the attention & memorability course.

Layers, lowest first (a module never imports from a layer above it):
``core`` → ``data`` / ``caffe`` → ``models`` → ``metrics`` / ``train`` → ``studies`` / ``viz`` → ``course``.
The names below are what every notebook reaches for; the rest lives in the sub-packages.
"""

from labkit.core.assets import AssetError, asset_path, data_dir
from labkit.core.env import device, headless, seed_everything, set_threads
from labkit.core.errors import DataError, LabkitError, ParameterError
from labkit.core.record import record, recorded

__all__ = [
    "AssetError",
    "DataError",
    "LabkitError",
    "ParameterError",
    "asset_path",
    "data_dir",
    "device",
    "headless",
    "record",
    "recorded",
    "seed_everything",
    "set_threads",
]
__version__ = "0.1.0"
