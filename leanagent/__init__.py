"""leanagent."""
