"""Bots: intent-oriented conversations with slots, dialog and fulfilment (the domain behind Lex V2)."""
