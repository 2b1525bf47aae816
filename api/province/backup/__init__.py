"""Backup, restore and reconciliation of one province (issue #15): see docs/backup.md."""
