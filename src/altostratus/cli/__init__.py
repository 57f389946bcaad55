"""The `alto` command line: run the platform, manage access keys, move data in and out of the lake."""
