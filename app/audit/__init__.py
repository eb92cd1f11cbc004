"""The audit trail (DPA 2018 Part 3 s.62): written in the same transaction as the action it records."""
