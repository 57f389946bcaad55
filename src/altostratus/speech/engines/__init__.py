"""Speech engines: each speaks a run of words and says where each word and phone fell in its audio."""

from altostratus.speech.engines.speaker import Phone, Speaker, Spoken

__all__ = ["Phone", "Speaker", "Spoken"]
