"""Every foreign key has an index leading with its columns: removing a force's rows (a move, an offboarding)
deletes every parent row, and each deletion looks for rows still referring to it (migration 0022)."""
from __future__ import annotations

UNINDEXED_FOREIGN_KEYS = """
    SELECT c.conrelid::regclass::text || ' (' || array_to_string(array(
               SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n), ', ') || ')'
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conparentid = 0 AND c.connamespace = 'public'::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                      AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                      AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
    ORDER BY 1
"""


def test_every_foreign_key_has_an_index_leading_with_its_columns(superuser):
    assert [row[0] for row in superuser.execute(UNINDEXED_FOREIGN_KEYS)] == []
