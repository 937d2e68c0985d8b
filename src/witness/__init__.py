"""A witness outside the service's database: it countersigns checkpoints that extend the last
one it countersigned, refuses the rest, and keeps its own history (decision 017)."""
