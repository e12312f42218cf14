"""Crystal structures: reading, space-group detection and standardization to the BCS setting."""
