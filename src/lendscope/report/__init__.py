"""The quarterly report: findings, charts, HTML and PDF."""
