"""The validation gate: Pandera decides what gets published."""
