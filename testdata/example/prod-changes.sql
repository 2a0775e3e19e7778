-- y: what users did in production since the fork.
INSERT INTO users (email, name) VALUES ('pam@example.org', 'Pam (prod)'), ('pete@example.org', 'Pete (prod)');
INSERT INTO posts (user_id, category_id, body) VALUES (11, 1, 'prod post by Pam'), (12, 2, 'prod post by Pete');
INSERT INTO comments (post_id, parent_id, body) VALUES (21, NULL, 'prod comment'), (21, 12, 'prod reply');
INSERT INTO categories (slug, title) VALUES ('news', 'News (prod)');
INSERT INTO tags (name) VALUES ('ops');
INSERT INTO post_tags VALUES (21, 3), (22, 1);
INSERT INTO post_tag_votes VALUES (21, 3, 'pam');
BEGIN;
INSERT INTO teams (name, captain_id) VALUES ('green', 4);
INSERT INTO players (team_id, name) VALUES (3, 'pia');
COMMIT;
INSERT INTO documents VALUES ('00000000-0000-4000-8000-0000000000a1', 'prod runbook');
INSERT INTO settings VALUES ('maintenance', 'off');
UPDATE settings SET value = 'dark' WHERE key = 'theme';
UPDATE users SET name = 'user 3 (renamed in prod)' WHERE id = 3;
INSERT INTO audit VALUES ('prod', 'login');
DELETE FROM comments WHERE id = 11;
DELETE FROM post_tags WHERE post_id = 3;
