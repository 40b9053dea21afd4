"""The security suite: what a review found, kept fixed (issue #17)."""
