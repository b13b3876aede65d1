"""wangge (网格): grid-based city governance platform."""
