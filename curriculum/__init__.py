"""Curriculum: theorem difficulty (e^S), easy / medium / hard buckets, repository order."""

from curriculum.difficulty import Thresholds, bucket, difficulty, log_difficulty, thresholds
from curriculum.order import Curriculum, RepoDifficulty, build_curriculum, random_order

__all__ = [
    "Curriculum", "RepoDifficulty", "Thresholds", "build_curriculum", "bucket", "difficulty",
    "log_difficulty", "random_order", "thresholds",
]
