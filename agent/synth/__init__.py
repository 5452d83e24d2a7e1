"""Synthesize: propose skill code for a step (offline building blocks or an LLM)."""
