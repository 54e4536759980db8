"""Evaluation: benchmark loaders and backends, official-protocol scoring, optional LLM judge."""
