"""The prevention calendar: rules in rules.toml (rules.py reads them and computes one
person's items, with no database), the holder's marks and settings (services.py)."""
