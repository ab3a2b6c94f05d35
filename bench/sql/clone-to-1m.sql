-- A shortcut to the 1M-entry PostgreSQL data set of issue #7, for the filtered-list target,
-- when seeding 1M entries through the write path (`bench/run --size large`, 15-40 min on a
-- 2-core machine) is too long. Run it on a database seeded with
--   cit seed-bulk --tenants 100 --entries 300
-- It copies each tenant's generated news items (`notizia`) within the tenant, 43 times, with new
-- ids and slugs and publication dates a week apart per copy, so that every tenant has about
-- 10,000 entries whose references (argomenti, related_services) point at its own entries. Each
-- copy gets its original's search document too (else `cit serve` would index the copies at
-- start); the copies have no revision or audit line, which reads do not need.
--   psql -v ON_ERROR_STOP=1 -d cit_large -f bench/sql/clone-to-1m.sql
\timing on
BEGIN;
CREATE TEMPORARY TABLE copies ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, e.id AS original, g
FROM entries e CROSS JOIN generate_series(1, 43) AS g
WHERE e.type_id = 'notizia' AND e.slug LIKE 'bench-%';
INSERT INTO entries (id, tenant_id, type_id, locale, translation_group, slug, status, data, publish_at,
                     unpublish_at, published_at, created_at, updated_at, author, revision)
SELECT c.id, e.tenant_id, e.type_id, e.locale, c.id, left(e.slug, 190) || '-c' || c.g, e.status, e.data,
       e.publish_at, e.unpublish_at, e.published_at - c.g * interval '7 days', e.created_at, e.updated_at,
       e.author, e.revision
FROM copies c JOIN entries e ON e.id = c.original;
INSERT INTO search_documents (entry_id, tenant_id, type_id, locale, status, topics, title, body, title_stems,
                              body_stems)
SELECT c.id, d.tenant_id, d.type_id, d.locale, d.status, d.topics, d.title, d.body, d.title_stems, d.body_stems
FROM copies c JOIN search_documents d ON d.entry_id = c.original;
COMMIT;
ANALYZE;
SELECT count(*) AS entries, count(DISTINCT tenant_id) AS tenants,
       (SELECT count(*) FROM search_documents) AS search_documents
FROM entries;
