"""The Lex V2 wire over the bots service."""
