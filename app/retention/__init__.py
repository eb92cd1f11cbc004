"""Retention, review and disposal (PIRM Code of Practice 2023, formerly MoPI): each record's group and review date,
the review queue, two-person disposal lists, and restriction instead of erasure (DPA 2018 s.47(2))."""
