-- A migration, then z: development's seed and feature rows.
ALTER TABLE users ADD COLUMN created_at text DEFAULT 'before-merge';
ALTER TABLE posts ADD COLUMN title text;
INSERT INTO users (email, name) VALUES ('dan@example.org', 'Dan (dev)'), ('dee@example.org', 'Dee (dev)'), ('dot@example.org', 'Dot (dev)');
INSERT INTO categories (slug, title) VALUES ('news', 'News (dev)'), ('releases', 'Releases');
INSERT INTO posts (user_id, category_id, body, title) VALUES (11, 3, 'dev post by Dan', 'hello'), (13, 4, 'dev post by Dot', 'v2');
INSERT INTO comments (post_id, parent_id, body) VALUES (22, NULL, 'dev comment'), (22, 12, 'dev reply'), (21, 13, 'dev reply 2');
INSERT INTO tags (name) VALUES ('release'), ('ops');
INSERT INTO post_tags VALUES (21, 3), (22, 4), (1, 3);
BEGIN;
INSERT INTO teams (name, captain_id) VALUES ('yellow', 4);
INSERT INTO players (team_id, name) VALUES (3, 'dev player');
COMMIT;
INSERT INTO documents VALUES ('00000000-0000-4000-8000-0000000000d1', 'dev design doc');
INSERT INTO settings VALUES ('feature_x', 'on');
INSERT INTO audit VALUES ('dev', 'seed'), ('base', 'created');
UPDATE settings SET value = 'en-GB' WHERE key = 'lang';
UPDATE users SET name = 'user 3 (renamed in dev)' WHERE id = 3;
UPDATE categories SET title = 'Help & support' WHERE slug = 'help';
