"""The text task's feature keys, and the shared ones (data/features.py) it reads."""
from data.features import *  # noqa: F403  (the shared keys: every key a task module reads is here)

# -- text task: the ExampleGen writes these keys whatever the CSV's column names are --
TEXT_KEY = "text"  # raw text (bytes)
TEXT_PASSTHROUGH_KEY = "text_raw"  # transformed: the raw text, unchanged, for the bag-of-n-grams challenger
LENGTH_BUCKET_KEY = "length_bucket"  # raw "short" | "medium" | "long" (word count), for slicing
LENGTH_BUCKETS = ("short", "medium", "long")
TOKEN_VOCABULARY = "tokens"  # name of the Transform's token vocabulary
PADDING_ID = 0  # like keras.layers.TextVectorization
OOV_ID = 1
