"""Text to speech: voices, engines, SSML, lexicons, speech marks, audio formats and synthesis tasks."""
