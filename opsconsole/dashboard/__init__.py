"""The operator dashboard: the admin index with live figures of the four domains."""
