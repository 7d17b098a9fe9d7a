"""The speech task's feature keys, and the shared ones (data/features.py) it reads."""
from data.features import *  # noqa: F403  (the shared keys: every key a task module reads is here)

# -- speech task: the ExampleGen writes these keys for every clip (FILE_KEY names it) --
AUDIO_KEY = "audio"  # raw: the WAV file's bytes, as a serving client sends them
TRANSCRIPT_KEY = "transcript"  # raw: what is said, lower case (the label); the serving output's name too
SPEAKER_KEY = "speaker"  # raw: who speaks ("" when unknown), for speaker-disjoint splits and slicing
AUDIO_STATUS_KEY = "audio_status"  # raw: AUDIO_OK, or why the WAV did not decode
AUDIO_OK = "ok"
TRANSCRIPT_STATUS_KEY = "transcript_status"  # raw: TRANSCRIPT_OK, or "empty" / the characters outside the alphabet
TRANSCRIPT_OK = "ok"
DURATION_MS_KEY = "duration_ms"  # raw: the clip's length in milliseconds, checked against the schema's range
SAMPLE_RATE_KEY = "sample_rate"  # raw: the file's own rate (resampled in Transform)
AUDIO_CHANNELS_KEY = "audio_channels"  # raw: the file's channels (mixed down in Transform)
SPECTROGRAM_KEY = "spectrogram"  # transformed: (frames, mel_bins) standardized log-mel
FRAMES_KEY = "frames"  # transformed: the number of real (unpadded) spectrogram frames
CHARACTERS_KEY = "characters"  # transformed: the transcript as character ids, 1-based, 0-padded (CTC blank = 0)
GREEDY_TRANSCRIPT_KEY = "greedy_transcript"  # evaluation output: the candidate's logits read greedily (any spelling)
