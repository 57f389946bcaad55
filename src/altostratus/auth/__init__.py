"""Access keys and what each role may do."""
