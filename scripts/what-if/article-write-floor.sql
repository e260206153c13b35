-- What POST /api/articles would cost with nothing but its rows: no live event, no maintained
-- counts, no foreign-key checks. A measurement only, never a schema to run: articles would
-- stop reaching live sockets, the list counts and GET /api/tags would stop counting new
-- articles, and nothing would stop an article outliving its author.
--
--   python3 scripts/bench.py --stores postgres --duration 10 --skip-large --skip-memory \
--       --endpoints POST --sql scripts/what-if/article-write-floor.sql
--
-- docs/performance.md, "The floor of an article's write", has the figures.
DROP TRIGGER live_article_created ON articles;
DROP TRIGGER articles_counted_in ON articles;
DROP TRIGGER article_tags_counted_in ON article_tags;
ALTER TABLE article_tags DROP CONSTRAINT article_tags_article_id_fkey;
ALTER TABLE articles DROP CONSTRAINT articles_author_id_fkey;
