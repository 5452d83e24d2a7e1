"""The LLM side: clients, prompts, reading replies, the goal writer."""
