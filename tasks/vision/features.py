"""The vision task's feature keys, and the shared ones (data/features.py) it reads."""
from data.features import *  # noqa: F403  (the shared keys: every key a task module reads is here)

# -- vision task: the ExampleGen writes these keys for every image --
IMAGE_KEY = "image"  # raw: the encoded file bytes (PNG or JPEG), as a serving client sends them
IMAGE_STATUS_KEY = "image_status"  # raw: IMAGE_OK, or why the file did not decode
IMAGE_OK = "ok"
IMAGE_HEIGHT_KEY = "image_height"  # raw: decoded size and channel count, checked against the schema
IMAGE_WIDTH_KEY = "image_width"
IMAGE_CHANNELS_KEY = "image_channels"
