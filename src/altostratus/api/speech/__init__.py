"""The Polly wire over the speech service."""
