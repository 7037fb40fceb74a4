"""PostgreSQL search support; nothing on other databases.

- The pg_trgm and unaccent extensions (Django's ``CreateExtension`` checks
  the vendor itself).
- GIN trigram indexes on ``title`` and ``alternative_title``, for the
  word-similarity operator (``%>``) that finds misspelt titles.
- ``catalog_title.search_document``: the title (weight A), alternative title
  (B) and genre names (C), unaccented, as an English ``tsvector`` with a GIN
  index. Triggers keep it current whatever writes the rows (admin, importers,
  ``genres.set()``, a genre renamed), so a search reads it instead of building
  nine thousand vectors per query. It is not a model field: Django never
  writes it, and on SQLite it does not exist.
- pg_trgm declares its word-similarity operators as cheap as an integer
  comparison, so the planner prefers a sequential scan that computes the
  similarity for every title (about 30 ms on ml-latest-small) to the trigram
  index (about 4 ms). Their declared cost is raised to what they cost (when
  the extension is ours to alter; otherwise search still works, slower).

These objects use operator classes, transition tables and functions only
PostgreSQL has, so they are created by SQL run only there and are not part of
the model state.
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

FORWARDS = """
CREATE INDEX IF NOT EXISTS catalog_title_title_trgm
    ON catalog_title USING gin (title gin_trgm_ops);
CREATE INDEX IF NOT EXISTS catalog_title_alternative_title_trgm
    ON catalog_title USING gin (alternative_title gin_trgm_ops);

DO $$
BEGIN
    ALTER FUNCTION word_similarity_op(text, text) COST 100;
    ALTER FUNCTION word_similarity_commutator_op(text, text) COST 100;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm belongs to another role; its costs stay as they are';
END
$$;

ALTER TABLE catalog_title ADD COLUMN search_document tsvector;

CREATE FUNCTION catalog_title_search_document(
    doc_title text, doc_alternative text, doc_title_id bigint
) RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', unaccent(coalesce(doc_title, ''))), 'A')
        || setweight(to_tsvector('english', unaccent(coalesce(doc_alternative, ''))), 'B')
        || setweight(to_tsvector('english', coalesce((
            SELECT string_agg(g.name, ' ')
            FROM catalog_title_genres tg JOIN catalog_genre g ON g.id = tg.genre_id
            WHERE tg.title_id = doc_title_id
        ), '')), 'C')
$$;

CREATE FUNCTION catalog_title_search_document_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document := catalog_title_search_document(
        NEW.title, NEW.alternative_title, NEW.id
    );
    RETURN NEW;
END
$$;

CREATE TRIGGER catalog_title_search_document
    BEFORE INSERT OR UPDATE OF title, alternative_title ON catalog_title
    FOR EACH ROW EXECUTE FUNCTION catalog_title_search_document_row();

CREATE FUNCTION catalog_title_genres_search_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE catalog_title t
        SET search_document = catalog_title_search_document(
            t.title, t.alternative_title, t.id
        )
        WHERE t.id IN (SELECT title_id FROM new_rows);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE catalog_title t
        SET search_document = catalog_title_search_document(
            t.title, t.alternative_title, t.id
        )
        WHERE t.id IN (SELECT title_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER catalog_title_genres_search_document_insert
    AFTER INSERT ON catalog_title_genres REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_title_genres_search_document();
CREATE TRIGGER catalog_title_genres_search_document_update
    AFTER UPDATE ON catalog_title_genres
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_title_genres_search_document();
CREATE TRIGGER catalog_title_genres_search_document_delete
    AFTER DELETE ON catalog_title_genres REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_title_genres_search_document();

CREATE FUNCTION catalog_genre_search_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_title t
    SET search_document = catalog_title_search_document(
        t.title, t.alternative_title, t.id
    )
    WHERE t.id IN (
        SELECT title_id FROM catalog_title_genres WHERE genre_id = NEW.id
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER catalog_genre_search_document
    AFTER UPDATE OF name ON catalog_genre
    FOR EACH ROW EXECUTE FUNCTION catalog_genre_search_document();

UPDATE catalog_title
SET search_document = catalog_title_search_document(title, alternative_title, id);

CREATE INDEX catalog_title_search_document
    ON catalog_title USING gin (search_document);
"""

BACKWARDS = """
DROP TRIGGER IF EXISTS catalog_genre_search_document ON catalog_genre;
DROP FUNCTION IF EXISTS catalog_genre_search_document();
DROP TRIGGER IF EXISTS catalog_title_genres_search_document_insert
    ON catalog_title_genres;
DROP TRIGGER IF EXISTS catalog_title_genres_search_document_update
    ON catalog_title_genres;
DROP TRIGGER IF EXISTS catalog_title_genres_search_document_delete
    ON catalog_title_genres;
DROP FUNCTION IF EXISTS catalog_title_genres_search_document();
DROP TRIGGER IF EXISTS catalog_title_search_document ON catalog_title;
DROP FUNCTION IF EXISTS catalog_title_search_document_row();
DROP FUNCTION IF EXISTS catalog_title_search_document(text, text, bigint);
ALTER TABLE catalog_title DROP COLUMN IF EXISTS search_document;
DO $$
BEGIN
    ALTER FUNCTION word_similarity_op(text, text) COST 1;
    ALTER FUNCTION word_similarity_commutator_op(text, text) COST 1;
EXCEPTION WHEN insufficient_privilege OR undefined_function THEN
    NULL;
END
$$;
DROP INDEX IF EXISTS catalog_title_alternative_title_trgm;
DROP INDEX IF EXISTS catalog_title_title_trgm;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunPython(forwards, backwards),
    ]
